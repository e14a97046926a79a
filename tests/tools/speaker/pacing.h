#pragma once
// How bytes are spread over time: steady, bursty, or an exact amount at a
// rate. Each calls send(n) for a slice of n bytes; how a slice becomes
// frames or datagrams is the caller's.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

namespace earshot::speaker {

using SliceSend = std::function<void(std::size_t)>;

// Sends `rate` bytes a second for `ms` in 50 ms slices of at most max_slice bytes each.
std::uint64_t paced(const SliceSend& send, std::uint32_t ms, std::uint32_t rate,
                    std::size_t max_slice = 60000);

// Sends about `rate` bytes a second for `ms`, unevenly: chunks whose size is
// log-uniform over a 64x range, at gaps of 0.1-1.8 s, each chunk at once
// in slices of at most max_slice bytes.
std::uint64_t bursty(const SliceSend& send, std::uint32_t ms, std::uint32_t rate,
                     std::mt19937 random, std::size_t max_slice = 1200);

// Sends exactly `bytes` at `rate` bytes a second, a slice every `tick`;
// returns early, with what it sent, once `stop` is set.
std::uint64_t pace_bytes(const SliceSend& send, std::uint64_t bytes, double rate,
                         std::chrono::milliseconds tick, const std::atomic<bool>& stop);

}  // namespace earshot::speaker
