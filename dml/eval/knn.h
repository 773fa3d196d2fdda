#pragma once
// The kNN search that evaluation runs on: the engine's op (engine/knn.h: what
// it computes, its memory and threads), under the names evaluation uses, and
// the metric's configuration names.
#include <string>

#include "engine/knn.h"

namespace dml::eval {

using Metric = KnnMetric;
using dml::kKnnBlockCols;
using dml::knn;
using dml::KnnOptions;
using dml::KnnResult;
using dml::NeighborVisitor;
using dml::visit_neighbors;

// "euclidean" / "cosine"; parse_metric throws dml::Error on anything else.
std::string metric_name(Metric metric);
Metric parse_metric(const std::string& name);

}  // namespace dml::eval
