#include "export/http_server.h"

#include <CivetServer.h>
#include <fmt/format.h>
#include <netdb.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "export/families.h"
#include "export/listening_ports.h"

namespace earshot::exporter {

namespace {

void reply(mg_connection* conn, int status, const char* content_type, const std::string& body) {
  mg_printf(
      conn,
      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
      status, status == 200 ? "OK" : "Error", content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

class Handler : public CivetHandler {
 public:
  explicit Handler(std::function<void(mg_connection*)> serve) : serve_(std::move(serve)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    serve_(conn);
    return true;
  }

 private:
  std::function<void(mg_connection*)> serve_;
};

// One TCP connection to host:port (host an IP literal), closed at once.
bool connect_once(const char* host, int port) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host, std::to_string(port).c_str(), &hints, &found) != 0) return false;
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), found->ai_addr, found->ai_addrlen) == 0;
}

// Wakes a listener on port: on host, or on loopback when host is empty or a
// wildcard.
void knock(const std::string& host, int port) {
  if (!host.empty() && host != "0.0.0.0" && host != "::" && connect_once(host.c_str(), port))
    return;
  if (!connect_once("127.0.0.1", port)) connect_once("::1", port);
}

// host as an IP literal: itself, or the first address a name resolves to
// (IPv4 first: civetweb may have no IPv6).
std::string numeric_host(const std::string& host, std::uint16_t port, bool has_ipv6) {
  if (host.empty()) return host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int err = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (err != 0)
    throw Error(
        fmt::format("cannot listen on {}: {}", shown_address(host, port), ::gai_strerror(err)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  const addrinfo* chosen = nullptr;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      chosen = a;
      break;
    }
    if (a->ai_family == AF_INET6 && has_ipv6 && !chosen) chosen = a;
  }
  if (!chosen) return host;  // IPv6 only: civetweb_listening_ports says why it cannot
  char text[INET6_ADDRSTRLEN] = {};
  ::getnameinfo(chosen->ai_addr, chosen->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  return text;
}

}  // namespace

struct HttpServer::Impl {
  std::string host;
  HttpSources sources;
  std::unique_ptr<CivetServer> server;
  Handler metrics{[this](mg_connection* c) {
    prometheus::TextSerializer serializer;
    reply(c, 200, "text/plain; version=0.0.4; charset=utf-8",
          serializer.Serialize(to_families(sources.snapshot())));
  }};
  Handler healthy{[](mg_connection* c) { reply(c, 200, "text/plain", "earshot is healthy\n"); }};
  Handler sessions{[this](mg_connection* c) {
    nlohmann::json body = sources.sessions ? sources.sessions() : nlohmann::json::object();
    reply(c, 200, "application/json", body.dump(2) + "\n");
  }};
  Handler landing{[this](mg_connection* c) {
    const mg_request_info* req = mg_get_request_info(c);
    if (std::string(req->local_uri ? req->local_uri : "/") != "/") {
      reply(c, 404, "text/plain", "not found\n");
      return;
    }
    Snapshot s = sources.snapshot();
    std::ostringstream page;
    page
        << "<!doctype html><html><head><meta charset=\"utf-8\"><title>earshot</title></head><body>"
        << "<h1>earshot</h1><p>Who is listening, and what leaves this device while they listen.</p>"
        << "<p>version " << html_escape(s.version) << ", kernel " << html_escape(s.kernel) << "</p>"
        << "<ul><li><a href=\"metrics\">/metrics</a> (Prometheus)</li>"
        << "<li><a href=\"api/sessions\">/api/sessions</a> (capture sessions, JSON)</li>"
        << "<li><a href=\"-/healthy\">/-/healthy</a></li></ul>"
        << "<h2>Hooks</h2><table><tr><th>hook</th><th>attached</th><th>detail</th></tr>";
    for (const auto& h : s.hooks)
      page << "<tr><td>" << html_escape(h.hook) << "</td><td>" << (h.attached ? "yes" : "no")
           << "</td><td>" << html_escape(h.detail) << "</td></tr>";
    page << "</table></body></html>\n";
    reply(c, 200, "text/html; charset=utf-8", page.str());
  }};
};

HttpServer::HttpServer(const std::string& host, std::uint16_t port, HttpSources sources)
    : impl_(std::make_unique<Impl>()) {
  impl_->sources = std::move(sources);
  constexpr unsigned kCivetwebIpv6 = 8;  // mg_check_feature: built with USE_IPV6
  bool has_ipv6 = mg_check_feature(kCivetwebIpv6) != 0;
  impl_->host = numeric_host(host, port, has_ipv6);
  std::string shown = shown_address(host, port);
  std::vector<std::string> options = {
      "listening_ports",    civetweb_listening_ports(impl_->host, port, has_ipv6),
      "num_threads",        "2",
      "request_timeout_ms", "10000"};
  // civetweb says only "null context ... Possible problem binding to port".
  std::string failed =
      fmt::format("cannot listen on {}: address in use, or not an address of this machine", shown);
  try {
    impl_->server = std::make_unique<CivetServer>(options);
  } catch (const CivetException&) {
    throw Error(failed);
  }
  if (!impl_->server->getContext()) throw Error(failed);
  impl_->server->addHandler("/metrics", impl_->metrics);
  impl_->server->addHandler("/-/healthy", impl_->healthy);
  impl_->server->addHandler("/api/sessions", impl_->sessions);
  impl_->server->addHandler("/", impl_->landing);
}

HttpServer::~HttpServer() {
  if (!impl_->server) return;
  // civetweb's listener sees close() only when its poll() returns, which
  // without a connection takes up to 2 s (SOCKET_TIMEOUT_QUANTUM); knocking
  // on the port until close() returns makes a stop immediate.
  int port = bound_port();
  std::atomic<bool> closed{false};
  std::jthread knocker([this, port, &closed] {
    while (!closed && port > 0) {
      knock(impl_->host, port);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  impl_->server->close();
  closed = true;
}

std::string HttpServer::address() const {
  return shown_address(impl_->host, static_cast<std::uint16_t>(bound_port()));
}

int HttpServer::bound_port() const {
  std::vector<mg_server_port> ports(4);
  int n = mg_get_server_ports(impl_->server->getContext(), static_cast<int>(ports.size()),
                              ports.data());
  return n > 0 ? ports[0].port : -1;
}

}  // namespace earshot::exporter
