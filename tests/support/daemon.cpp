#include "daemon.h"

#include <signal.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"

namespace earshot::test {

std::optional<std::string> parse_listening_address(std::string_view log_line) {
  nlohmann::json line = nlohmann::json::parse(log_line, nullptr, false);
  if (line.is_discarded() || !line.is_object()) return std::nullopt;
  auto message = line.find("msg");
  auto address = line.find("address");
  if (message == line.end() || address == line.end() || !message->is_string() ||
      !address->is_string() || message->get<std::string>() != "listening") {
    return std::nullopt;
  }
  return address->get<std::string>();
}

std::uint16_t port_of_address(std::string_view address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size()) {
    throw Error("no port in address '" + std::string(address) + "'");
  }
  std::string digits(address.substr(colon + 1));
  char* end = nullptr;
  unsigned long port = std::strtoul(digits.c_str(), &end, 10);
  if (*end != '\0' || port == 0 || port > 65535) {
    throw Error("bad port in address '" + std::string(address) + "'");
  }
  return static_cast<std::uint16_t>(port);
}

namespace {
// EARSHOT_TEST_SLOWDOWN (a whole factor, default 1) stretches the start
// timeout where the CPU is emulated: loading and verifying the BPF objects
// takes seconds under qemu TCG instead of milliseconds (the vm lane sets it).
long slowdown() {
  const char* text = ::getenv("EARSHOT_TEST_SLOWDOWN");
  if (text == nullptr) return 1;
  char* end = nullptr;
  long factor = std::strtol(text, &end, 10);
  if (*end != '\0' || factor < 1) throw Error(std::string("bad EARSHOT_TEST_SLOWDOWN: ") + text);
  return factor;
}
}  // namespace

DaemonProcess::DaemonProcess(DaemonOptions options) : dir_("earshot-daemon") {
  options.start_timeout *= slowdown();
  config_path_ = dir_.write_file("earshot.yaml", options.config_yaml);
  std::vector<std::string> argv{options.binary,         "--config.file",
                                config_path_,           "--web.listen-address",
                                options.listen_address, "--log.format=json"};
  argv.insert(argv.end(), options.extra_arguments.begin(), options.extra_arguments.end());
  process_.emplace(argv, ChildOptions{.netns_path = options.netns_path,
                                      .stdout_path = dir_.file("stdout"),
                                      .stderr_path = dir_.file("stderr"),
                                      .environment = options.environment});
  auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (true) {
    bool exited = !process_->running();
    std::string log_text = log();
    std::size_t start = 0;
    while (start < log_text.size()) {
      std::size_t end = log_text.find('\n', start);
      if (end == std::string::npos) break;  // a line still being written
      if (auto address =
              parse_listening_address(std::string_view(log_text).substr(start, end - start))) {
        address_ = *address;
        port_ = port_of_address(address_);
        return;
      }
      start = end + 1;
    }
    if (exited) {
      throw Error(process_->command() + " exited with " + std::to_string(*process_->wait({})) +
                  " before listening; stderr:\n" + log_text);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(process_->command() + " logged no \"listening\" line within " +
                  std::to_string(options.start_timeout.count()) + " ms; stderr:\n" + log_text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

DaemonProcess::~DaemonProcess() {
  try {
    if (process_) stop();
  } catch (const Error&) {
    // ChildProcess's own destructor still kills and reaps it.
  }
}

int DaemonProcess::stop(std::chrono::milliseconds timeout) {
  process_->kill(SIGTERM);
  if (auto code = process_->wait(timeout)) return *code;
  process_->kill(SIGKILL);
  return process_->wait_or_throw(std::chrono::seconds(10));
}

std::string DaemonProcess::log() const {
  return process_->stderr_text();
}

HttpResponse DaemonProcess::get(std::string_view path) const {
  return http_get(port_, path);
}

MetricsScrape DaemonProcess::scrape() const {
  return scrape_metrics(port_);
}

bool DaemonProcess::wait_for(const std::function<bool(const MetricsScrape&)>& predicate,
                             std::chrono::milliseconds timeout,
                             std::chrono::milliseconds poll_interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    last_scrape_ = scrape();
    if (predicate(last_scrape_)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace earshot::test
