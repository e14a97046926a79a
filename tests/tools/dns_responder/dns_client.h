#pragma once
// Asking a DNS server for one name over UDP, as a program resolving its
// upload destination would: the answer is what earshot's passive DNS sees.
#include <chrono>
#include <cstdint>
#include <string>

namespace earshot::dns_tool {

// The first address (text form) that server (an IPv4 or IPv6 literal)
// answers for name, asking for A (ipv6 false) or AAAA records. Retries a
// few times within timeout; throws earshot::Error naming the server and
// name when no answer with an address comes.
std::string resolve(const std::string& server, std::uint16_t port, const std::string& name,
                    bool ipv6, std::chrono::milliseconds timeout);

}  // namespace earshot::dns_tool
