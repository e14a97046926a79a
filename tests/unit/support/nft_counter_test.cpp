#include "nft_counter.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace earshot::test::nft_counter_test {
namespace {

// Shape of `nft -j list table inet NAME` from nftables 1.0.6.
constexpr const char* kListing = R"({"nftables": [
 {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
 {"table": {"family": "inet", "name": "es1_0", "handle": 1}},
 {"chain": {"family": "inet", "table": "es1_0", "name": "output", "handle": 1, "type": "filter",
            "hook": "output", "prio": 0, "policy": "accept"}},
 {"rule": {"family": "inet", "table": "es1_0", "chain": "output", "handle": 2,
           "comment": "tcp_dport_5001_ipv4", "expr": [
   {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}},
   {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 5001}},
   {"counter": {"packets": 812, "bytes": 1090112}}]}},
 {"rule": {"family": "inet", "table": "es1_0", "chain": "output", "handle": 3,
           "comment": "udp_dport_5002_any", "expr": [
   {"counter": {"packets": 100, "bytes": 105200}}]}},
 {"rule": {"family": "inet", "table": "es1_0", "chain": "output", "handle": 4, "expr": [
   {"counter": {"packets": 1, "bytes": 1}}]}}
]})";

TEST(NftCounterParse, ReadsCountersOfCommentedRules) {
  auto counts = parse_nft_counters(kListing);
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.at("tcp_dport_5001_ipv4").packets, 812u);
  EXPECT_EQ(counts.at("tcp_dport_5001_ipv4").bytes, 1090112u);
  EXPECT_EQ(counts.at("udp_dport_5002_any").bytes, 105200u);
}

TEST(NftCounterParse, KeysNameProtocolPortAndFamily) {
  EXPECT_EQ(nft_counter_key(L4Protocol::tcp, 5001, IpFamily::ipv4), "tcp_dport_5001_ipv4");
  EXPECT_EQ(nft_counter_key(L4Protocol::udp, 53, IpFamily::any), "udp_dport_53_any");
  EXPECT_EQ(nft_counter_key(L4Protocol::udp, 9, IpFamily::ipv6), "udp_dport_9_ipv6");
}

TEST(NftCounterParse, RejectsOutputThatIsNotAListing) {
  EXPECT_THROW(parse_nft_counters("not json"), Error);
  EXPECT_THROW(parse_nft_counters(R"({"something": []})"), Error);
}

}  // namespace
}  // namespace earshot::test::nft_counter_test
