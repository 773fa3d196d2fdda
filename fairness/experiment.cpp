#include "fairness/experiment.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "dml/data/subset.h"
#include "dml/train/evaluation.h"
#include "dml/train/model_factory.h"
#include "dml/train/progress.h"
#include "dml/train/trainer.h"
#include "engine/atomic_file.h"
#include "engine/directory_lock.h"
#include "fairness/audit.h"
#include "fairness/parade_training.h"
#include "fairness/report/sweep_report.h"

namespace dml::fairness {

namespace fs = std::filesystem;

namespace {

// An audit.json written by a finished run, or null when there is none (a
// file that does not parse counts as none: it is redone).
Json finished_audit(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return nullptr;
  std::ifstream in(path);
  Json doc = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc.value("schema", "") == "dml-audit-1" ? doc : Json();
}

// What heads a run's lines: "run 3/6 (cell rho=0.5, parade, seed 1)".
std::string run_header(const SweepPlan& plan, size_t index) {
  std::string cells;
  for (const SweepCell& cell : plan.cells)
    for (const std::vector<size_t>* runs : {&cell.baseline, &cell.parade})
      if (std::find(runs->begin(), runs->end(), index) != runs->end())
        cells += (cells.empty() ? "cell " : " and ") + cell.name;
  const PlannedRun& run = plan.runs[index];
  return "run " + std::to_string(index + 1) + "/" + std::to_string(plan.runs.size()) + " (" +
         cells + ", " + arm_name(run.arm) + ", seed " + std::to_string(run.seed) + ")";
}

struct RunOutcome {
  Json audit;
  bool finished_earlier = false;
};

// Trains (or resumes) and audits one run, or takes its finished audit.
// `header` names the run; `eta` is the sweep's, "" while unknown;
// `resume_command` is what Ctrl-C's line says to run.
RunOutcome run_once(const PlannedRun& run, const std::string& attribute, const std::string& header,
                    const std::string& eta, const std::string& resume_command) {
  const std::string audit_path = run.dir + "/audit.json";
  if (Json done = finished_audit(audit_path); !done.is_null()) {
    std::printf("== %s: finished earlier, %s ==\n", header.c_str(), audit_path.c_str());
    return {done, true};
  }
  const std::string model = run.dir + "/model.safetensors";
  const std::string checkpoint = run.dir + "/checkpoint.safetensors";
  const std::string sweep_eta = eta.empty() ? "" : "; sweep ETA " + eta;
  if (!fs::exists(model)) {
    const bool resume = fs::exists(checkpoint);
    std::printf("== %s%s: %s%s ==\n", header.c_str(), resume ? ", resumed from its checkpoint" : "",
                run.dir.c_str(), sweep_eta.c_str());
    // The run directory is the experiment's own: what an interrupted run
    // left there without a checkpoint is replaced.
    train::run_training(run.config, {.resume = resume ? checkpoint : std::string(),
                                     .overwrite = true,
                                     .resume_command = resume_command,
                                     .extension = make_parade_extension});
  } else {
    std::printf("== %s: trained earlier, auditing %s%s ==\n", header.c_str(), model.c_str(),
                sweep_eta.c_str());
  }
  train::TrainedModel m = train::load_trained_model(model, {});
  Json doc = audit_model(*m.model, m.typed, {.attribute = attribute}, model);
  write_file_atomically(audit_path, doc.dump(1) + "\n");
  return {doc, false};
}

// What every run's audit will read, checked before the first run trains (a
// baseline trains without the attribute, so nothing else would notice its
// absence until the audit): the attribute in the training split with at
// least two values, and in the held-out split. Once per distinct data
// section.
void check_audited_attribute(const SweepPlan& plan) {
  std::set<std::string> checked;
  for (const PlannedRun& run : plan.runs) {
    if (!checked.insert(run.config["data"].dump()).second) continue;
    const train::TrainConfig c = train::typed_config(run.config);
    audit_target(c, plan.attribute);
    data::attribute_column(train::open_eval_data(c, "test").queries, plan.attribute);
  }
}

// results.jsonl: a row per (cell, seed, arm) whose run has finished.
void write_results(const SweepPlan& plan, const std::vector<Json>& audits,
                   const std::string& path) {
  std::string text;
  for (const SweepCell& cell : plan.cells)
    for (size_t s = 0; s < plan.seeds.size(); ++s)
      for (const auto& [arm, runs] :
           {std::pair{Arm::baseline, &cell.baseline}, std::pair{Arm::parade, &cell.parade}}) {
        const size_t r = (*runs)[s];
        if (audits[r].is_null()) continue;
        text += result_row(audits[r], cell.name, cell.values, plan.seeds[s], arm_name(arm),
                           plan.runs[r].dir)
                    .dump() +
                "\n";
      }
  write_file_atomically(path, text);
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
    "train": {"epochs": 1, "batch_size": 100, "m": 20, "max_steps_per_epoch": 100,
               "output": "runs/findml"},
    "parade": {"attributes": ["tone"], "embedding_dim": 32, "alpha": 1.0, "rho": 1.0,
               "direction": "attribute_to_class", "projector_lr": 0.001},
    "eval": {"every": 1, "metric": "cosine", "recall_ks": [1, 2, 4, 8], "clustering": false}
  })");
}

