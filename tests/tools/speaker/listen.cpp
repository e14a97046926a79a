#include "listen.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <thread>

#include "action_random.h"
#include "actions.h"
#include "common/error.h"

namespace earshot::speaker {

using std::chrono::milliseconds;

namespace {

std::unique_ptr<Link> connect_link(const ListenOptions& o) {
  auto address = traffic::parse_socket_address(o.peer, o.port);
  const int type = o.proto == Proto::tcp ? SOCK_STREAM : SOCK_DGRAM;
  UniqueFd sock(::socket(address.family(), type | SOCK_CLOEXEC, 0));
  if (!sock) traffic::throw_errno("socket");
  if (o.proto == Proto::tcp && !o.voices.empty()) {
    // A voice frame goes out when it is made, not when Nagle has more.
    int one = 1;
    if (::setsockopt(sock.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
      traffic::throw_errno("TCP_NODELAY");
  }
  if (::connect(sock.get(), address.get(), address.length) != 0) traffic::throw_errno("connect");
  switch (o.proto) {
    case Proto::tcp:
      return make_tcp_link(std::move(sock));
    case Proto::udp:
      return make_udp_link(std::move(sock));
    case Proto::quic:
      return make_quic_link(std::move(sock), o.seed);
  }
  throw Error("no such protocol");
}

// The action threads: each reports its line, or the error that stopped it.
class ActionThreads {
 public:
  void start(std::function<std::string()> action) {
    threads_.emplace_back([this, action = std::move(action)] {
      try {
        std::string line = action();
        std::lock_guard lock(lock_);
        traffic::say(line);
      } catch (const std::exception& e) {
        std::lock_guard lock(lock_);
        if (error_.empty()) error_ = e.what();
      }
    });
  }
  // Joins them all; throws the first error.
  void join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    if (!error_.empty()) throw Error(error_);
  }

 private:
  std::vector<std::thread> threads_;
  std::mutex lock_;  // of stdout and error_
  std::string error_;
};

}  // namespace

int run_listen(const ListenOptions& o, const traffic::Common& common) {
  auto parse_all = [](const std::vector<std::string>& texts) {
    std::vector<Action> actions;
    for (const auto& text : texts) actions.push_back(parse_action(text));
    return actions;
  };
  const auto uploads = parse_all(o.uploads), bursty_uploads = parse_all(o.bursty_uploads),
             downloads = parse_all(o.downloads), voices = parse_all(o.voices),
             segments = parse_all(o.segments), music = parse_all(o.music),
             video_uploads = parse_all(o.video_uploads);

  auto link = connect_link(o);
  const std::size_t keepalive_size = std::max(o.keepalive_size, link->overhead());
  traffic::say("ready");
  traffic::wait_for_go(common);
  UniqueFd device;
  if (!o.device.empty()) {
    device.reset(::open(o.device.c_str(), O_RDONLY | O_CLOEXEC));
    if (!device) traffic::throw_errno("open " + o.device);
  }
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  traffic::say("opened");
  // Tag 0 is the downloads'; then one a segments or music action.
  ReplyCounters replies(1 + segments.size() + music.size());
  const ActionContext context{*link, replies, start};
  ActionThreads threads;
  for (const Action& a : uploads) threads.start([&, a] { return run_upload(context, a); });
  for (std::size_t i = 0; i < bursty_uploads.size(); ++i)
    threads.start([&, i] {
      return run_bursty_upload(context, bursty_uploads[i],
                               seeded_random(o.seed, Draw::bursty_upload, i));
    });
  for (std::size_t i = 0; i < downloads.size(); ++i)
    threads.start([&, i] {
      return run_download(context, downloads[i], seeded_random(o.seed, Draw::download, i));
    });
  for (std::size_t i = 0; i < voices.size(); ++i)
    threads.start([&, i] {
      return run_voice(context, voices[i], milliseconds(o.frame_ms),
                       seeded_random(o.seed, Draw::voice, i));
    });
  for (std::size_t i = 0; i < video_uploads.size(); ++i)
    threads.start([&, i] {
      return run_video_upload(context, video_uploads[i],
                              seeded_random(o.seed, Draw::video_upload, i));
    });
  for (std::size_t i = 0; i < segments.size(); ++i)
    threads.start([&, i] {
      return run_segments(context, segments[i], static_cast<std::uint16_t>(1 + i),
                          seeded_random(o.seed, Draw::segments, i));
    });
  for (std::size_t i = 0; i < music.size(); ++i)
    threads.start([&, i] {
      return run_music(context, music[i], static_cast<std::uint16_t>(1 + segments.size() + i),
                       seeded_random(o.seed, Draw::music, i));
    });
  // What the peer sends back is read, counted (and acked) here.
  std::atomic<bool> done{false};
  std::thread reader([&] { link->receive(done, replies); });
  // The wake-word engine: reads the capture node in ten slices a second;
  // the keep-alive on its own tick.
  std::uint64_t read_bytes = 0;
  std::vector<char> slice(std::max<std::uint64_t>(o.read_rate / 10, 1));
  auto next_read = start;
  auto next_keepalive = start + milliseconds(o.keepalive_ms);
  std::string failure;
  try {
    while (true) {
      auto next = o.keepalive_ms ? std::min(next_read, next_keepalive) : next_read;
      if (next >= end) break;
      std::this_thread::sleep_until(next);
      if (next == next_keepalive && o.keepalive_ms) {
        link->keepalive(keepalive_size);
        next_keepalive += milliseconds(o.keepalive_ms);
        continue;
      }
      if (device) {
        ssize_t got = ::read(device.get(), slice.data(), slice.size());
        if (got > 0) read_bytes += static_cast<std::uint64_t>(got);
      }
      next_read += milliseconds(100);
    }
  } catch (const Error& error) {
    failure = error.what();
  }
  try {
    threads.join();
  } catch (const Error& error) {
    if (failure.empty()) failure = error.what();
  }
  device.reset();
  done = true;
  reader.join();
  if (!failure.empty()) throw Error(failure);
  link->close();
  traffic::say("closed read_bytes=" + std::to_string(read_bytes) +
               " sent_bytes=" + std::to_string(link->sent()));
  return 0;
}

}  // namespace earshot::speaker
