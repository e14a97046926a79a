// YAML -> Config. Walks the document by hand (not yaml-cpp's as<T>) so every
// error can name the key path and the line:col of the offending node.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>
#include <type_traits>
#include <utility>

#include "common/error.h"
#include "common/hook_names.h"
#include "config/config.h"
#include "config/suggest.h"

namespace earshot::config {
namespace {

using Field = std::function<void(const YAML::Node& value, const std::string& path)>;
using Fields = std::vector<std::pair<std::string_view, Field>>;

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return in_quotes(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

// "'a.b' must be x" or "'a.b': bad thing", from a value parser's message.
std::string with_path(const std::string& path, std::string_view message) {
  const bool sentence = message.starts_with("must ") || message.starts_with("needs ");
  return in_quotes(path) + (sentence ? " " : ": ") + std::string(message);
}

class Reader {
 public:
  explicit Reader(std::string_view source_name) : source_name_(source_name) {}

  Config read(const YAML::Node& root) {
    Config config;
    read_map(
        root, "",
        {
            {"web", [&](const auto& v, const auto& p) { read_web(v, p, config.web); }},
            {"log", [&](const auto& v, const auto& p) { read_log(v, p, config.log); }},
            {"harvest", [&](const auto& v, const auto& p) { read_harvest(v, p, config.harvest); }},
            {"network", [&](const auto& v, const auto& p) { read_network(v, p, config.network); }},
            {"capture", [&](const auto& v, const auto& p) { read_capture(v, p, config.capture); }},
            {"kernel", [&](const auto& v, const auto& p) { read_kernel(v, p, config.kernel); }},
            {"correlation",
             [&](const auto& v, const auto& p) { read_correlation(v, p, config.correlation); }},
            {"events", [&](const auto& v, const auto& p) { read_events(v, p, config.events); }},
            {"destinations",
             [&](const auto& v, const auto& p) { read_destinations(v, p, config.destinations); }},
            {"limits", [&](const auto& v, const auto& p) { read_limits(v, p, config.limits); }},
            {"policy", [&](const auto& v, const auto& p) { read_policy(v, p, config.policy); }},
            {"gateway", [&](const auto& v, const auto& p) { read_gateway(v, p, config.gateway); }},
        });
    return config;
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    if (mark.is_null()) throw Error(source_name_ + ": " + message);
    throw Error(source_name_ + ":" + std::to_string(mark.line + 1) + ":" +
                std::to_string(mark.column + 1) + ": " + message);
  }

 private:
  // An empty value's own mark is where the next token starts, often the next
  // line: point at its key instead.
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail(node.IsNull() ? current_key_mark_ : node.Mark(), message);
  }

  // --- sections ---

  void read_web(const YAML::Node& node, const std::string& path, WebConfig& web) {
    read_map(node, path,
             {
                 {"listen_address",
                  [&](const auto& v, const auto& p) {
                    web.listen_address = parse_text(v, p, "an address", parse_listen_address);
                  }},
             });
  }

  void read_log(const YAML::Node& node, const std::string& path, LogConfig& log) {
    read_map(node, path,
             {
                 {"level",
                  [&](const auto& v, const auto& p) {
                    log.level = parse_text(v, p, "a string", parse_log_level);
                  }},
                 {"format",
                  [&](const auto& v, const auto& p) {
                    log.format = parse_text(v, p, "a string", parse_log_format);
                  }},
             });
  }

  void read_harvest(const YAML::Node& node, const std::string& path, HarvestConfig& harvest) {
    read_map(node, path,
             {
                 {"interval",
                  [&](const auto& v, const auto& p) {
                    harvest.interval = duration(v, p, kMinHarvestInterval);
                  }},
             });
  }

  void read_network(const YAML::Node& node, const std::string& path, NetworkConfig& network) {
    read_map(node, path,
             {
                 {"namespaces",
                  [&](const auto& v, const auto& p) {
                    read_list_into(v, p, network.namespaces,
                                   [&](const auto& item, const auto& item_path) {
                                     return source_path(item, item_path);
                                   });
                  }},
                 {"dns_hook",
                  [&](const auto& v, const auto& p) {
                    network.dns_hook = parse_text(v, p, "a string", parse_dns_hook);
                  }},
             });
  }

  void read_capture(const YAML::Node& node, const std::string& path, CaptureConfig& capture) {
    read_map(
        node, path,
        {
            {"sysfs", [&](const auto& v, const auto& p) { capture.sysfs = boolean(v, p); }},
            {"extra_devices",
             [&](const auto& v, const auto& p) {
               read_list_into(v, p, capture.extra_devices,
                              [&](const auto& item, const auto& item_path) {
                                return source_path(item, item_path);
                              });
             }},
            {"tiers",
             [&](const auto& v, const auto& p) {
               read_list_into(v, p, capture.tiers, [&](const auto& item, const auto& item_path) {
                 const Tier tier = parse_text(item, item_path, "a string", parse_tier);
                 if (std::find(capture.tiers.begin(), capture.tiers.end(), tier) !=
                     capture.tiers.end()) {
                   fail(item,
                        with_path(item_path, in_quotes(to_string(tier)) + " is listed twice"));
                 }
                 return tier;
               });
             }},
            {"libasound",
             [&](const auto& v, const auto& p) {
               capture.libasound = optional_source_path(v, p);  // empty: find it
             }},
            {"libpulse",
             [&](const auto& v, const auto& p) { capture.libpulse = optional_source_path(v, p); }},
            {"libpipewire",
             [&](const auto& v, const auto& p) {
               capture.libpipewire = optional_source_path(v, p);
             }},
            {"procfs_interval",
             [&](const auto& v, const auto& p) {
               capture.procfs_interval = duration(v, p, kMinHarvestInterval);
             }},
            {"cameras", [&](const auto& v, const auto& p) { capture.cameras = boolean(v, p); }},
            {"extra_cameras",
             [&](const auto& v, const auto& p) {
               read_list_into(v, p, capture.extra_cameras,
                              [&](const auto& item, const auto& item_path) {
                                return source_path(item, item_path);
                              });
             }},
        });
  }

  void read_kernel(const YAML::Node& node, const std::string& path, KernelConfig& kernel) {
    read_map(node, path,
             {
                 {"btf_file",
                  [&](const auto& v, const auto& p) {
                    kernel.btf_file = optional_source_path(v, p);  // empty: the kernel's own
                  }},
                 {"disabled_hooks",
                  [&](const auto& v, const auto& p) {
                    read_list_into(
                        v, p, kernel.disabled_hooks, [&](const auto& item, const auto& item_path) {
                          std::string name = non_empty_text(item, item_path);
                          check_hook_name(item, item_path, name);
                          if (std::find(kernel.disabled_hooks.begin(), kernel.disabled_hooks.end(),
                                        name) != kernel.disabled_hooks.end())
                            fail(item, with_path(item_path, in_quotes(name) + " is listed twice"));
                          return name;
                        });
                  }},
             });
  }

  void check_hook_name(const YAML::Node& node, const std::string& path, const std::string& name) {
    std::vector<std::string_view> known(hooks::kAll.begin(), hooks::kAll.end());
    if (std::find(known.begin(), known.end(), name) != known.end()) return;
    std::string message =
        with_path(path, "must be a hook earshot has (got " + in_quotes(name) + ")");
    const std::string suggestion = closest_match(name, known);
    if (!suggestion.empty()) message += "; did you mean " + in_quotes(suggestion) + "?";
    fail(node, message);
  }

  void read_correlation(const YAML::Node& node, const std::string& path,
                        CorrelationConfig& correlation) {
    read_map(
        node, path,
        {
            {"grace", [&](const auto& v,
                          const auto& p) { correlation.grace = duration(v, p, milliseconds(0)); }},
            {"idle_gap",
             [&](const auto& v, const auto& p) {
               correlation.idle_gap = duration(v, p, milliseconds(1));
             }},
            {"baseline",
             [&](const auto& v, const auto& p) {
               correlation.baseline = duration(v, p, milliseconds(1));
             }},
        });
  }

  void read_events(const YAML::Node& node, const std::string& path, EventsConfig& events) {
    read_map(
        node, path,
        {
            {"file", [&](const auto& v, const auto& p) { events.file = non_empty_text(v, p); }},
            {"sessions_kept",
             [&](const auto& v, const auto& p) { events.sessions_kept = count(v, p, 0); }},
        });
  }

  void read_destinations(const YAML::Node& node, const std::string& path,
                         std::vector<Destination>& destinations) {
    read_list_into(node, path, destinations, [&](const auto& item, const auto& item_path) {
      Destination destination;
      bool has_cidr = false;
      bool has_name = false;
      read_map(item, item_path,
               {
                   {"cidr",
                    [&](const auto& v, const auto& p) {
                      destination.cidr = parse_text(v, p, "a CIDR like 10.0.0.0/8", parse_cidr);
                      has_cidr = true;
                    }},
                   {"name",
                    [&](const auto& v, const auto& p) {
                      destination.name = non_empty_text(v, p);
                      has_name = true;
                    }},
               });
      if (!item.IsMap()) fail(item, with_path(item_path, "must be a mapping with cidr and name"));
      if (!has_cidr) fail(item, with_path(item_path, "needs a 'cidr'"));
      if (!has_name) fail(item, with_path(item_path, "needs a 'name'"));
      return destination;
    });
  }

  void read_limits(const YAML::Node& node, const std::string& path, LimitsConfig& limits) {
    read_map(
        node, path,
        {
            {"destinations_per_process",
             [&](const auto& v, const auto& p) {
               limits.destinations_per_process = count(v, p, 1);
             }},
            {"processes", [&](const auto& v, const auto& p) { limits.processes = count(v, p, 1); }},
            {"devices", [&](const auto& v, const auto& p) { limits.devices = count(v, p, 1); }},
            {"destinations_per_device",
             [&](const auto& v, const auto& p) {
               limits.destinations_per_device = count(v, p, 1);
             }},
        });
  }

  void read_policy(const YAML::Node& node, const std::string& path, PolicyConfig& policy) {
    const auto names = [&](std::vector<std::string>& into) {
      return [&](const YAML::Node& v, const std::string& p) {
        read_list_into(v, p, into, [&](const auto& item, const auto& item_path) {
          return non_empty_text(item, item_path);
        });
      };
    };
    read_map(node, path,
             {
                 {"capture_allowed", names(policy.capture_allowed)},
                 {"upload_allowed", names(policy.upload_allowed)},
             });
  }

  void read_gateway(const YAML::Node& node, const std::string& path, GatewayConfig& gateway) {
    read_map(
        node, path,
        {
            {"enabled", [&](const auto& v, const auto& p) { gateway.enabled = boolean(v, p); }},
            {"lan_interfaces",
             [&](const auto& v, const auto& p) {
               read_list_into(v, p, gateway.lan_interfaces, [&](const auto& item, const auto& ip) {
                 std::string name = non_empty_text(item, ip);
                 // IFNAMSIZ - 1; no '/' or space (what the kernel refuses).
                 if (name.size() > 15 || name.find_first_of("/ \t:") != std::string::npos)
                   fail(item, with_path(ip, "must be a network interface name (got " +
                                                describe(item) + ")"));
                 if (std::find(gateway.lan_interfaces.begin(), gateway.lan_interfaces.end(),
                               name) != gateway.lan_interfaces.end())
                   fail(item, with_path(ip, in_quotes(name) + " is listed twice"));
                 return name;
               });
             }},
            {"leases_file",
             [&](const auto& v, const auto& p) {
               gateway.leases_file = optional_source_path(v, p);
             }},
            {"forget_idle_after",
             [&](const auto& v, const auto& p) {
               gateway.forget_idle_after = duration(v, p, std::chrono::seconds(1));
             }},
            {"devices",
             [&](const auto& v, const auto& p) {
               read_list_into(v, p, gateway.devices, [&](const auto& item, const auto& ip) {
                 return read_gateway_device(item, ip, gateway.devices);
               });
             }},
        });
    if (gateway.enabled && gateway.lan_interfaces.empty())
      fail(node,
           with_path(path + ".lan_interfaces", "must list the LAN interfaces when " +
                                                   in_quotes(path + ".enabled") + " is true"));
  }

  GatewayDevice read_gateway_device(const YAML::Node& item, const std::string& item_path,
                                    const std::vector<GatewayDevice>& earlier) {
    GatewayDevice device;
    bool has_mac = false;
    bool has_name = false;
    read_map(item, item_path,
             {
                 {"mac",
                  [&](const auto& v, const auto& p) {
                    device.mac = parse_text(v, p, "a MAC address", parse_mac);
                    for (const auto& other : earlier)
                      if (other.mac == device.mac)
                        fail(v,
                             with_path(p, in_quotes(format_mac(device.mac)) + " is listed twice"));
                    has_mac = true;
                  }},
                 {"name",
                  [&](const auto& v, const auto& p) {
                    device.name = non_empty_text(v, p);
                    has_name = true;
                  }},
             });
    if (!item.IsMap()) fail(item, with_path(item_path, "must be a mapping with mac and name"));
    if (!has_mac) fail(item, with_path(item_path, "needs a 'mac'"));
    if (!has_name) fail(item, with_path(item_path, "needs a 'name'"));
    return device;
  }

  // --- structure ---

  // Runs the field's reader for each entry; unknown and repeated keys are
  // errors. No value at all (null) reads as an empty mapping: all defaults.
  void read_map(const YAML::Node& node, const std::string& path, const Fields& fields) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      fail(node, path.empty()
                     ? "the config must be a mapping of sections (got " + describe(node) + ")"
                     : with_path(path, "must be a mapping (got " + describe(node) + ")"));
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) {
        fail(key, "keys must be plain names" + (path.empty() ? "" : " in " + in_quotes(path)) +
                      " (got " + describe(key) + ")");
      }
      const std::string& name = key.Scalar();
      const std::string key_path = path.empty() ? name : path + "." + name;
      const auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& candidate) {
        return candidate.first == name;
      });
      if (field == fields.end()) {
        std::vector<std::string_view> known;
        for (const auto& [known_name, reader] : fields) known.push_back(known_name);
        std::string message = "unknown key " + in_quotes(key_path);
        const std::string suggestion = closest_match(name, known);
        if (!suggestion.empty()) message += " (did you mean " + in_quotes(suggestion) + "?)";
        fail(key, message);
      }
      if (!seen.insert(name).second) fail(key, "duplicate key " + in_quotes(key_path));
      current_key_mark_ = key.Mark();
      field->second(entry.second, key_path);
    }
  }

  // Replaces `into` with read_item(item, "path[i]") of each entry. No value
  // at all (null) keeps the default, as if the key were absent.
  template <typename T, typename ReadItem>
  void read_list_into(const YAML::Node& node, const std::string& path, std::vector<T>& into,
                      ReadItem&& read_item) {
    if (node.IsNull()) return;
    if (!node.IsSequence())
      fail(node, with_path(path, "must be a list (got " + describe(node) + ")"));
    into.clear();
    for (std::size_t i = 0; i < node.size(); ++i) {
      into.push_back(read_item(node[i], path + "[" + std::to_string(i) + "]"));
    }
  }

  // --- values ---

  const std::string& text(const YAML::Node& node, const std::string& path,
                          std::string_view expected) {
    if (!node.IsScalar()) {
      fail(node,
           with_path(path, "must be " + std::string(expected) + " (got " + describe(node) + ")"));
    }
    return node.Scalar();
  }

  std::string non_empty_text(const YAML::Node& node, const std::string& path) {
    const std::string& value = text(node, path, "a string");
    if (value.empty()) fail(node, with_path(path, "must not be empty"));
    return value;
  }

  // parse_value(text) with the path and position added to its error.
  template <typename ParseValue>
  auto parse_text(const YAML::Node& node, const std::string& path, std::string_view expected,
                  ParseValue&& parse_value)
      -> std::invoke_result_t<ParseValue&, const std::string&> {
    const std::string& value = text(node, path, expected);
    try {
      return parse_value(value);
    } catch (const Error& error) {
      fail(node, with_path(path, error.what()));
    }
  }

  milliseconds duration(const YAML::Node& node, const std::string& path, milliseconds minimum) {
    const milliseconds value =
        parse_text(node, path, "a duration like 500ms, 5s, 2m", parse_duration);
    if (value < minimum) {
      fail(node, with_path(path, "must be at least " + format_duration(minimum) + " (got " +
                                     describe(node) + ")"));
    }
    return value;
  }

  bool boolean(const YAML::Node& node, const std::string& path) {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      fail(node, with_path(path, "must be true or false (got " + describe(node) + ")"));
    }
    return value;
  }

  std::size_t count(const YAML::Node& node, const std::string& path, std::size_t minimum) {
    const std::string& value = text(node, path, "a whole number");
    std::size_t number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      fail(node, with_path(path, "must be a whole number (got " + describe(node) + ")"));
    }
    if (number < minimum) {
      fail(node, with_path(path, "must be at least " + std::to_string(minimum) + " (got " +
                                     describe(node) + ")"));
    }
    return number;
  }

  // A path that may be left empty (or without a value): an empty SourcePath.
  SourcePath optional_source_path(const YAML::Node& node, const std::string& path) {
    if (node.IsNull() || (node.IsScalar() && node.Scalar().empty())) return SourcePath{};
    return source_path(node, path);
  }

  SourcePath source_path(const YAML::Node& node, const std::string& path) {
    const std::string& value = text(node, path, "a path");
    if (value.empty() || value.front() != '/') {
      fail(node, with_path(path, "must be an absolute path (got " + describe(node) + ")"));
    }
    return SourcePath{value, node.Mark().line + 1, node.Mark().column + 1};
  }

  std::string source_name_;
  YAML::Mark current_key_mark_ = YAML::Mark::null_mark();  // of the entry being read
};

}  // namespace

Config parse(std::string_view yaml_text, std::string_view source_name) {
  Reader reader(source_name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    reader.fail(error.mark, "YAML syntax error: " + error.msg);
  }
  if (documents.empty()) return Config{};
  if (documents.size() > 1) {
    reader.fail(documents[1].Mark(), "only one YAML document is allowed (found a second)");
  }
  return reader.read(documents.front());
}

}  // namespace earshot::config