ExperimentResult run_findml_experiment(const Json& config, const SweepOptions& options) {
  ExperimentResult result{.plan = plan_sweep(config, options), .cells = {}};
  const SweepPlan& plan = result.plan;
  check_audited_attribute(plan);
  std::error_code error;
  fs::create_directories(options.output, error);
  DML_CHECK(!error, "experiment --output ", options.output,
            ": cannot create the directory: ", error.message(), "; choose a writable directory");
  const DirectoryLock lock(options.output, "experiment --output");  // one experiment writes here
  const std::string resume_command =
      "the same dml experiment findml command (it resumes every run in " + options.output + ")";
  std::vector<Json> audits(plan.runs.size());
  // The sweep's ETA: the runs left at the mean time of the runs done here
  // (a run finished earlier costs nothing and is not counted).
  double seconds = 0;
  size_t done_here = 0;
  for (size_t r = 0; r < plan.runs.size(); ++r) {
    const std::string eta =
        done_here > 0
            ? train::clock_text(seconds / double(done_here) * double(plan.runs.size() - r))
            : "";
    const auto start = std::chrono::steady_clock::now();
    RunOutcome outcome =
        run_once(plan.runs[r], plan.attribute, run_header(plan, r), eta, resume_command);
    if (!outcome.finished_earlier) {
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++done_here;
    }
    audits[r] = std::move(outcome.audit);
    write_results(plan, audits, options.output + "/results.jsonl");
  }

  std::vector<std::string> axes;
  for (const SweepAxis& a : plan.axes) axes.push_back(a.key);
  Json tables = Json::array();
  for (const SweepCell& cell : plan.cells) {
    CellAudits c{.name = cell.name, .values = cell.values, .baseline = {}, .parade = {}};
    for (size_t s = 0; s < plan.seeds.size(); ++s) {
      c.baseline.push_back(audits[cell.baseline[s]]);
      c.parade.push_back(audits[cell.parade[s]]);
    }
    tables.push_back({{"cell", cell.name}, {"values", cell.values}, {"table", cell_table_json(c)}});
    result.cells.push_back(std::move(c));
  }
  const std::string title = "finDML on " + config["data"]["format"].get<std::string>() +
                            ": baseline vs PARADE on " + plan.attribute;
  const Json summary = sweep_summary(result.cells, axes, plan.seeds, title, plan.attribute);
  Json runs = Json::array();
  for (const PlannedRun& r : plan.runs)
    runs.push_back({{"arm", arm_name(r.arm)}, {"seed", r.seed}, {"dir", r.dir}});
  const Json record = {
      {"config", config}, {"axes", axes},    {"seeds", plan.seeds}, {"attribute", plan.attribute},
      {"runs", runs},     {"cells", tables}, {"summary", summary}};
  write_file_atomically(options.output + "/experiment.json", record.dump(1) + "\n");
  write_file_atomically(options.output + "/report.html", render_sweep_html(summary));
  return result;
}

std::string findml_tables(const ExperimentResult& result) {
  std::string out;
  for (const CellAudits& cell : result.cells) {
    if (result.cells.size() > 1) out += "\n== " + cell.name + " ==\n";
    out += cell_table_text(cell_table_json(cell), result.plan.seeds.size());
  }
  return out;
}

}  // namespace dml::fairness
