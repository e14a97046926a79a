#pragma once
// A real Prometheus (the Debian package, unpacked by scripts/setup.sh) run
// by a test: its own config and TSDB in a temp dir, on a free loopback port,
// killed by the destructor. Queries go through its HTTP API.
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "process.h"
#include "temp_dir.h"

namespace earshot::test {

// A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed).
std::uint16_t free_loopback_port();

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

// prometheus.yml: scrape `target` ("HOST:PORT") every second as job
// "earshot" and load rule_file (none when empty).
std::string prometheus_config(const std::string& target, const std::string& rule_file);

struct QueryResult {
  std::string status;      // "success" or "error"
  std::string error;       // Prometheus' message when status is "error"
  nlohmann::json samples;  // data.result: an array for vector queries
  bool empty() const { return !samples.is_array() || samples.empty(); }
};

class PrometheusServer {
 public:
  // Starts `binary` with config_yaml and waits until /-/ready answers 200.
  // Throws earshot::Error with Prometheus' stderr when it does not.
  PrometheusServer(const std::string& binary, const std::string& config_yaml,
                   std::chrono::milliseconds start_timeout = std::chrono::seconds(30));
  ~PrometheusServer() = default;  // members kill the process, then remove the dir
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  std::uint16_t port() const { return port_; }
  // GET /api/v1/query?query=expr (an instant query now).
  QueryResult query(std::string_view expr) const;
  // Repeats query(expr) until done(result) or timeout; returns the last result.
  QueryResult query_until(std::string_view expr,
                          const std::function<bool(const QueryResult&)>& done,
                          std::chrono::milliseconds timeout) const;
  std::string log() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::optional<ChildProcess> process_;
};

// The value of the first sample of an instant vector result, or nullopt.
std::optional<double> first_value(const QueryResult& result);

}  // namespace earshot::test
