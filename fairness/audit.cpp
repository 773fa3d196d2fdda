#include "fairness/audit.h"

#include <algorithm>

#include "dml/data/permutation.h"
#include "dml/data/random_streams.h"
#include "dml/data/subset.h"
#include "dml/train/datasets.h"
#include "dml/train/evaluation.h"
#include "engine/ops.h"
#include "fairness/audit_intervals.h"
#include "fairness/audit_json.h"
#include "fairness/downstream.h"
#include "fairness/findml_metrics.h"
#include "fairness/leakage.h"
#include "fairness/report/pca.h"

namespace dml::fairness {

namespace {

// A seeded subset of at most n rows, PCA-projected, with classes (and the
// names of those that have one) and groups.
Json embedding_map(const train::Embedded& e, const Tensor& groups, int64_t n, uint64_t seed,
                   const data::ValueNames& class_names) {
  const int64_t total = e.embeddings.size(0);
  Generator gen(seed);
  std::vector<int64_t> rows = data::random_permutation(total, gen);
  rows.resize(size_t(std::min(n, total)));
  std::sort(rows.begin(), rows.end());
  Tensor index = from_vector(rows, {int64_t(rows.size())});
  Tensor points = pca_2d(index_select(e.embeddings, 0, index)).to(DType::f64);
  const std::vector<double> xy = points.to_vector<double>();
  Json out = {{"method", "pca"}};
  Json pts = Json::array();
  for (size_t i = 0; i < rows.size(); ++i) pts.push_back({xy[2 * i], xy[2 * i + 1]});
  out["points"] = pts;
  const std::vector<int64_t> labels = index_select(e.labels, 0, index).to_vector<int64_t>();
  out["labels"] = labels;
  out["groups"] = index_select(groups, 0, index).to_vector<int64_t>();
  Json names = Json::object();
  for (int64_t label : labels)
    if (auto it = class_names.find(label); it != class_names.end())
      names[std::to_string(label)] = it->second;
  out["class_names"] = std::move(names);
  return out;
}

}  // namespace

std::string default_audit_attribute(const Json& config) {
  if (!config["parade"]["attributes"].empty())
    return config["parade"]["attributes"][0].get<std::string>();
  if (!config["data"]["attributes"].empty())
    return config["data"]["attributes"][0].get<std::string>();
  DML_CHECK(config["data"]["format"] == "fashion_mnist_tone",
            "audit: no sensitive attribute named; give --attribute, or set data.attributes or "
            "parade.attributes (the bundled benchmark data.format=fashion_mnist_tone has 'tone')");
  return "tone";
}

AuditTarget audit_target(const train::TrainConfig& config, const std::string& attribute) {
  data::SampleSet train_set = train::open_split(config.data, "train");
  AuditTarget t;
  t.attribute = attribute;
  const int64_t column = data::attribute_column(train_set, attribute);
  std::vector<int64_t> values;
  values.reserve(train_set.samples.size());
  for (const auto& s : train_set.samples) values.push_back(s.attributes[size_t(column)]);
  // groups.h's rule: the rarest value and the most common other one.
  const std::string what = "audit: attribute '" + attribute + "' in " + train_set.name;
  const Subgroups training = find_subgroups(values, kSmallestGroup, what.c_str());
  t.minority = training.minority;
  t.majority = training.majority;
  t.minority_share =
      double(training.counts[training.index_of(training.minority)]) / double(values.size());
  return t;
}

Json audit_embeddings(const train::Embedded& e, const AuditTarget& target,
                      const train::TrainConfig& c, const AuditOptions& options,
                      const std::string& model_name, const std::string& dataset_name) {
  const eval::Metric metric = eval::parse_metric(c.run.metric);
  auto seed = [&](data::Stream stream) { return data::stream_seed(uint64_t(c.run.seed), stream); };
  Tensor groups = narrow(e.attributes, 1, target.column, 1).reshape({e.attributes.size(0)});
  FinDmlReport findml = findml_metrics(e.embeddings, e.labels, groups,
                                       {.metric = metric,
                                        .recall_ks = c.run.recall_ks,
                                        .minority = target.minority,
                                        .majority = target.majority,
                                        .max_pairs = options.max_pairs,
                                        .seed = seed(data::Stream::audit_alignment),
                                        .attribute = target.attribute,
                                        .value_names = target.value_names});
  const BootstrapOptions bootstrap = {.resamples = options.bootstrap_resamples,
                                      .seed = seed(data::Stream::audit_bootstrap)};
  Json doc = {{"schema", "dml-audit-1"},
              {"model", model_name},
              {"dataset", dataset_name},
              {"attribute", target.attribute}};
  const Json findml_json = to_json(findml);
  for (const auto& [key, value] : findml_json.items()) doc[key] = value;
  const std::vector<int64_t> group_ids = groups.to_vector<int64_t>();
  doc["retrieval"]["intervals"] = retrieval_intervals(findml, group_ids, bootstrap);
  if (target.split_attributes.size() >= 2) {
    const int64_t n = e.attributes.size(0), a = e.attributes.size(1);
    const std::vector<int64_t> flat = e.attributes.to_vector<int64_t>();
    std::vector<std::vector<int64_t>> rows;
    for (int64_t i = 0; i < n; ++i)
      rows.emplace_back(flat.begin() + i * a, flat.begin() + (i + 1) * a);
    doc["intersections"] = intersections(findml, target.split_attributes,
                                         target.split_attribute_values, rows, bootstrap);
  }
  doc["leakage"] = to_json(attribute_leakage(
      e.embeddings, groups, {.seed = seed(data::Stream::audit_leakage), .metric = metric}));
  doc["downstream"] = to_json(
      downstream_classifiers(e.embeddings, e.labels, groups,
                             {.minority = target.minority,
                              .majority = target.majority,
                              .minority_share = std::clamp(target.minority_share, 1e-3, 0.5),
                              .metric = metric,
                              .seed = seed(data::Stream::audit_downstream)}));
  doc["embedding_map"] = embedding_map(e, groups, options.map_points, seed(data::Stream::audit_map),
                                       target.class_names);
  return doc;
}

Json audit_model(nn::Module& model, const train::TrainConfig& c, const AuditOptions& options,
                 const std::string& model_name) {
  train::EvalData held_out = train::open_eval_data(c, "test");
  DML_CHECK(!held_out.gallery, "audit: ", held_out.queries.name,
            " is a query/gallery split; audit a dataset whose test split is one set");
  train::check_evaluable(held_out);
  AuditTarget target = audit_target(c, options.attribute);
  target.column = data::attribute_column(held_out.queries, options.attribute);
  target.split_attributes = held_out.queries.attribute_names;
  for (size_t a = 0; a < target.split_attributes.size(); ++a)
    target.split_attribute_values.push_back(data::attribute_value_names(held_out.queries, a));
  target.value_names = target.split_attribute_values[size_t(target.column)];
  target.class_names = held_out.queries.class_names;
  train::Embedded e = train::embed_samples(model, held_out.queries,
                                           train::make_sample_loader(c, false), 256, c.run.workers);
  return audit_embeddings(e, target, c, options, model_name, held_out.queries.name);
}

}  // namespace dml::fairness
