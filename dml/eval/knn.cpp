#include "dml/eval/knn.h"

namespace dml::eval {

std::string metric_name(Metric metric) {
  return metric == Metric::cosine ? "cosine" : "euclidean";
}

Metric parse_metric(const std::string& name) {
  if (name == "euclidean") return Metric::euclidean;
  if (name == "cosine") return Metric::cosine;
  throw Error(detail::concat("unknown metric '", name, "': use euclidean or cosine"));
}

}  // namespace dml::eval
