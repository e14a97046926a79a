#include <algorithm>
#include <thread>

#include "actions.h"
#include "fetch_schedule.h"

namespace earshot::speaker {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

// Waits until `tag` has received `bytes`, or `deadline`.
void wait_for_replies(const ActionContext& context, std::uint16_t tag, std::uint64_t bytes,
                      Clock::time_point deadline) {
  while (context.replies.get(tag) < bytes && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
}

// A request's body: the request, then filler up to wire_size on the wire.
std::vector<char> request_body(const Link& link, const StreamRequest& request,
                               std::size_t wire_size) {
  std::vector<char> body(std::max(sizeof request, wire_size - std::min(wire_size, link.overhead())),
                         'h');
  std::memcpy(body.data(), &request, sizeof request);
  return body;
}

}  // namespace

std::string run_download(const ActionContext& context, const Action& action, std::mt19937 random) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  const auto ms = static_cast<std::uint32_t>(action.seconds * 1000);
  context.link.request_download(ms, action.rate, random());
  std::this_thread::sleep_for(milliseconds(ms));
  return "download begin_ms=" + std::to_string(begin) +
         " end_ms=" + std::to_string(context.ms_since_start());
}

std::string run_segments(const ActionContext& context, const Action& action, std::uint16_t tag,
                         std::mt19937 random) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  const milliseconds length(static_cast<std::int64_t>(action.seconds * 1000));
  const auto plan = segment_plan(length, action.rate, random);
  const auto t0 = Clock::now();
  std::uint64_t asked = 0;
  for (const SegmentFetch& fetch : plan) {
    std::this_thread::sleep_until(t0 + fetch.at);
    StreamRequest request{.bytes = fetch.bytes,
                          .rate = fetch.burst_rate,
                          .seed = static_cast<std::uint32_t>(random()),
                          .tag = tag};
    auto body = request_body(context.link, request, fetch.request_size);
    context.link.message(kSegmentRequest, body.size(), body.data());
    asked += fetch.bytes;
  }
  // Played to the end; the last segment may still be arriving then.
  std::this_thread::sleep_until(t0 + length);
  if (!plan.empty())
    wait_for_replies(context, tag, asked, t0 + plan.back().at + plan.back().period + 2s);
  return "segments begin_ms=" + std::to_string(begin) +
         " end_ms=" + std::to_string(context.ms_since_start()) +
         " received=" + std::to_string(context.replies.get(tag)) +
         " requests=" + std::to_string(plan.size());
}

std::string run_music(const ActionContext& context, const Action& action, std::uint16_t tag,
                      std::mt19937 random) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  const auto ms = static_cast<std::uint32_t>(action.seconds * 1000);
  const auto t0 = Clock::now();
  StreamRequest request{.bytes = stream_bytes(ms, action.rate),
                        .ms = ms,
                        .rate = action.rate,
                        .seed = static_cast<std::uint32_t>(random()),
                        .tag = tag};
  const auto wire_size =
      std::uniform_int_distribution<std::uint32_t>(kRequestBytes[0], kRequestBytes[1])(random);
  auto body = request_body(context.link, request, wire_size);
  context.link.message(kMusicRequest, body.size(), body.data());
  std::this_thread::sleep_until(t0 + milliseconds(ms));
  wait_for_replies(context, tag, request.bytes, t0 + milliseconds(ms) + 1s);
  return "music begin_ms=" + std::to_string(begin) +
         " end_ms=" + std::to_string(context.ms_since_start()) +
         " received=" + std::to_string(context.replies.get(tag));
}

}  // namespace earshot::speaker
