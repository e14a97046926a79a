#include "config/config.h"

namespace earshot::config {

std::vector<Destination> default_destinations() {
  // Names for the ranges that never leave home, so a speaker talking to the
  // router or a phone reads "lan" rather than a bare address.
  return {
      {parse_cidr("127.0.0.0/8"), "loopback"},
      {parse_cidr("::1/128"), "loopback"},
      {parse_cidr("10.0.0.0/8"), "lan"},
      {parse_cidr("172.16.0.0/12"), "lan"},
      {parse_cidr("192.168.0.0/16"), "lan"},
      {parse_cidr("fc00::/7"), "lan"},
      {parse_cidr("169.254.0.0/16"), "link-local"},
      {parse_cidr("fe80::/10"), "link-local"},
      {parse_cidr("224.0.0.0/4"), "multicast"},
      {parse_cidr("ff00::/8"), "multicast"},
  };
}

}  // namespace earshot::config
