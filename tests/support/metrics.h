#pragma once
// Reading a daemon's HTTP endpoints on loopback: a minimal HTTP/1.0 GET
// (tests only talk to our own daemon on 127.0.0.1) and /metrics parsed into
// a MetricsScrape.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "prometheus_text.h"

namespace earshot::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
};

// GET http://host:port/path. Throws earshot::Error when it cannot connect,
// times out, or the answer is not HTTP.
HttpResponse http_get(std::uint16_t port, std::string_view path,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      const std::string& host = "127.0.0.1");
// Parses a raw HTTP response (status line, headers, body; chunked bodies
// are decoded). Throws earshot::Error when malformed.
HttpResponse parse_http_response(std::string_view raw);

// GET /metrics (or another path), which must answer 200, parsed.
MetricsScrape scrape_metrics(std::uint16_t port, std::string_view path = "/metrics",
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace earshot::test
