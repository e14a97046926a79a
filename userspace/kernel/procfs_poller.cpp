#include "kernel/procfs_poller.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/error.h"

namespace earshot::kernel {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename T>
T number(std::string_view value, std::string_view key) {
  T out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size())
    throw Error(fmt::format("pcm status: '{}' is not a number for {}", value, key));
  return out;
}

// Handle ids: the substream in the low 32 bits, the open's generation above,
// so a reopen of the same substream is a new handle.
std::uint64_t make_handle(const SubstreamId& id, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(generation) << 32) |
         (static_cast<std::uint64_t>(id.card & 0xff) << 16) |
         (static_cast<std::uint64_t>(id.device & 0xff) << 8) |
         static_cast<std::uint64_t>(id.sub & 0xff);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

PcmStatus parse_pcm_status(std::string_view text) {
  PcmStatus s;
  if (trim(text.substr(0, text.find('\n'))) == "closed") return s;
  bool saw_state = false;
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // "-----" separators
    std::string_view key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "state") {
      s.state = std::string(value);
      saw_state = true;
    } else if (key == "owner_pid") {
      s.owner_pid = number<std::uint32_t>(value, key);
    } else if (key == "hw_ptr") {
      s.hw_ptr = number<std::uint64_t>(value, key);
    } else if (key == "appl_ptr") {
      s.appl_ptr = number<std::uint64_t>(value, key);
    }
  }
  if (!saw_state) throw Error("pcm status: neither 'closed' nor a 'state:' line");
  s.open = true;
  return s;
}

ProcfsChanges ProcfsTracker::update(const std::vector<SubstreamReading>& poll) {
  ProcfsChanges out;
  std::map<SubstreamId, const SubstreamReading*> seen;
  for (const auto& r : poll)
    if (r.status.open && r.status.owner_pid) seen[r.id] = &r;

  for (auto it = live_.begin(); it != live_.end();) {
    auto now = seen.find(it->first);
    if (now == seen.end() || now->second->status.owner_pid != it->second.owner_pid) {
      out.closed.push_back({it->second.handle, it->second.tgid, it->second.dev});
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, r] : seen) {
    auto [it, fresh] = live_.try_emplace(id);
    Live& l = it->second;
    if (fresh) {
      l.handle = make_handle(id, ++generation_);
      l.tgid = r->tgid ? r->tgid : r->status.owner_pid;
      l.owner_pid = r->status.owner_pid;
      l.dev = r->dev;
      out.opened.push_back({l.handle, l.tgid, l.dev});
    }
    // appl_ptr restarts at 0 on every prepare: then all of it is new.
    std::uint64_t appl = r->status.appl_ptr;
    l.frames += appl >= l.last_appl_ptr ? appl - l.last_appl_ptr : appl;
    l.last_appl_ptr = appl;
    out.frames.push_back({l.handle, l.tgid, l.frames});
  }
  return out;
}

ProcfsPoller::ProcfsPoller(std::filesystem::path asound, std::filesystem::path sound_class,
                           std::filesystem::path proc)
    : asound_(std::move(asound)), sound_class_(std::move(sound_class)), proc_(std::move(proc)) {}

std::vector<SubstreamReading> ProcfsPoller::read() const {
  namespace fs = std::filesystem;
  static const std::regex card_re("card([0-9]+)"), pcm_re("pcm([0-9]+)c"), sub_re("sub([0-9]+)");
  std::vector<SubstreamReading> out;
  std::error_code ec;
  std::smatch m;
  for (const auto& card : fs::directory_iterator(asound_, ec)) {
    std::string card_name = card.path().filename().string();
    if (!std::regex_match(card_name, m, card_re)) continue;
    int card_no = std::stoi(m[1]);
    std::error_code ec2;
    for (const auto& pcm : fs::directory_iterator(card.path(), ec2)) {
      std::string pcm_name = pcm.path().filename().string();
      if (!std::regex_match(pcm_name, m, pcm_re)) continue;
      int device_no = std::stoi(m[1]);
      std::uint32_t dev = 0;
      std::string numbers =
          read_file(sound_class_ / fmt::format("pcmC{}D{}c", card_no, device_no) / "dev");
      unsigned major = 0, minor = 0;
      if (std::sscanf(numbers.c_str(), "%u:%u", &major, &minor) == 2) dev = (major << 20) | minor;
      std::error_code ec3;
      for (const auto& sub : fs::directory_iterator(pcm.path(), ec3)) {
        std::string sub_name = sub.path().filename().string();
        if (!std::regex_match(sub_name, m, sub_re)) continue;
        SubstreamReading r;
        r.id = {card_no, device_no, std::stoi(m[1])};
        r.dev = dev;
        try {
          r.status = parse_pcm_status(read_file(sub.path() / "status"));
        } catch (const Error&) {
          continue;  // vanished or half-written: the next poll sees it
        }
        if (r.status.owner_pid) {
          // owner_pid is the opening thread; the process is its thread group.
          std::istringstream st(read_file(proc_ / std::to_string(r.status.owner_pid) / "status"));
          for (std::string line; std::getline(st, line);)
            if (line.rfind("Tgid:", 0) == 0)
              r.tgid = static_cast<std::uint32_t>(std::stoul(line.substr(5)));
        }
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace earshot::kernel
