#include "fairness/parade_training.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include "dml/data/random_streams.h"
#include "dml/data/subset.h"
#include "dml/eval/evaluate.h"
#include "dml/losses/registry.h"
#include "dml/train/embed.h"
#include "engine/ops.h"
#include "fairness/groups.h"

namespace dml::fairness {

namespace {

AttributeBranchConfig branch_config(const std::string& name, const Json& defaults,
                                    const Json& overrides) {
  static const std::set<std::string> allowed = {"alpha", "rho", "embedding_dim", "direction"};
  for (const auto& [key, value] : overrides.items()) {
    DML_CHECK(allowed.count(key), "parade.per_attribute.", name, ": unknown key '", key,
              "' (allowed: alpha, rho, embedding_dim, direction)");
    DML_CHECK(train::same_kind(defaults[key], value), "parade.per_attribute.", name, ".", key,
              " must be a ", defaults[key].type_name(), " like parade.", key, " (",
              defaults[key].dump(), "), got ", value.dump());
  }
  auto pick = [&](const char* key) -> const Json& {
    return overrides.contains(key) ? overrides[key] : defaults[key];
  };
  return {.attribute = name,
          .embedding_dim = pick("embedding_dim").get<int64_t>(),
          .alpha = pick("alpha").get<double>(),
          .rho = pick("rho").get<double>(),
          .direction = parse_direction(pick("direction").get<std::string>()),
          .projector_hidden = defaults["projector_hidden"].get<int64_t>()};
}

// One sensitive attribute: its branch, its DML loss and its column in the
// batches' attribute matrix.
struct Attribute {
  std::shared_ptr<AttributeBranch> branch;
  std::unique_ptr<losses::Loss> loss;
  int64_t column = 0;
  // The training split's minority and majority (groups.h); none when the
  // attribute takes one value there.
  std::optional<Subgroups> training;
  data::ValueNames value_names;  // what the log calls each value
};

class ParadeExtension final : public train::TrainingExtension {
 public:
  ParadeExtension(ParadeConfig parade, const Json& config, const data::SampleSet& train_set,
                  nn::EmbeddingNet& model)
      : config_(std::move(parade)) {
    const Json& optimizer = config["optimizer"];
    head_lr_ = optimizer["head_lr"].get<double>() > 0 ? optimizer["head_lr"].get<double>()
                                                      : optimizer["lr"].get<double>();
    weight_decay_ = optimizer["weight_decay"].get<double>();
    const std::string loss_name = config_.attribute_loss.empty()
                                      ? config["loss"]["name"].get<std::string>()
                                      : config_.attribute_loss;
    Generator gen(data::stream_seed(uint64_t(config["train"]["seed"].get<int64_t>()),
                                    data::Stream::parade_loss_init));
    for (const AttributeBranchConfig& b : config_.branches) {
      Attribute a;
      a.column = data::attribute_column(train_set, b.attribute);
      a.value_names = data::attribute_value_names(train_set, size_t(a.column));
      int64_t values = 0;
      std::vector<int64_t> column;
      for (const auto& s : train_set.samples) {
        const int64_t v = s.attributes[size_t(a.column)];
        DML_CHECK(v >= 0, "parade: attribute '", b.attribute, "' has the negative value ", v,
                  " in ", train_set.name, "; attribute values must be 0, 1, ...");
        values = std::max(values, v + 1);
        column.push_back(v);
      }
      // One subgroup leaves the attribute head nothing to tell apart and the
      // decorrelation nothing to remove: the run would train as a baseline.
      const std::set<int64_t> seen(column.begin(), column.end());
      DML_CHECK(seen.size() >= 2, "parade: attribute '", b.attribute, "' takes ", seen.size(),
                " value", seen.size() == 1 ? " (" + std::to_string(*seen.begin()) + ")" : "s",
                " in ", train_set.name,
                "; PARADE needs at least 2 subgroups in the training split (choose another "
                "attribute, or include images of another subgroup)");
      a.training = find_subgroups(column, kSmallestGroup, "parade");
      a.branch = std::make_shared<AttributeBranch>(b, model.head().config());
      a.loss = losses::make_loss(
          loss_name, {.num_classes = values, .embedding_dim = b.embedding_dim, .gen = &gen});
      a.branch->to(model.device());  // beside the model it reads features from
      a.loss->to(model.device());
      attributes_.push_back(std::move(a));
    }
  }

  std::string describe() const override {
    std::string out = "PARADE";
    for (const Attribute& a : attributes_) out.append(" ").append(a.branch->describe());
    return out;
  }

  std::vector<ParamGroup> parameter_groups() override {
    std::vector<ParamGroup> groups;
    for (const Attribute& a : attributes_) {
      const std::string prefix = "parade." + a.branch->config().attribute;
      groups.push_back({.name = prefix + ".head",
                        .params = a.branch->head_parameters(),
                        .lr = head_lr_,
                        .weight_decay = weight_decay_});
      groups.push_back({.name = prefix + ".projector",
                        .params = a.branch->projector_parameters(),
                        .lr = config_.projector_lr,
                        .weight_decay = weight_decay_});
      if (!a.loss->parameters().empty())
        groups.push_back({.name = prefix + ".loss",
                          .params = a.loss->parameters(),
                          .lr = head_lr_ * a.loss->default_lr_multiplier(),
                          .weight_decay = weight_decay_});
    }
    return groups;
  }

