#include "resolve/device_names.h"

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/log.h"

namespace earshot::resolve {

namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex digits (colons between bytes allowed) to bytes; false on anything else.
bool hex_bytes(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  int high = -1;
  for (char c : text) {
    if (c == ':') {
      if (high >= 0) return false;
      continue;
    }
    int d = hex_digit(c);
    if (d < 0) return false;
    if (high < 0) {
      high = d;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + d));
      high = -1;
    }
  }
  return high < 0 && !out.empty();
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

bool no_hostname(std::string_view name) {
  return name.empty() || name == "*" || name == "-";
}

}  // namespace

bool mac_from_duid(std::string_view duid_hex, config::MacAddress& mac) {
  std::vector<std::uint8_t> bytes;
  if (!hex_bytes(duid_hex, bytes) || bytes.size() < 4) return false;
  const unsigned type = bytes[0] << 8 | bytes[1];
  const unsigned hardware = bytes[2] << 8 | bytes[3];
  if (hardware != 1) return false;  // Ethernet
  std::size_t at = 0;
  if (type == 1 && bytes.size() == 14)
    at = 8;  // DUID-LLT: type, hardware type, time, address
  else if (type == 3 && bytes.size() == 10)
    at = 4;  // DUID-LL: type, hardware type, address
  else
    return false;
  std::copy(bytes.begin() + at, bytes.begin() + at + 6, mac.begin());
  return true;
}

std::vector<Lease> parse_leases(std::string_view text) {
  std::vector<Lease> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto f = fields(text.substr(start, end - start));
    start = end + 1;
    Lease lease;
    if (f.size() >= 5 && f[0] == "#") {
      // odhcpd: "# iface id iaid-or-ipv4 hostname ..."
      if (no_hostname(f[4])) continue;
      std::vector<std::uint8_t> bytes;
      if (f[3] == "ipv4") {
        if (!hex_bytes(f[2], bytes) || bytes.size() != 6) continue;
        std::copy(bytes.begin(), bytes.end(), lease.mac.begin());
      } else if (!mac_from_duid(f[2], lease.mac)) {
        continue;
      }
      lease.hostname = std::string(f[4]);
    } else if (f.size() >= 4 && all_digits(f[0])) {
      // dnsmasq: "expiry mac-or-iaid address hostname [client-id-or-duid]"
      if (no_hostname(f[3])) continue;
      try {
        lease.mac = config::parse_mac(f[1]);
      } catch (const Error&) {
        if (f.size() < 5 || !mac_from_duid(f[4], lease.mac)) continue;
      }
      lease.hostname = std::string(f[3]);
    } else {
      continue;  // dnsmasq's "duid" line, comments, anything else
    }
    out.push_back(std::move(lease));
  }
  return out;
}

DeviceNamer::DeviceNamer(const std::vector<config::GatewayDevice>& devices,
                         std::filesystem::path leases)
    : leases_(std::move(leases)) {
  for (const auto& d : devices) configured_[d.mac] = d.name;
}

void DeviceNamer::refresh() {
  if (leases_.empty()) return;
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(leases_, ec);
  if (ec) return;
  auto size = std::filesystem::file_size(leases_, ec);
  if (ec || (mtime == leases_mtime_ && size == leases_size_)) return;
  std::ifstream file(leases_, std::ios::binary);
  if (!file) return;
  std::ostringstream text;
  text << file.rdbuf();
  leases_mtime_ = mtime;
  leases_size_ = size;
  std::map<config::MacAddress, std::string> leased;
  // A later line (a renewal, the IPv6 lease) keeps the first name seen.
  for (auto& lease : parse_leases(text.str())) leased.try_emplace(lease.mac, lease.hostname);
  log::debug("gateway: leases read",
             {{"file", leases_.string()}, {"devices", std::to_string(leased.size())}});
  // Devices whose lease expired keep their name: a series keeps its label.
  for (auto& [mac, name] : leased) leased_[mac] = std::move(name);
}

std::string DeviceNamer::name(const config::MacAddress& mac) const {
  if (auto it = configured_.find(mac); it != configured_.end()) return it->second;
  if (auto it = leased_.find(mac); it != leased_.end()) return it->second;
  return config::format_mac(mac);
}

}  // namespace earshot::resolve
