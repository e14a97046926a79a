// The e2e lane: earshot started as a user starts it (config/earshot.yaml,
// its CLI), a real Prometheus scraping it with config/alerts.yml loaded, and
// a test program sending over loopback. What a user sees through
// Prometheus' HTTP API, promtool and the dashboard's queries is checked.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "daemon.h"
#include "dashboard_queries.h"
#include "process.h"
#include "prometheus_server.h"
#include "promtool.h"
#include "temp_dir.h"

namespace earshot::test::prometheus_e2e_test {
namespace {

using namespace std::chrono_literals;

const std::string kSource = EARSHOT_SOURCE_DIR;
const std::string kPrometheusDir = EARSHOT_PROMETHEUS_DIR;
const std::string kPrometheus = kPrometheusDir + "/prometheus";
const std::string kPromtool = promtool_path();
const std::string kAlerts = kSource + "/config/alerts.yml";
const std::string kDashboard = kSource + "/dashboards/earshot-overview.json";
constexpr std::uint64_t kPayloadBytes = 1 << 20;

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// The config a user starts with, optionally with a watched device node and a
// capture policy added; events go to a file instead of stdout.
std::string user_config(const TempDir& work, const std::string& extra_device = {},
                        const std::string& only_allowed_capturer = {},
                        const std::string& extra_camera = {}) {
  YAML::Node config = YAML::LoadFile(kSource + "/config/earshot.yaml");
  config["events"]["file"] = work.file("events.jsonl");
  if (!extra_device.empty()) config["capture"]["extra_devices"].push_back(extra_device);
  if (!extra_camera.empty()) config["capture"]["extra_cameras"].push_back(extra_camera);
  if (!only_allowed_capturer.empty())
    config["policy"]["capture_allowed"].push_back(only_allowed_capturer);
  YAML::Emitter out;
  out << config;
  return out.c_str();
}

// A copy of earshot-traffic named `name` sends payload bytes over TCP to a
// sink on 127.0.0.1 (loopback is counted: the daemon runs in this namespace).
void send_over_loopback(const TempDir& work, const std::string& name, std::uint64_t bytes) {
  const std::string sender = work.copy_executable(EARSHOT_TRAFFIC_BINARY, name);
  const std::string sink_tool = work.copy_executable(EARSHOT_TRAFFIC_BINARY, name + "-sink");
  const std::string port = std::to_string(free_loopback_port());
  ChildProcess sink({sink_tool, "tcp-sink", port, "--family", "4"});
  ASSERT_TRUE(sink.wait_for_output("ready", 10s)) << sink.stderr_text();
  ChildProcess send({sender, "tcp-send", "127.0.0.1", port, std::to_string(bytes)});
  ASSERT_EQ(send.wait_or_throw(60s), 0) << send.stderr_text();
  ASSERT_EQ(sink.wait_or_throw(30s), 0) << sink.stderr_text();
  ASSERT_NE(sink.stdout_text().find("received_bytes=" + std::to_string(bytes)), std::string::npos)
      << sink.stdout_text();
}

std::string describe(const QueryResult& result) {
  return "status=" + result.status + " error=" + result.error + " result=" + result.samples.dump();
}

class PrometheusE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: earshot loads and attaches BPF programs";
    if (!executable(kPrometheus) || !executable(kPromtool)) {
      GTEST_SKIP() << "no Prometheus at " << kPrometheusDir
                   << " (scripts/setup.sh unpacks it there)";
    }
  }

  // Starts the daemon with config, then Prometheus scraping it, and waits
  // until Prometheus has scraped it successfully.
  void start(const std::string& config) {
    daemon_.emplace(DaemonOptions{.binary = EARSHOT_BINARY, .config_yaml = config});
    ASSERT_NO_FATAL_FAILURE(expect_netfilter_attached());
    prometheus_.emplace(kPrometheus, prometheus_config(daemon_->address(), kAlerts));
    auto up = prometheus_->query_until(
        "up{job=\"earshot\"}", [](const QueryResult& r) { return first_value(r) == 1.0; }, 30s);
    ASSERT_EQ(first_value(up), 1.0) << "Prometheus never scraped earshot at " << daemon_->address()
                                    << ": " << describe(up) << "\nPrometheus log:\n"
                                    << prometheus_->log();
  }

  // Without the netfilter hooks nothing here can pass; say so first. (A
  // second earshot on the same host gets EBUSY: BPF netfilter links at the
  // same hook and priority are exclusive.)
  void expect_netfilter_attached() {
    const MetricsScrape scrape = daemon_->scrape();
    for (const char* hook : {"netfilter_ipv4", "netfilter_ipv6"}) {
      ASSERT_EQ(scrape.sum("earshot_hook_attached", {{"hook", hook}}), 1.0)
          << hook << " is not attached; daemon log:\n"
          << daemon_->log();
    }
  }

  TempDir work_{"earshot-e2e"};
  // Prometheus stops before the daemon it scrapes.
  std::optional<DaemonProcess> daemon_;
  std::optional<PrometheusServer> prometheus_;
};

