#include <cstdio>
#include <thread>

#include "actions.h"
#include "common/error.h"
#include "pacing.h"
#include "video_schedule.h"
#include "voice_schedule.h"

namespace earshot::speaker {

using std::chrono::milliseconds;

Action parse_action(const std::string& text) {
  Action a;
  if (std::sscanf(text.c_str(), "%lf:%lf:%u", &a.at, &a.seconds, &a.rate) != 3)
    throw Error("an action is AT:SECONDS:BYTES_PER_SECOND, not '" + text + "'");
  return a;
}

void ActionContext::wait_for(const Action& action) const {
  std::this_thread::sleep_until(start + milliseconds(static_cast<int>(action.at * 1000)));
}

namespace {

std::uint32_t length_ms(const Action& action) {
  return static_cast<std::uint32_t>(action.seconds * 1000);
}

std::string sent_line(const char* name, std::int64_t begin, std::int64_t end, std::uint64_t bytes) {
  return std::string(name) + " begin_ms=" + std::to_string(begin) +
         " end_ms=" + std::to_string(end) + " bytes=" + std::to_string(bytes);
}

}  // namespace

std::string run_upload(const ActionContext& context, const Action& action) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  std::uint64_t bytes = paced([&](std::size_t n) { context.link.message(kUpload, n); },
                              length_ms(action), action.rate, 1200);
  return sent_line("upload", begin, context.ms_since_start(), bytes);
}

std::string run_bursty_upload(const ActionContext& context, const Action& action,
                              std::mt19937 random) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  std::uint64_t bytes = bursty([&](std::size_t n) { context.link.message(kUpload, n); },
                               length_ms(action), action.rate, random);
  return sent_line("upload", begin, context.ms_since_start(), bytes);
}

std::string run_voice(const ActionContext& context, const Action& action,
                      std::chrono::milliseconds frame, std::mt19937 random) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  const milliseconds length(length_ms(action));
  const auto schedule = voice_schedule({length, frame, static_cast<double>(action.rate)}, random);
  RtpStream rtp(111, random(), 48000);  // Opus: a dynamic payload type, a 48 kHz clock
  const auto t0 = Clock::now();
  std::uint64_t bytes = 0;
  for (const VoiceFrame& f : schedule) {
    std::this_thread::sleep_until(t0 + f.at);
    context.link.media({kVoice, f.bytes, f.spurt_start, f.at}, rtp);
    bytes += f.bytes;
  }
  std::this_thread::sleep_until(t0 + length);
  return sent_line("voice", begin, context.ms_since_start(), bytes);
}

std::string run_video_upload(const ActionContext& context, const Action& action,
                             std::mt19937 random) {
  context.wait_for(action);
  auto begin = context.ms_since_start();
  const milliseconds length(length_ms(action));
  const auto schedule = video_schedule(length, action.rate, random);
  RtpStream rtp(96, random(), 90000);  // H.264: a dynamic payload type, a 90 kHz clock
  const auto t0 = Clock::now();
  std::uint64_t bytes = 0;
  for (const VideoFrame& f : schedule) {
    std::this_thread::sleep_until(t0 + f.at);
    context.link.media({kCamera, f.bytes, true, f.at}, rtp);
    bytes += f.bytes;
  }
  std::this_thread::sleep_until(t0 + length);
  return sent_line("video-upload", begin, context.ms_since_start(), bytes);
}

}  // namespace earshot::speaker
