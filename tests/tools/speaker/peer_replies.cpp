#include "peer_replies.h"

#include "fetch_schedule.h"

namespace earshot::speaker {

void serve_segment(const StreamRequest& request, const SliceSend& send,
                   const std::atomic<bool>& stop) {
  pace_bytes(send, request.bytes, request.rate, std::chrono::milliseconds(10), stop);
}

void serve_music(const StreamRequest& request, const SliceSend& send,
                 const std::atomic<bool>& stop) {
  std::mt19937 random(request.seed);
  const auto t0 = Clock::now();
  for (const MusicChunk& chunk : music_chunks(request.ms, request.rate, random)) {
    std::this_thread::sleep_until(t0 + chunk.at);
    if (stop) return;
    send(static_cast<std::size_t>(chunk.bytes));
  }
}

void ReplyThreads::start(Reply reply) {
  std::lock_guard lock(lock_);
  // Finished replies are joined here, so a long connection does not pile them up.
  std::erase_if(running_, [](Running& r) {
    if (!*r.finished) return false;
    r.thread.join();
    return true;
  });
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([this, reply = std::move(reply), finished] {
    try {
      reply(stop_);
    } catch (const std::exception&) {
      // The speaker closed or went away mid-reply.
    }
    *finished = true;
  });
  running_.push_back({std::move(thread), std::move(finished)});
}

void ReplyThreads::stop_and_join() {
  stop_ = true;
  std::lock_guard lock(lock_);
  for (auto& r : running_) r.thread.join();
  running_.clear();
}

}  // namespace earshot::speaker
