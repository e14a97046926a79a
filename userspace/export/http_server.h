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
  // listen: "host:port" as civetweb takes it ("127.0.0.1:9737", "[::1]:0").
  // Throws earshot::Error naming the address when it cannot bind.
  HttpServer(const std::string& listen, HttpSources sources);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (port 0 in the config picks a free one).
  int bound_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace earshot::exporter
