#pragma once
// Snapshot -> Prometheus metric families. Metric names are a contract
// (README.md, "Metrics"): dashboards, alert rules and tests use them.
#include <prometheus/metric_family.h>

#include <vector>

#include "export/snapshot.h"

namespace earshot::exporter {

std::vector<prometheus::MetricFamily> to_families(const Snapshot& snapshot);

}  // namespace earshot::exporter
