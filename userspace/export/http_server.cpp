#include "export/http_server.h"

#include <CivetServer.h>
#include <fmt/format.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "common/error.h"
#include "export/families.h"

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

}  // namespace

struct HttpServer::Impl {
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

HttpServer::HttpServer(const std::string& listen, HttpSources sources)
    : impl_(std::make_unique<Impl>()) {
  impl_->sources = std::move(sources);
  std::vector<std::string> options = {"listening_ports",    listen, "num_threads", "2",
                                      "request_timeout_ms", "10000"};
  try {
    impl_->server = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    throw Error(fmt::format("cannot listen on {}: {}", listen, e.what()));
  }
  if (!impl_->server->getContext()) throw Error(fmt::format("cannot listen on {}", listen));
  impl_->server->addHandler("/metrics", impl_->metrics);
  impl_->server->addHandler("/-/healthy", impl_->healthy);
  impl_->server->addHandler("/api/sessions", impl_->sessions);
  impl_->server->addHandler("/", impl_->landing);
}

HttpServer::~HttpServer() {
  if (impl_->server) impl_->server->close();
}

int HttpServer::bound_port() const {
  std::vector<mg_server_port> ports(4);
  int n = mg_get_server_ports(impl_->server->getContext(), static_cast<int>(ports.size()),
                              ports.data());
  return n > 0 ? ports[0].port : -1;
}

}  // namespace earshot::exporter
