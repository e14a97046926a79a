#pragma once
// earshot's HTTP endpoints: /metrics (Prometheus text), / (landing page),
// /-/healthy, and /api/sessions (JSON).
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "export/snapshot.h"

namespace earshot::exporter {

struct HttpSources {
  std::function<Snapshot()> snapshot;
  std::function<nlohmann::json()> sessions;  // may be empty
};

class HttpServer {
 public:
  // host: an IP literal, a name (resolved here), or "" for every interface;
  // port 0 picks a free one. Throws earshot::Error naming the address when
  // it cannot listen there.
  HttpServer(const std::string& host, std::uint16_t port, HttpSources sources);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (port 0 in the config picks a free one).
  int bound_port() const;
  // Where it listens, with the bound port: "127.0.0.1:40919", "0.0.0.0:9737".
  std::string address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace earshot::exporter
