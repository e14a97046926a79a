#pragma once
// The speaker's actions: each AT:SECONDS:BYTES_PER_SECOND (seconds from
// "opened"), run on a thread of its own, returning its output line.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include "link.h"

namespace earshot::speaker {

struct Action {
  double at = 0, seconds = 0;
  std::uint32_t rate = 0;
};

Action parse_action(const std::string& text);

struct ActionContext {
  Link& link;
  ReplyCounters& replies;
  Clock::time_point start;  // "opened"

  std::int64_t ms_since_start() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  }
  // Sleeps until the action's AT.
  void wait_for(const Action& action) const;
};

// Sent by the speaker (upload_actions.cpp).
std::string run_upload(const ActionContext& context, const Action& action);
std::string run_bursty_upload(const ActionContext& context, const Action& action,
                              std::mt19937 random);
std::string run_voice(const ActionContext& context, const Action& action,
                      std::chrono::milliseconds frame, std::mt19937 random);
std::string run_video_upload(const ActionContext& context, const Action& action,
                             std::mt19937 random);

// Fetched from the peer (fetch_actions.cpp); tag: of the replies, in `replies`.
std::string run_download(const ActionContext& context, const Action& action, std::mt19937 random);
std::string run_segments(const ActionContext& context, const Action& action, std::uint16_t tag,
                         std::mt19937 random);
std::string run_music(const ActionContext& context, const Action& action, std::uint16_t tag,
                      std::mt19937 random);

}  // namespace earshot::speaker
