#pragma once
// The few DNS messages the scenario tests need, built and read byte by byte:
// a query for one name, and the answer to it carrying one A or AAAA record.
// Pure functions, no sockets, so they are easy to check by hand.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace earshot::dns_tool {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kClassIn = 1;

struct Question {
  std::uint16_t id = 0;
  std::string name;  // lower case, no trailing dot: "assistant.example"
  std::uint16_t type = kTypeA;
};

// A recursive-desired query with one question. Throws earshot::Error when a
// label of name is empty or longer than 63 bytes.
std::vector<std::uint8_t> build_query(const Question& question);

// The question of a query; nullopt for anything that is not a well-formed
// query with exactly one question (responses, truncated bytes, pointers).
std::optional<Question> parse_query(std::span<const std::uint8_t> message);

// The authoritative answer to question: one record of rdata (4 bytes for A,
// 16 for AAAA) with ttl; no record when rdata is empty, then NXDOMAIN
// unless name_exists (the name has records of another type only).
std::vector<std::uint8_t> build_answer(const Question& question,
                                       std::span<const std::uint8_t> rdata, std::uint32_t ttl,
                                       bool name_exists = true);

// The rdata of the first answer record of type `type` in a response to the
// query with this id; nullopt when there is none (or the bytes are not such
// a response).
std::optional<std::vector<std::uint8_t>> first_answer(std::span<const std::uint8_t> message,
                                                      std::uint16_t id, std::uint16_t type);

// "Assistant.Example." -> "assistant.example"
std::string normalize_name(std::string name);

}  // namespace earshot::dns_tool
