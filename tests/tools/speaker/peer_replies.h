#pragma once
// What the peer sends back, whatever carries it: send(n) takes n data bytes
// at a time, and the transport makes frames or datagrams of them.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pacing.h"
#include "wire.h"

namespace earshot::speaker {

// A segment: all its bytes, at its burst rate.
void serve_segment(const StreamRequest& request, const SliceSend& send,
                   const std::atomic<bool>& stop);
// Music: chunks at 100-250 ms gaps drawn from the request's seed.
void serve_music(const StreamRequest& request, const SliceSend& send,
                 const std::atomic<bool>& stop);

// The replies of one connection, each on a thread; a reply whose sends
// fail (the speaker has gone) just ends. Stopped and joined on destruction.
class ReplyThreads {
 public:
  using Reply = std::function<void(const std::atomic<bool>& stop)>;
  ReplyThreads() = default;
  ReplyThreads(const ReplyThreads&) = delete;
  ReplyThreads& operator=(const ReplyThreads&) = delete;
  ~ReplyThreads() { stop_and_join(); }

  void start(Reply reply);
  void stop_and_join();

 private:
  struct Running {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  std::atomic<bool> stop_{false};
  std::mutex lock_;
  std::vector<Running> running_;
};

}  // namespace earshot::speaker
