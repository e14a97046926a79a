#include "dashboard_queries.h"

#include <regex>
#include <utility>

namespace earshot::test {

namespace {

void collect(const nlohmann::json& node, std::vector<DashboardQuery>& out) {
  if (node.is_object()) {
    if (auto targets = node.find("targets"); targets != node.end() && targets->is_array()) {
      const std::string title = node.value("title", "");
      for (const auto& target : *targets) {
        if (target.is_object() && target.contains("expr") && target["expr"].is_string()) {
          out.push_back({title, target["expr"].get<std::string>()});
        }
      }
    }
    // Panels nest inside rows ("panels") in newer schemas.
    if (auto panels = node.find("panels"); panels != node.end()) collect(*panels, out);
  } else if (node.is_array()) {
    for (const auto& item : node) collect(item, out);
  }
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::vector<DashboardQuery> dashboard_queries(const nlohmann::json& dashboard) {
  std::vector<DashboardQuery> out;
  if (dashboard.contains("panels")) collect(dashboard["panels"], out);
  return out;
}

std::string expand_grafana_variables(std::string expr) {
  // Longest names first: $__rate_interval before $__interval.
  const std::pair<const char*, const char*> builtins[] = {
      {"${__rate_interval}", "15s"}, {"$__rate_interval", "15s"}, {"${__interval}", "5s"},
      {"$__interval", "5s"},         {"${__range}", "1m"},        {"$__range", "1m"},
  };
  for (const auto& [from, to] : builtins) replace_all(expr, from, to);
  // Any other variable is a template variable used in a regex matcher.
  static const std::regex variable(
      R"(\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*)");
  return std::regex_replace(expr, variable, ".*");
}

std::set<std::string> metric_names(const std::string& expr) {
  static const std::regex name(R"(\b(earshot_[a-z0-9_]+|up)\s*\{)");
  static const std::regex bare(R"(\b(earshot_[a-z0-9_]+)\b)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1]);
  }
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), bare); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

}  // namespace earshot::test
