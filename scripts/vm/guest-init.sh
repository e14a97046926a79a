#!/bin/sh
# /init of the vm lane's initramfs (busybox sh). Loads the modules prepare.sh
# packed, mounts the host's root (read-only 9p) under a tmpfs overlay, mounts
# fresh kernel filesystems inside it, runs the job run.sh wrote into the
# results share in a chroot, records its exit status there and powers off.
export PATH=/bin

mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

off() {
  sync
  poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 5
}
fail() {
  echo "vm-init: $*"
  # Before the results share is mounted (a module that would not load), it
  # is tried here, so run.sh sees an init error and does not boot again.
  [ -d /results/.vm ] || mount -t 9p -o trans=virtio,version=9p2000.L results /results 2>/dev/null
  [ -d /results/.vm ] && echo "$*" >/results/.vm/init_error
  off
}

for name in $(cat /modules/order); do
  insmod "/modules/$name.ko" || fail "insmod $name failed"
done

p9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$p9,cache=loose,ro" hostroot /host || fail "mounting the host root (9p hostroot) failed"
mount -t 9p -o "$p9" results /results || fail "mounting the results share (9p results) failed"
[ -f /results/.vm/job.sh ] || fail "no job in the results share (.vm/job.sh)"

# A tmpfs upper layer makes mount points like /results creatable on top of the
# read-only host root.
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/u,workdir=/upper/w /newroot ||
  fail "overlay over the host root failed"

r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $r/tmp
mount -t tmpfs -o mode=0755 tmpfs $r/run
mount -t bpf bpf $r/sys/fs/bpf
mount -t tracefs tracefs $r/sys/kernel/tracing
mount -t securityfs securityfs $r/sys/kernel/security
mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null
# The root cgroup v2, where earshot attaches its cgroup programs (it finds
# the cgroup2 mount in /proc/self/mountinfo).
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup || echo "vm-init: mounting cgroup2 at /sys/fs/cgroup failed"

# A guest with a root of its own (another architecture's userland) gets the
# host's root as a second share, "hostfs": the bind paths come from there.
hostfs=/host
mkdir -p /hostfs
if mount -t 9p -o "$p9,cache=loose,ro" hostfs /hostfs 2>/dev/null; then
  hostfs=/hostfs
fi

# Host paths hidden by the fresh tmpfs mounts (the build tree under /tmp),
# or not in a root of its own, come back at the same absolute path, read-only.
while IFS= read -r path; do
  [ -n "$path" ] || continue
  [ -d "$hostfs$path" ] || fail "bind path $path does not exist on the host"
  mkdir -p "$r$path" && mount --bind "$hostfs$path" "$r$path" || fail "bind-mounting $path failed"
done </results/.vm/binds

# Results: writable at /results and at their host path.
mkdir -p $r/results
mount --bind /results $r/results
host_results=$(cat /results/.vm/results_path)
mkdir -p "$r$host_results" && mount --bind /results "$r$host_results" ||
  fail "bind-mounting the results dir at $host_results failed"

ip link set lo up 2>/dev/null

cwd=$(cat /results/.vm/cwd)
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "vm-init: running job at $(uptime_s)s"
chroot $r /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb LANG=C.UTF-8 EARSHOT_VM=1 \
  /bin/bash -c 'cd "$1" 2>/dev/null || cd /; exec /bin/bash /results/.vm/job.sh' job "$cwd" </dev/null
status=$?
echo "$status" >/results/.vm/status
echo finished >/results/.vm/done
echo "vm-init: job exited with $status at $(uptime_s)s"
off
