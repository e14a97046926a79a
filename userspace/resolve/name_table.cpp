#include "resolve/name_table.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/error.h"

namespace earshot::resolve {
namespace {

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

struct Resolved {
  std::string name;
  std::uint32_t ttl;
};

// Walks CNAMEs back from an address record's owner towards the question: the
// alias whose target is the current name is its parent. The chain's TTL is
// its shortest link's, since the mapping breaks when any link expires.
Resolved resolve_alias(const DnsAnswer& record,
                       const std::map<std::string, const DnsAnswer*>& alias_of_target,
                       const std::set<std::string>& questions) {
  Resolved resolved{record.name, record.ttl};
  std::set<std::string> visited{resolved.name};
  while (!questions.contains(resolved.name)) {
    auto parent = alias_of_target.find(resolved.name);
    if (parent == alias_of_target.end() || !visited.insert(parent->second->name).second) break;
    resolved.name = parent->second->name;
    resolved.ttl = std::min(resolved.ttl, parent->second->ttl);
  }
  return resolved;
}

}  // namespace

NameTable::NameTable(NameTableConfig config) : config_(config) {
  if (config_.capacity == 0) throw Error("name table: capacity must be at least 1");
  if (config_.min_ttl_seconds > config_.max_ttl_seconds) {
    throw Error("name table: min_ttl_seconds is above max_ttl_seconds");
  }
}

std::size_t NameTable::learn(const DnsResponse& response, std::uint64_t now_ns) {
  if (response.rcode != 0) return 0;
  std::map<std::string, const DnsAnswer*> alias_of_target;
  for (const auto& answer : response.answers) {
    if (answer.type == DnsRecordType::cname) alias_of_target.emplace(answer.target, &answer);
  }
  std::set<std::string> questions(response.questions.begin(), response.questions.end());

  std::size_t learnt = 0;
  for (const auto& answer : response.answers) {
    if (answer.type == DnsRecordType::cname) continue;
    IpAddress address;
    address.family = answer.type == DnsRecordType::a ? kFamilyIpv4 : kFamilyIpv6;
    std::size_t length = answer.type == DnsRecordType::a ? 4 : 16;
    std::copy_n(answer.address.begin(), length, address.bytes.begin());

    Resolved resolved = resolve_alias(answer, alias_of_target, questions);
    std::uint64_t ttl = std::clamp(resolved.ttl, config_.min_ttl_seconds, config_.max_ttl_seconds);
    if (ttl == 0) continue;  // valid for no time at all
    insert(address, std::move(resolved.name), now_ns + ttl * kNanosPerSecond);
    ++learnt;
  }
  return learnt;
}

std::optional<std::string> NameTable::lookup(const IpAddress& address, std::uint64_t now_ns) {
  auto it = entries_.find(address);
  if (it == entries_.end()) return std::nullopt;
  if (now_ns >= it->second.expires_ns) {
    erase(it);
    return std::nullopt;
  }
  return it->second.name;
}

void NameTable::expire(std::uint64_t now_ns) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (now_ns >= it->second.expires_ns) erase(it);
    it = next;
  }
}

void NameTable::insert(const IpAddress& address, std::string name, std::uint64_t expires_ns) {
  auto existing = entries_.find(address);
  if (existing != entries_.end()) erase(existing);
  while (entries_.size() >= config_.capacity) {
    auto oldest = learnt_order_.begin();
    erase(entries_.find(oldest->second));
    ++evictions_;
  }
  std::uint64_t seq = next_seq_++;
  entries_.emplace(address, Entry{std::move(name), expires_ns, seq});
  learnt_order_.emplace(seq, address);
}

void NameTable::erase(std::map<IpAddress, Entry>::iterator it) {
  learnt_order_.erase(it->second.learnt_seq);
  entries_.erase(it);
}

}  // namespace earshot::resolve
