#include "prometheus_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "metrics.h"

namespace earshot::test {

std::uint16_t free_loopback_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw Error("socket() for a free port failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw Error("binding 127.0.0.1:0 to find a free port failed");
  }
  return ntohs(address.sin_port);
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string prometheus_config(const std::string& target, const std::string& rule_file) {
  std::string yaml =
      "global:\n"
      "  scrape_interval: 1s\n"
      "  evaluation_interval: 1s\n";
  if (!rule_file.empty()) yaml += "rule_files:\n  - \"" + rule_file + "\"\n";
  yaml +=
      "scrape_configs:\n"
      "  - job_name: earshot\n"
      "    static_configs:\n"
      "      - targets: [\"" +
      target + "\"]\n";
  return yaml;
}

PrometheusServer::PrometheusServer(const std::string& binary, const std::string& config_yaml,
                                   std::chrono::milliseconds start_timeout)
    : dir_("earshot-prometheus"), port_(free_loopback_port()) {
  const std::string config = dir_.write_file("prometheus.yml", config_yaml);
  process_.emplace(
      std::vector<std::string>{binary, "--config.file=" + config,
                               "--storage.tsdb.path=" + dir_.file("data"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
      ChildOptions{.stdout_path = dir_.file("stdout"), .stderr_path = dir_.file("stderr")});
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) break;
    try {
      if (http_get(port_, "/-/ready", std::chrono::seconds(2)).status == 200) return;
    } catch (const Error&) {
      // Not listening yet.
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw Error(process_->command() + " did not become ready on port " + std::to_string(port_) +
              "; stderr:\n" + log());
}

QueryResult PrometheusServer::query(std::string_view expr) const {
  HttpResponse response = http_get(port_, "/api/v1/query?query=" + url_encode(expr));
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    throw Error("Prometheus answered " + std::to_string(response.status) +
                " with a body that is not JSON for query " + std::string(expr) + ": " +
                response.body);
  }
  QueryResult result;
  result.status = body.value("status", "");
  result.error = body.value("error", "");
  if (body.contains("data") && body["data"].contains("result"))
    result.samples = body["data"]["result"];
  return result;
}

QueryResult PrometheusServer::query_until(std::string_view expr,
                                          const std::function<bool(const QueryResult&)>& done,
                                          std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    QueryResult result = query(expr);
    if (done(result) || std::chrono::steady_clock::now() >= deadline) return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

std::string PrometheusServer::log() const {
  return process_ ? process_->stderr_text() : "";
}

std::optional<double> first_value(const QueryResult& result) {
  if (result.empty()) return std::nullopt;
  const auto& sample = result.samples.at(0);
  if (!sample.contains("value") || !sample["value"].is_array() || sample["value"].size() != 2) {
    return std::nullopt;
  }
  return std::stod(sample["value"][1].get<std::string>());
}

}  // namespace earshot::test
