#pragma once
// earshot-speaker scrape: GETs a URL every so often as Prometheus does
// (HTTP/1.1, one connection kept alive when the server allows it), for a
// given time; prints "ready", then "scrapes=K failed=F bytes=M" (attempts,
// those without a complete 2xx reply, body bytes read).
#include <cstdint>
#include <string>

#include "../traffic.h"

namespace earshot::speaker {

struct ScrapeTarget {
  traffic::SocketAddress address;
  std::string host;  // the Host header: as in the URL
  std::string path;
};

// http://HOST[:PORT][/PATH], HOST an IPv4 address or an IPv6 one in brackets.
ScrapeTarget parse_scrape_url(const std::string& url);

struct ScrapeOptions {
  std::string url;
  std::uint32_t every_ms = 5000;
  double seconds = 60;
};

int run_scrape(const ScrapeOptions& options, const traffic::Common& common);

}  // namespace earshot::speaker
