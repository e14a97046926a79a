# The arm64 rows of the vm lane (included by CMakeLists.txt): Debian's arm64
# kernel (scripts/vm/kernel-debian12_arm64.env) booted with
# qemu-system-aarch64 -machine virt under TCG, on the arm64 root tree
# (scripts/cross/arm64-root.sh), running the arm64 preset's build of earshot
# and of the kernel lane's attribution tests. They are this (build
# machine's) tree's tests: the arm64 tree only builds what the guest runs
# (`cmake --build --preset arm64`); while it is missing the rows are skipped
# and say so.
#
#   debian12_arm64       label vm: the checks the test command runs
#   debian12_arm64_full  label arm64-full: every check of the 6.12 row, on
#                        demand (`ctest --preset default -L arm64-full`)

set(EARSHOT_ARM64_BUILD_DIR ${PROJECT_SOURCE_DIR}/build/arm64 CACHE PATH
    "The arm64 preset's build tree, whose binaries the vm lane's arm64 guest runs")
set(arm64_build ${EARSHOT_ARM64_BUILD_DIR})
set(arm64_earshot ${arm64_build}/userspace/app/earshot)
set(arm64_attribution_test ${arm64_build}/tests/kernel/attribution/attribution_test)
set(arm64_vm_probe ${arm64_build}/bpf/vm_probe.bpf.o)
set(arm64_env ${vm_scripts}/kernel-debian12_arm64.env)
# Under arm64 emulation on a busy host socat's datagrams outlasted a 3 s
# capture, and at load 9 once a 6 s one (the check waits for earshot to have
# counted frames before sending): the capture checks record 10 s.

# The row the test command runs. Under TCG an arm64 guest runs a few times
# slower than the x86 ones, so it checks each question once: what
# --check-config attaches (netfilter, chosen by itself), arecord -D hw: on
# snd-aloop, the daemon's capture opens, frames against what arecord wrote,
# bytes during captures and on an accepted connection (fentry tier), and
# bytes per process over TCP and UDP, IPv4 and IPv6, against nftables
# (netfilter tier).
set(row debian12_arm64)
set(results ${vm_results}-${row})
earshot_vm_row_check(${row} check_config
  ${vm_checks_dir}/check_config_counting_tier.sh ${arm64_earshot} netfilter ${results}/check_config.txt)
earshot_vm_row_check(${row} arecord_hw_capture ${vm_checks_dir}/arecord_hw_capture.sh)
earshot_vm_row_check(${row} earshot_kernel_tier
  EARSHOT_VM_CAPTURE_SECONDS=10 ${vm_checks_dir}/earshot_capture.sh ${arm64_earshot} kernel ${VM_CACHE_DIR})
earshot_vm_row_check(${row} attribution
  ${vm_checks_dir}/gtest.sh ${arm64_attribution_test}
  "'Tiers/AttributionTest.TwoPrograms*/netfilter'"
  ${results}/attribution.xml)
# Measured at host load 3-10 on 2 cores: 81-154 s for the row (boot 7-10 s,
# check_config 8-14 s, arecord 5-7 s, earshot_kernel_tier 35-76 s,
# attribution 25-43 s).
earshot_vm_row(${row} 420 240 KERNEL_ENV ${arm64_env} BUILD_DIR ${arm64_build}
  REQUIRE ${arm64_earshot} ${arm64_attribution_test})

# The full set, on demand: the 6.12 row's checks as they are.
set(row debian12_arm64_full)
set(results ${vm_results}-${row})
set(full_checks alsa_present arecord_hw_capture bpf_fentry_loads syscall_tier_choice
    earshot_kernel_tier earshot_lsm_tier earshot_lower_tiers check_config attribution)
earshot_vm_row_check(${row} alsa_present ${vm_checks_dir}/alsa_present.sh)
earshot_vm_row_check(${row} arecord_hw_capture ${vm_checks_dir}/arecord_hw_capture.sh)
earshot_vm_row_check(${row} bpf_fentry_loads ${vm_checks_dir}/bpf_fentry_loads.sh ${arm64_vm_probe})
earshot_vm_row_check(${row} syscall_tier_choice ${vm_checks_dir}/syscall_tier_choice.sh ${arm64_earshot})
earshot_vm_row_check(${row} earshot_kernel_tier
  EARSHOT_VM_CAPTURE_SECONDS=10 ${vm_checks_dir}/earshot_capture.sh ${arm64_earshot} kernel ${VM_CACHE_DIR})
earshot_vm_row_check(${row} earshot_lsm_tier
  EARSHOT_VM_CAPTURE_SECONDS=10 ${vm_checks_dir}/earshot_capture.sh ${arm64_earshot} lsm ${VM_CACHE_DIR})
earshot_vm_row_check(${row} earshot_lower_tiers
  EARSHOT_VM_CAPTURE_SECONDS=10 ${vm_checks_dir}/earshot_capture.sh ${arm64_earshot} lower ${VM_CACHE_DIR})
earshot_vm_row_check(${row} check_config
  ${vm_checks_dir}/check_config_counting_tier.sh ${arm64_earshot} netfilter ${results}/check_config.txt)
earshot_vm_row_check(${row} attribution
  ${vm_checks_dir}/gtest.sh ${arm64_attribution_test}
  "'Tiers/AttributionTest.TwoPrograms*:Tiers/AttributionTest.BytesOnAnAccepted*:Tiers/AttributionTest.Downloads*:Tiers/TierDifferenceTest.*'"
  ${results}/attribution.xml)
# 324-438 s in the guest at load 9-10 on 2 cores (attribution 159-198 s).
earshot_vm_row(${row} 1500 600 KERNEL_ENV ${arm64_env} BUILD_DIR ${arm64_build}
  REQUIRE ${arm64_earshot} ${arm64_attribution_test} ${arm64_vm_probe})
# On demand only: a label without "vm" in it, which `ctest -L vm` (and so the
# test command) leaves out.
list(TRANSFORM full_checks PREPEND vm_${row}_)
set_tests_properties(vm_${row}_boot ${full_checks} PROPERTIES LABELS arm64-full)

# `ninja vm_prepare` fetches the arm64 kernel and busybox too (and makes the
# arm64 root tree when it is missing).
add_custom_target(vm_prepare_arm64
  COMMAND ${vm_scripts}/prepare.sh --kernel-env ${arm64_env} ${VM_CACHE_DIR}
  USES_TERMINAL VERBATIM)
add_dependencies(vm_prepare vm_prepare_arm64)
