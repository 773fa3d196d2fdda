#include "fairness/experiment.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "dml/train/model_factory.h"
#include "dml/train/trainer.h"
#include "engine/atomic_file.h"
#include "fairness/audit.h"
#include "fairness/parade_training.h"
#include "fairness/report/html_report.h"

namespace dml::fairness {

namespace {

// Trains one arm and audits its exported model.
Json train_and_audit(Json config, const std::string& output, const std::string& attribute) {
  config["train"]["output"] = output;
  train::run_training(config, {.extension = make_parade_extension});
  const std::string model_path = output + "/model.safetensors";
  train::TrainedModel m = train::load_trained_model(model_path, {});
  return audit_model(*m.model, m.typed, {.attribute = attribute}, model_path);
}

// One table row: a label and where its value lies in an audit document.
struct Row {
  std::string label;
  Json::json_pointer where;
};

std::vector<Row> table_rows(const Json& doc) {
  std::vector<Row> rows = {{"R@1 overall", Json::json_pointer("/retrieval/overall/recall@1")}};
  for (const Json& g : doc["groups"]) {
    const std::string v = std::to_string(g["value"].get<int64_t>());
    rows.push_back({"R@1 " + g["name"].get<std::string>(),
                    Json::json_pointer("/retrieval/per_group/" + v + "/recall@1")});
  }
  rows.push_back({"R@1 gap (minority - majority)",
                  Json::json_pointer("/retrieval/gap_minority_majority/recall@1")});
  rows.push_back({"MAP@R gap (minority - majority)",
                  Json::json_pointer("/retrieval/gap_minority_majority/map@r")});
  for (const char* a : {"intra_class", "inter_class", "uniformity"})
    rows.push_back({std::string(a) + " gap (minority - majority)",
                    Json::json_pointer(std::string("/alignment/gap_minority_majority/") + a)});
  rows.push_back(
      {"attribute leakage (balanced acc.)", Json::json_pointer("/leakage/balanced_accuracy")});
  for (const char* d :
       {"logistic_imbalanced", "logistic_balanced", "knn_imbalanced", "knn_balanced"}) {
    rows.push_back({std::string(d) + " accuracy",
                    Json::json_pointer(std::string("/downstream/") + d + "/overall")});
    rows.push_back({std::string(d) + " gap", Json::json_pointer(std::string("/downstream/") + d +
                                                                "/gap_minority_majority")});
  }
  return rows;
}

std::vector<double> values_at(const std::vector<Json>& docs, const Json::json_pointer& where) {
  std::vector<double> out;
  for (const Json& d : docs)
    out.push_back(d.contains(where) && d[where].is_number() ? d[where].get<double>() : NAN);
  return out;
}

std::string mean_std(const std::vector<double>& v) {
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  const double mean = sum / double(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  char buf[64];
  if (v.size() > 1)
    std::snprintf(buf, sizeof buf, "%.4f +/- %.4f", mean, std::sqrt(sq / double(v.size() - 1)));
  else
    std::snprintf(buf, sizeof buf, "%.4f", mean);
  return buf;
}

}  // namespace

Json findml_default_config() {
  return Json::parse(R"({
    "data": {"format": "fashion_mnist_tone", "root": "/usr/share/datasets/fashion-mnist",
             "train_classes": [0, 1, 2, 3, 4], "test_classes": [5, 6, 7, 8, 9],
             "tone_transform": "invert", "minority_share": 0.05, "test_minority_share": 0.5},
    "model": {"backbone": "small_resnet10", "in_channels": 1, "embedding_dim": 64},
    "loss": {"name": "multi_similarity"},
    "optimizer": {"name": "adam", "lr": 0.001, "weight_decay": 0.0004},
    "augment": {"image_size": 28, "resize": 28, "random_resized_crop": false,
                "horizontal_flip": true, "mean": [0.2860], "std": [0.3530]},
    "train": {"epochs": 1, "batch_size": 100, "m": 20, "output": "runs/findml"},
    "parade": {"attributes": ["tone"], "embedding_dim": 32, "alpha": 1.0, "rho": 1.0,
               "direction": "attribute_to_class", "projector_lr": 0.001},
    "eval": {"every": 1, "metric": "cosine", "recall_ks": [1, 2, 4, 8], "clustering": false}
  })");
}

ExperimentResult run_findml_experiment(const Json& config, const ExperimentOptions& options) {
  DML_CHECK(!options.seeds.empty(), "experiment findml: give at least one seed");
  DML_CHECK(!options.output.empty(), "experiment findml: give an output directory");
  const std::string attribute =
      options.attribute.empty() ? default_audit_attribute(config) : options.attribute;
  // The baseline has no attribute branch, so no per-attribute settings either.
  Json baseline = config, parade = config;
  baseline["parade"]["attributes"] = Json::array();
  baseline["parade"]["per_attribute"] = Json::object();
  parade["parade"]["attributes"] = Json::array({attribute});
  parade_config(parade);  // a bad parade setting fails now, not after the first baseline run
  ExperimentResult result;
  for (int64_t seed : options.seeds) {
    const std::string dir = options.output + "/seed" + std::to_string(seed);
    baseline["train"]["seed"] = seed;
    parade["train"]["seed"] = seed;
    std::printf("== seed %lld: baseline ==\n", (long long)seed);
    result.baseline.push_back(train_and_audit(baseline, dir + "/baseline", attribute));
    std::printf("== seed %lld: PARADE ==\n", (long long)seed);
    result.parade.push_back(train_and_audit(parade, dir + "/parade", attribute));
  }
  Json record = {{"config", config},
                 {"seeds", options.seeds},
                 {"attribute", attribute},
                 {"table", findml_table_json(result)},
                 {"baseline", result.baseline},
                 {"parade", result.parade}};
  write_file_atomically(options.output + "/experiment.json", record.dump(1) + "\n");
  write_file_atomically(
      options.output + "/report.html",
      render_audits_html(
          {{"baseline, seed " + std::to_string(options.seeds[0]), result.baseline[0]},
           {"PARADE, seed " + std::to_string(options.seeds[0]), result.parade[0]}},
          "finDML: baseline vs PARADE"));
  return result;
}

Json findml_table_json(const ExperimentResult& r) {
  Json out = Json::array();
  for (const Row& row : table_rows(r.baseline.front()))
    out.push_back({{"metric", row.label},
                   {"baseline", values_at(r.baseline, row.where)},
                   {"parade", values_at(r.parade, row.where)}});
  return out;
}

std::string findml_table(const ExperimentResult& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%-36s %-20s %-20s\n", "metric", "baseline", "PARADE");
  std::string out = line;
  for (const Row& row : table_rows(r.baseline.front())) {
    std::snprintf(line, sizeof line, "%-36s %-20s %-20s\n", row.label.c_str(),
                  mean_std(values_at(r.baseline, row.where)).c_str(),
                  mean_std(values_at(r.parade, row.where)).c_str());
    out += line;
  }
  return out;
}

}  // namespace dml::fairness
