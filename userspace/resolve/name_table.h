#pragma once
// Address -> DNS name, learnt from the DNS answers the device receives.
// Entries expire with their TTL against a monotonic clock; the table is
// bounded, evicting the entry learnt longest ago. A CNAME chain is followed
// back so an address gets the name the client asked for, not the CDN's.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "resolve/dns_parser.h"

namespace earshot::resolve {

// An IP address: family is AF_INET (2) or AF_INET6 (10), as in the BPF flow
// key; IPv4 uses the first 4 bytes and the rest are zero.
struct IpAddress {
  std::uint8_t family = 0;
  std::array<std::uint8_t, 16> bytes{};
  auto operator<=>(const IpAddress&) const = default;
};

inline constexpr std::uint8_t kFamilyIpv4 = 2;   // AF_INET
inline constexpr std::uint8_t kFamilyIpv6 = 10;  // AF_INET6

struct NameTableConfig {
  std::size_t capacity = 4096;
  // TTLs are clamped to [min_ttl_seconds, max_ttl_seconds]. A floor above 0
  // keeps a name for a connection opened just before its record expired;
  // 0 honors the TTL exactly.
  std::uint32_t min_ttl_seconds = 0;
  std::uint32_t max_ttl_seconds = 24 * 3600;
};

class NameTable {
 public:
  explicit NameTable(NameTableConfig config = {});

  // Learns the A/AAAA answers of a response at monotonic time now_ns.
  // Returns how many addresses were (re)named.
  std::size_t learn(const DnsResponse& response, std::uint64_t now_ns);

  // The name of an address, or nullopt when unknown or expired.
  std::optional<std::string> lookup(const IpAddress& address, std::uint64_t now_ns);

  // Drops expired entries (lookups drop the ones they meet anyway).
  void expire(std::uint64_t now_ns);

  std::size_t size() const { return entries_.size(); }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::string name;
    std::uint64_t expires_ns = 0;  // valid while now < expires_ns
    std::uint64_t learnt_seq = 0;  // order of learning, for eviction
  };

  void insert(const IpAddress& address, std::string name, std::uint64_t expires_ns);
  void erase(std::map<IpAddress, Entry>::iterator it);

  NameTableConfig config_;
  std::map<IpAddress, Entry> entries_;
  std::map<std::uint64_t, IpAddress> learnt_order_;  // learnt_seq -> address
  std::uint64_t next_seq_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace earshot::resolve
