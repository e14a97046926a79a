#pragma once
// The PromQL a Grafana dashboard runs: every target `expr` of every panel,
// with Grafana's variables replaced so Prometheus itself can evaluate it.
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace earshot::test {

struct DashboardQuery {
  std::string panel;  // the panel's title, for failure messages
  std::string expr;   // as written in the dashboard
};

// Every panel target's expr, nested rows included, in dashboard order.
std::vector<DashboardQuery> dashboard_queries(const nlohmann::json& dashboard);

// Replaces $__rate_interval, $__interval, $__range and the dashboard's
// template variables ($instance, ${instance}, $datasource) with values a
// test Prometheus that scrapes every second can evaluate: windows of a few
// seconds, and ".*" for label matchers.
std::string expand_grafana_variables(std::string expr);

// The metric names an expression reads (earshot_* and up).
std::set<std::string> metric_names(const std::string& expr);

}  // namespace earshot::test
