#include "pacing.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "wire.h"

namespace earshot::speaker {

using std::chrono::milliseconds;

std::uint64_t paced(const SliceSend& send, std::uint32_t ms, std::uint32_t rate,
                    std::size_t max_slice) {
  const auto tick = milliseconds(50);
  const auto start = Clock::now();
  const auto end = start + milliseconds(ms);
  std::uint64_t sent = 0;
  double owed = 0;
  for (auto next = start; next < end; next += tick) {
    std::this_thread::sleep_until(next);
    owed += rate * 0.05;
    while (owed >= 1) {
      auto n = static_cast<std::size_t>(std::min<double>(owed, static_cast<double>(max_slice)));
      send(n);
      sent += n;
      owed -= static_cast<double>(n);
    }
  }
  return sent;
}

std::uint64_t bursty(const SliceSend& send, std::uint32_t ms, std::uint32_t rate,
                     std::mt19937 random, std::size_t max_slice) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };
  // The mean of a log-uniform over [c, 64c] is 63c / ln 64; the mean gap is 0.95 s.
  const double smallest = rate * 0.95 * std::log(64.0) / 63;
  const auto start = Clock::now();
  const auto end = start + milliseconds(ms);
  std::uint64_t sent = 0;
  for (auto next = start; next < end; next += std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(uniform(0.1, 1.8)))) {
    std::this_thread::sleep_until(next);
    auto chunk = static_cast<std::size_t>(smallest * std::exp(uniform(0, std::log(64.0))));
    for (std::size_t left = chunk; left > 0;) {
      std::size_t n = std::min(left, max_slice);
      send(n);
      left -= n;
    }
    sent += chunk;
  }
  return sent;
}

std::uint64_t pace_bytes(const SliceSend& send, std::uint64_t bytes, double rate, milliseconds tick,
                         const std::atomic<bool>& stop) {
  if (rate <= 0) {
    if (bytes > 0 && !stop) send(static_cast<std::size_t>(bytes));
    return bytes;
  }
  const auto start = Clock::now();
  const double per_tick = rate * std::chrono::duration<double>(tick).count();
  std::uint64_t sent = 0;
  double owed = 0;
  for (auto next = start; sent < bytes && !stop; next += tick) {
    std::this_thread::sleep_until(next);
    owed += per_tick;
    auto n = std::min<std::uint64_t>(static_cast<std::uint64_t>(owed), bytes - sent);
    if (n == 0) continue;
    send(static_cast<std::size_t>(n));
    sent += n;
    owed -= static_cast<double>(n);
  }
  return sent;
}

}  // namespace earshot::speaker