  void train(bool on) override {
    for (const Attribute& a : attributes_) a.branch->train(on);
  }

  // Both terms over the global batch: the attribute loss sees every rank's
  // attribute embeddings, the decorrelation every rank's pairs.
  Tensor loss(const Tensor& features, const Tensor& class_embedding, const data::Batch& batch,
              const train::RowGather& gather) override {
    const Tensor all_class_embeddings = gather(class_embedding);
    const Tensor all_attributes = gather(batch.attributes);
    Tensor total;
    for (const Attribute& a : attributes_) {
      const AttributeBranchConfig& c = a.branch->config();
      Tensor labels = narrow(all_attributes, 1, a.column, 1).reshape({all_attributes.size(0)});
      Tensor v = gather(
          a.branch->forward(config_.detach_attribute_features ? features.detach() : features));
      Tensor term =
          a.loss->forward(v, labels) * c.alpha + a.branch->decorrelation(all_class_embeddings, v);
      total = total.defined() ? total + term : term;
    }
    return total;
  }

  NamedTensors state_dict() const override {
    NamedTensors out;
    for (const Attribute& a : attributes_) {
      const std::string prefix = a.branch->config().attribute + ".";
      for (const auto& [name, t] : a.branch->state_dict()) out.emplace_back(prefix + name, t);
      for (const auto& [name, t] : a.loss->named_parameters())
        out.emplace_back(prefix + "loss." + name, t);
    }
    return out;
  }

  void load_state_dict(const NamedTensors& state) override {
    for (const Attribute& a : attributes_) {
      const std::string prefix = a.branch->config().attribute + ".";
      NamedTensors branch_state;
      for (const auto& [name, t] : state) {
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string rest = name.substr(prefix.size());
        if (rest.rfind("loss.", 0) == 0) {
          for (const auto& [own, param] : a.loss->named_parameters())
            if (own == rest.substr(5)) copy_into(param, t);
        } else {
          branch_state.emplace_back(rest, t);
        }
      }
      a.branch->load_state_dict(branch_state);
    }
  }

  // Per-subgroup Recall@1 of the held-out queries ("tone=inverted/recall@1")
  // and the gap minority - majority, the training split's (groups.h), for
  // each sensitive attribute. The run's report has the per-query Recall@1
  // unless eval.recall_ks leaves 1 out; only then is the search run again
  // for it.
  Json evaluate(const train::Embedded& held_out, const eval::RetrievalReport& report) override {
    Json out = Json::object();
    eval::RetrievalReport own;
    const std::vector<double>* recall = nullptr;
    for (const auto& [name, values] : report.per_query)
      if (name == "recall@1") recall = &values;
    if (!recall) {
      own = eval::evaluate_embeddings(held_out.embeddings, held_out.labels,
                                      {.recall_ks = {1}, .r_metrics = false, .clustering = false});
      recall = &own.per_query_values("recall@1");
    }
    for (const Attribute& a : attributes_) {
      if (held_out.attributes.size(1) <= a.column) continue;
      const std::string& attribute = a.branch->config().attribute;
      Tensor column = narrow(held_out.attributes, 1, a.column, 1);
      double minority = NAN, majority = NAN;
      for (const eval::GroupMean& g : eval::breakdown(*recall, column.to_vector<int64_t>())) {
        out[subgroup_name(attribute, a.value_names, g.group) + "/recall@1"] = g.mean;
        if (a.training && g.group == a.training->minority) minority = g.mean;
        if (a.training && g.group == a.training->majority) majority = g.mean;
      }
      if (std::isfinite(minority - majority))
        out[attribute + "/recall@1_gap_minority_majority"] = minority - majority;
    }
    return out;
  }

 private:
  ParadeConfig config_;
  double head_lr_ = 0, weight_decay_ = 0;
  std::vector<Attribute> attributes_;
};

}  // namespace

ParadeConfig parade_config(const Json& config) {
  const Json& p = config["parade"];
  ParadeConfig out;
  out.projector_lr = p["projector_lr"].get<double>();
  out.attribute_loss = p["attribute_loss"].get<std::string>();
  DML_CHECK(out.projector_lr > 0, "parade.projector_lr must be > 0");
  const std::string features = p["attribute_features"].get<std::string>();
  DML_CHECK(features == "shared" || features == "detached", "parade.attribute_features: unknown '",
            features, "'; use shared (the paper's) or detached");
  out.detach_attribute_features = features == "detached";
  for (const Json& name : p["attributes"]) {
    const std::string n = name.get<std::string>();
    const Json overrides = p["per_attribute"].contains(n) ? p["per_attribute"][n] : Json::object();
    out.branches.push_back(branch_config(n, p, overrides));
  }
  for (const auto& [name, value] : p["per_attribute"].items())
    DML_CHECK(std::count(p["attributes"].begin(), p["attributes"].end(), name) == 1,
              "parade.per_attribute names '", name, "', which is not in parade.attributes");
  return out;
}

std::unique_ptr<train::TrainingExtension> make_parade_extension(const Json& config,
                                                                const data::SampleSet& train_set,
                                                                nn::EmbeddingNet& model) {
  // The section is checked even when PARADE is off, so that settings for an
  // attribute it does not train (parade.attributes forgotten) fail rather
  // than train a plain run.
  ParadeConfig parade = parade_config(config);
  if (parade.branches.empty()) return nullptr;
  return std::make_unique<ParadeExtension>(std::move(parade), config, train_set, model);
}

}  // namespace dml::fairness