TEST_F(PrometheusE2e, PrometheusQueryReturnsTheTestProgramsBytes) {
  ASSERT_NO_FATAL_FAILURE(start(user_config(work_)));
  ASSERT_NO_FATAL_FAILURE(send_over_loopback(work_, "e2e-sender", kPayloadBytes));

  const std::string query =
      "sum(earshot_egress_bytes_total{job=\"earshot\", process=\"e2e-sender\"})";
  auto result = prometheus_->query_until(
      query, [](const QueryResult& r) { return first_value(r).value_or(0) >= kPayloadBytes; }, 30s);
  ASSERT_EQ(result.status, "success") << describe(result);
  const double bytes = first_value(result).value_or(0);
  EXPECT_GE(bytes, kPayloadBytes) << "payload plus headers sent by e2e-sender; " << describe(result)
                                  << "\ndaemon /metrics:\n"
                                  << daemon_->get("/metrics").body << "\ndaemon log:\n"
                                  << daemon_->log();
  // Headers of a 1 MiB loopback transfer are a few percent at most, not a
  // second copy of the payload.
  EXPECT_LT(bytes, 1.1 * kPayloadBytes) << describe(result);

  // The sink's acknowledgements are its own, not the sender's.
  auto sink = prometheus_->query(
      "sum(earshot_egress_bytes_total{job=\"earshot\", process=\"e2e-sender-sink\"})");
  EXPECT_LT(first_value(sink).value_or(0), 0.1 * kPayloadBytes) << describe(sink);
}

TEST_F(PrometheusE2e, EveryDashboardQueryReturnsData) {
  // A watched "microphone": a node with the numbers of /dev/full, opened and
  // read by a process the policy does not allow, while another one sends.
  const std::string microphone = work_.file("mic");
  ASSERT_EQ(::mknod(microphone.c_str(), S_IFCHR | 0600, makedev(1, 7)), 0)
      << "mknod " << microphone;
  // And a "camera" (the numbers of /dev/zero), read by another process: the
  // cameras' panels read kind="camera".
  const std::string camera = work_.file("cam");
  ASSERT_EQ(::mknod(camera.c_str(), S_IFCHR | 0600, makedev(1, 5)), 0) << "mknod " << camera;
  ASSERT_NO_FATAL_FAILURE(start(user_config(work_, microphone, "e2e-allowed-capturer", camera)));

  const std::string listener = work_.copy_executable(EARSHOT_TRAFFIC_BINARY, "e2e-listener");
  ChildProcess capture({listener, "open-device", microphone, "4", "--read", "32000"});
  const std::string watcher = work_.copy_executable(EARSHOT_TRAFFIC_BINARY, "e2e-watcher");
  ChildProcess watching({watcher, "open-device", camera, "4", "--read", "100000"});
  ASSERT_TRUE(capture.wait_for_output("opened", 10s)) << capture.stderr_text();
  ASSERT_TRUE(watching.wait_for_output("opened", 10s)) << watching.stderr_text();
  ASSERT_NO_FATAL_FAILURE(send_over_loopback(work_, "e2e-sender", kPayloadBytes));
  ASSERT_EQ(capture.wait_or_throw(30s), 0) << capture.stderr_text();
  ASSERT_EQ(watching.wait_or_throw(30s), 0) << watching.stderr_text();

  std::ifstream file(kDashboard);
  ASSERT_TRUE(file) << "cannot read " << kDashboard;
  const auto queries = dashboard_queries(nlohmann::json::parse(file));
  ASSERT_GE(queries.size(), 10u) << kDashboard;

  // The traffic, the capture (read while another process sends) and the
  // policy violation above produce every metric the dashboard reads, so
  // every query must return data, not only parse. A capture session ends
  // correlation.idle_gap after the last frame, hence the generous wait.
  // Gateway mode's panels (every metric they read is earshot_device_*)
  // show LAN devices, which this lane has none of: Prometheus must accept
  // their queries, but they have no data to show here.
  for (const auto& query : queries) {
    const std::string expr = expand_grafana_variables(query.expr);
    const auto names = metric_names(expr);
    ASSERT_FALSE(names.empty()) << "panel \"" << query.panel
                                << "\" reads no earshot metric: " << expr;
    const bool gateway_only = std::all_of(names.begin(), names.end(), [](const std::string& n) {
      return n.starts_with("earshot_device_");
    });
    if (gateway_only) {
      auto result = prometheus_->query(expr);
      EXPECT_EQ(result.status, "success") << "panel \"" << query.panel << "\": " << expr << "\n"
                                          << describe(result);
      continue;
    }
    auto result = prometheus_->query_until(
        expr, [](const QueryResult& r) { return r.status != "success" || !r.empty(); }, 30s);
    EXPECT_EQ(result.status, "success") << "panel \"" << query.panel << "\": " << expr << "\n"
                                        << describe(result);
    EXPECT_FALSE(result.empty()) << "panel \"" << query.panel << "\" shows nothing: " << expr
                                 << "\ndaemon /metrics:\n"
                                 << daemon_->get("/metrics").body;
  }
}

TEST_F(PrometheusE2e, MetricsPassPromtoolCheckAndEndpointsAnswer) {
  daemon_.emplace(DaemonOptions{.binary = EARSHOT_BINARY, .config_yaml = user_config(work_)});
  ASSERT_NO_FATAL_FAILURE(expect_netfilter_attached());
  ASSERT_NO_FATAL_FAILURE(send_over_loopback(work_, "e2e-sender", 64 * 1024));
  ASSERT_TRUE(daemon_->wait_for(
      [](const MetricsScrape& s) {
        return s.has("earshot_egress_bytes_total", {{"process", "e2e-sender"}});
      },
      10s))
      << daemon_->get("/metrics").body;

  const HttpResponse metrics = daemon_->get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  const auto check = promtool_check_metrics(metrics.body);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "") << "promtool check metrics reports problems";

  const HttpResponse landing = daemon_->get("/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.body.find("/metrics"), std::string::npos) << "the landing page links /metrics";
  EXPECT_EQ(daemon_->get("/-/healthy").status, 200);
}

// Rule files are checked without the daemon; root is not needed.
TEST(AlertRules, PromtoolCheckRulesPasses) {
  if (!executable(kPromtool)) GTEST_SKIP() << "no promtool at " << kPromtool;
  const auto check = run_command({kPromtool, "check", "rules", kAlerts});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("SUCCESS"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace earshot::test::prometheus_e2e_test
