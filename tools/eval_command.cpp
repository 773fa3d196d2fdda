// dml eval: the retrieval metrics of a trained model on a split of its
// dataset (or another dataset given by --set data.*).
#include <cstdio>
#include <memory>

#include "dml/train/evaluation.h"
#include "dml/train/model_factory.h"
#include "engine/atomic_file.h"
#include "engine/distributed/communicator.h"
#include "tools/commands.h"

namespace dml::tools {

namespace {

struct EvalArgs {
  ModelArgs model;
  std::string split = "test", json;
};

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Retrieval metrics of a checkpoint on a split");
  add_model_options(cmd, args->model);
  cmd->add_option("--split", args->split, "train or test (held-out classes)")
      ->check(CLI::IsMember({"train", "test"}))
      ->capture_default_str();
  cmd->add_option("--json", args->json, "Also write the metrics to this JSON file");
  return [args] {
    train::TrainedModel m = train::load_trained_model(
        args->model.checkpoint, args->model.overrides(), parse_device(args->model.device));
    train::EvalData data = train::open_eval_data(m.typed, args->split);
    eval::RetrievalReport report = train::evaluate_model(*m.model, m.typed, data);
    Json out = {{"checkpoint", args->model.checkpoint},
                {"split", data.queries.name},
                {"queries", data.queries.samples.size()}};
    std::printf("%s: %zu queries\n", data.queries.name.c_str(), data.queries.samples.size());
    for (const auto& [name, value] : report.metrics) {
      std::printf("%-14s %.4f\n", name.c_str(), value);
      out[name] = value;
    }
    // Every rank has the metrics; one writes them.
    if (!args->json.empty() && dist::world().rank() == 0)
      write_file_atomically(args->json, out.dump(2) + "\n");
  };
}

}  // namespace dml::tools
