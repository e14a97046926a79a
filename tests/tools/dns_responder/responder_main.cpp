// earshot-dns-responder: a DNS server for one name, and a client to ask it.
//   serve --name NAME [--ipv4 ADDR] [--ipv6 ADDR]: answers A/AAAA queries for
//     NAME with those addresses (NXDOMAIN for other names) until killed;
//     prints "ready" once bound and one "answered ..." line a query.
//   query SERVER NAME [--ipv6]: prints the address SERVER answers for NAME.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cerrno>
#include <iostream>

#include "../socket_address.h"
#include "../traffic.h"
#include "common/error.h"
#include "dns_client.h"
#include "dns_message.h"

namespace {

using namespace earshot;

std::vector<std::uint8_t> address_bytes(const std::string& text, int family) {
  std::array<std::uint8_t, 16> bytes{};
  if (::inet_pton(family, text.c_str(), bytes.data()) != 1) {
    throw Error("not an " + std::string(family == AF_INET ? "IPv4" : "IPv6") + " address: '" +
                text + "'");
  }
  return {bytes.begin(), bytes.begin() + (family == AF_INET ? 4 : 16)};
}

int serve(std::uint16_t port, const std::string& name, const std::string& ipv4,
          const std::string& ipv6, std::uint32_t ttl) {
  const std::string served = dns_tool::normalize_name(name);
  const auto a = ipv4.empty() ? std::vector<std::uint8_t>{} : address_bytes(ipv4, AF_INET);
  const auto aaaa = ipv6.empty() ? std::vector<std::uint8_t>{} : address_bytes(ipv6, AF_INET6);
  UniqueFd fd = traffic::bind_wildcard(SOCK_DGRAM, port, traffic::Family::any);
  traffic::say("ready");
  std::array<std::uint8_t, 1500> buffer{};
  while (true) {
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    ssize_t got = ::recvfrom(fd.get(), buffer.data(), buffer.size(), 0,
                             reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) traffic::throw_errno("recvfrom");
    auto question = dns_tool::parse_query(std::span(buffer.data(), static_cast<std::size_t>(got)));
    if (!question) continue;
    const bool known = question->name == served;
    std::vector<std::uint8_t> rdata;
    if (known && question->type == dns_tool::kTypeA) rdata = a;
    if (known && question->type == dns_tool::kTypeAaaa) rdata = aaaa;
    auto answer = dns_tool::build_answer(*question, rdata, ttl, known);
    if (::sendto(fd.get(), answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                 peer_length) < 0) {
      traffic::throw_errno("sendto");
    }
    traffic::say("answered name=" + question->name + " type=" + std::to_string(question->type) +
                 " records=" + std::to_string(rdata.empty() ? 0 : 1));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"earshot-dns-responder: one name served over UDP, and a client to ask for it"};
  app.require_subcommand(1);
  std::uint16_t port = 53;
  app.add_option("--port", port, "UDP port of the server")->capture_default_str();

  std::string name;
  std::string ipv4;
  std::string ipv6;
  std::uint32_t ttl = 300;
  auto* serve_command = app.add_subcommand("serve", "answer A/AAAA queries for NAME until killed");
  serve_command->add_option("--name", name, "the one name served")->required();
  serve_command->add_option("--ipv4", ipv4, "its A record");
  serve_command->add_option("--ipv6", ipv6, "its AAAA record");
  serve_command->add_option("--ttl", ttl, "TTL of the records, seconds")->capture_default_str();

  std::string server;
  bool want_ipv6 = false;
  std::int64_t timeout_ms = 10000;
  auto* query_command = app.add_subcommand("query", "print the address SERVER answers for NAME");
  query_command->add_option("SERVER", server, "IPv4 or IPv6 literal")->required();
  query_command->add_option("NAME", name)->required();
  query_command->add_flag("--ipv6", want_ipv6, "ask for AAAA instead of A");
  query_command->add_option("--timeout-ms", timeout_ms)->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*serve_command) return serve(port, name, ipv4, ipv6, ttl);
    traffic::say(
        dns_tool::resolve(server, port, name, want_ipv6, std::chrono::milliseconds(timeout_ms)));
    return 0;
  } catch (const Error& error) {
    std::cerr << "earshot-dns-responder: " << error.what() << std::endl;
    return 1;
  }
}
