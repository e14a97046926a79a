#pragma once
// Waiting for something a real process or the daemon will do: polled, with
// a limit, never a fixed sleep. (Not named poll.h: on the support include
// path, which every test has, that would hide the system <poll.h>.)
#include <chrono>
#include <functional>
#include <thread>

namespace earshot::test {

// Polls every 100 ms until ready() or timeout; true when ready() held.
inline bool poll_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace earshot::test
