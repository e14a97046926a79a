// earshot-fake-daemon: stands in for earshot in the self-tests of
// DaemonProcess. Takes the same flags, logs the same JSON "listening" line,
// and serves the config file's text as /metrics plus a counter of scrapes.
// A config containing "exit_before_listening" makes it exit 3 at once;
// one containing "never_listen" makes it wait for SIGTERM without listening.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/unique_fd.h"

namespace {

volatile sig_atomic_t stop_requested = 0;
void request_stop(int) {
  stop_requested = 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"earshot-fake-daemon"};
  std::string config_file;
  std::string listen_address = "127.0.0.1:0";
  std::string log_format = "logfmt";
  app.add_option("--config.file", config_file)->required();
  app.add_option("--web.listen-address", listen_address);
  app.add_option("--log.format", log_format);
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(config_file);
  std::stringstream config;
  config << in.rdbuf();
  std::cerr << R"({"level":"info","msg":"starting","config":")" << config_file << "\"}"
            << std::endl;
  if (config.str().find("exit_before_listening") != std::string::npos) {
    std::cerr << R"({"level":"error","msg":"told to fail"})" << std::endl;
    return 3;
  }

  struct sigaction action {};
  action.sa_handler = request_stop;  // no SA_RESTART: accept() returns EINTR
  sigaction(SIGTERM, &action, nullptr);

  if (config.str().find("never_listen") != std::string::npos) {
    while (!stop_requested) ::pause();
    return 0;
  }

  earshot::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener.get(), 16) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::cerr << "bind: " << std::strerror(errno) << std::endl;
    return 1;
  }
  std::cerr << R"({"level":"info","msg":"listening","address":"127.0.0.1:)"
            << ntohs(address.sin_port) << "\"}" << std::endl;

  long scrapes = 0;
  while (!stop_requested) {
    earshot::UniqueFd connection(::accept(listener.get(), nullptr, nullptr));
    if (!connection) continue;
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t got = ::recv(connection.get(), buffer, sizeof buffer, 0);
      if (got <= 0) break;
      request.append(buffer, static_cast<std::size_t>(got));
    }
    std::string body;
    std::string status = "200 OK";
    if (request.starts_with("GET /metrics ")) {
      body = config.str() + "fake_scrapes_total " + std::to_string(++scrapes) + "\n";
    } else {
      status = "404 Not Found";
      body = "not found\n";
    }
    // Chunked, as civetweb may answer, so the client's decoder is exercised.
    std::ostringstream response;
    response << "HTTP/1.1 " << status << "\r\nContent-Type: text/plain; version=0.0.4\r\n"
             << "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
             << std::hex << body.size() << "\r\n"
             << body << "\r\n0\r\n\r\n";
    std::string text = response.str();
    ::send(connection.get(), text.data(), text.size(), MSG_NOSIGNAL);
  }
  std::cerr << R"({"level":"info","msg":"stopping"})" << std::endl;
  return 0;
}
