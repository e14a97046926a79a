// earshot-traffic SUBCOMMAND ...: see traffic.h and --help.
#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "common/error.h"
#include "traffic.h"

namespace traffic = earshot::traffic;

int main(int argc, char** argv) {
  CLI::App app{"earshot-traffic: known traffic and device opens for earshot's tests"};
  app.require_subcommand(1);
  app.fallthrough();  // common options may follow the subcommand
  traffic::Common common;
  app.add_option("--wait-file", common.wait_file,
                 "after \"ready\", wait until this path exists before acting");
  std::int64_t linger_ms = 0;
  std::int64_t timeout_ms = 60000;
  app.add_option("--linger-ms", linger_ms, "stay alive this long after the summary line");
  app.add_option("--timeout-ms", timeout_ms, "limit for connect, accept and receive")
      ->capture_default_str();

  std::string address;
  std::uint16_t port = 0;
  std::uint64_t bytes = 0;
  std::uint64_t count = 0;
  std::size_t size = 0;
  std::int64_t interval_ms = 0;
  std::string family = "any";
  std::string path;
  double seconds = 0;
  std::uint64_t read_rate = 0;

  auto* tcp_send = app.add_subcommand("tcp-send", "connect, send BYTES, shut down, wait for close");
  tcp_send->add_option("ADDR", address)->required();
  tcp_send->add_option("PORT", port)->required();
  tcp_send->add_option("BYTES", bytes)->required();
  std::string capture_device;
  tcp_send->add_option("--device", capture_device,
                       "hold PATH open (a capture) from before connecting until exit");

  auto* tcp_sink = app.add_subcommand("tcp-sink", "accept one connection, read to EOF");
  tcp_sink->add_option("PORT", port)->required();
  tcp_sink->add_option("--family", family, "any (dual stack), 4 or 6")->capture_default_str();
  std::uint64_t reply = 0;
  tcp_sink->add_option("--reply", reply, "then send this many bytes back on the connection");

  auto* udp_send = app.add_subcommand("udp-send", "send COUNT datagrams of SIZE payload bytes");
  udp_send->add_option("ADDR", address)->required();
  udp_send->add_option("PORT", port)->required();
  udp_send->add_option("COUNT", count)->required();
  udp_send->add_option("SIZE", size)->required();
  udp_send->add_option("INTERVAL_MS", interval_ms);

  auto* udp_sink = app.add_subcommand(
      "udp-sink", "receive COUNT datagrams (exit 2 if --timeout-ms passes first)");
  udp_sink->add_option("PORT", port)->required();
  udp_sink->add_option("COUNT", count)->required();
  udp_sink->add_option("--family", family, "any (dual stack), 4 or 6")->capture_default_str();

  auto* open_device = app.add_subcommand("open-device", "open PATH read-only for SECONDS");
  open_device->add_option("PATH", path)->required();
  open_device->add_option("SECONDS", seconds)->required();
  open_device->add_option("--read", read_rate, "read this many bytes a second while open");

  CLI11_PARSE(app, argc, argv);
  common.linger = std::chrono::milliseconds(linger_ms);
  common.timeout = std::chrono::milliseconds(timeout_ms);

  int code = 1;
  // tcp-send --device: opened before connecting, closed at exit (after the
  // linger), so everything the connection sends leaves while capturing.
  earshot::UniqueFd capture;
  try {
    if (*tcp_send) {
      if (!capture_device.empty()) capture = traffic::open_capture(capture_device);
      code = traffic::tcp_send(common, traffic::parse_socket_address(address, port), bytes);
    } else if (*tcp_sink) {
      code = traffic::tcp_sink(common, port, traffic::parse_family(family), reply);
    } else if (*udp_send) {
      code = traffic::udp_send(common, traffic::parse_socket_address(address, port), count, size,
                               std::chrono::milliseconds(interval_ms));
    } else if (*udp_sink) {
      code = traffic::udp_sink(common, port, traffic::parse_family(family), count);
    } else if (*open_device) {
      code = traffic::open_device(common, path, seconds, read_rate);
    }
  } catch (const earshot::Error& error) {
    std::cerr << "earshot-traffic: " << error.what() << std::endl;
    return 1;
  }
  std::this_thread::sleep_for(common.linger);
  return code;
}
