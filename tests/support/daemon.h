#pragma once
// The earshot daemon as a test starts it: config written to a temp file,
// --web.listen-address 127.0.0.1:0 (unless told otherwise), JSON logs on stderr, the port learnt
// from the `"msg":"listening"` log line. Stopped with SIGTERM (then SIGKILL)
// by the destructor; its stderr stays readable for failure messages.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics.h"
#include "process.h"
#include "temp_dir.h"

namespace earshot::test {

struct DaemonOptions {
  std::string binary{};       // path of earshot, e.g. EARSHOT_BINARY
  std::string config_yaml{};  // written verbatim to the config file
  std::vector<std::string> extra_arguments{};
  std::string netns_path{};  // namespace to start it in; empty: the test's
  std::string listen_address = "127.0.0.1:0";
  std::chrono::milliseconds start_timeout = std::chrono::seconds(15);
  std::vector<std::string> environment{};  // "NAME=VALUE" added to the daemon's
};

class DaemonProcess {
 public:
  // Starts the daemon and waits for its listening line. Throws
  // earshot::Error with the daemon's stderr when it exits or times out.
  explicit DaemonProcess(DaemonOptions options);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return process_->pid(); }
  std::uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  const std::string& config_path() const { return config_path_; }

  HttpResponse get(std::string_view path) const;
  MetricsScrape scrape() const;
  // Scrapes every poll_interval until predicate holds (true) or timeout
  // (false). The last scrape stays available in last_scrape().
  bool wait_for(const std::function<bool(const MetricsScrape&)>& predicate,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds(100));
  const MetricsScrape& last_scrape() const { return last_scrape_; }

  // The daemon's stderr so far (JSON log lines).
  std::string log() const;
  // SIGTERM, then SIGKILL after timeout; returns the exit code (as
  // ChildProcess::wait). Later calls return the same code.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  TempDir dir_;
  std::string config_path_;
  std::optional<ChildProcess> process_;
  std::string address_;
  std::uint16_t port_ = 0;
  MetricsScrape last_scrape_;
};

// The address from a log line of earshot's JSON log with
// "msg":"listening" (e.g. "127.0.0.1:9737"); nullopt for any other line.
std::optional<std::string> parse_listening_address(std::string_view log_line);
// The port of "HOST:PORT" or "[V6]:PORT"; throws earshot::Error if absent.
std::uint16_t port_of_address(std::string_view address);

}  // namespace earshot::test
