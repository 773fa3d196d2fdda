// dml audit: the finDML audit of a trained model on the held-out classes of
// its dataset: <out>.json (AUDIT_SCHEMA.md) and <out>.html (self-contained).
#include <cstdio>
#include <memory>

#include "dml/train/model_factory.h"
#include "engine/atomic_file.h"
#include "fairness/audit.h"
#include "fairness/embedding_files_audit.h"
#include "fairness/report/html_report.h"
#include "tools/commands.h"

namespace dml::tools {

namespace {

struct AuditArgs {
  ModelArgs model;
  std::string output;
  fairness::EmbeddingFiles files;  // --embeddings and its options; --attribute for either source
};

// The name of the group whose value is at `key` ("minority", "majority").
std::string group_named(const Json& doc, const char* key) {
  for (const auto& g : doc["groups"])
    if (doc.contains(key) && g["value"] == doc[key]) return g["name"].get<std::string>();
  return "n/a";
}

void print_summary(const Json& doc) {
  std::printf(
      "%s, attribute %s (minority %s, majority %s; gaps are minority - majority, below 0 "
      "the minority is worse off)\n",
      doc["dataset"].get<std::string>().c_str(), doc["attribute"].get<std::string>().c_str(),
      group_named(doc, "minority").c_str(), group_named(doc, "majority").c_str());
  auto number = [](const Json& j) { return j.is_number() ? j.get<double>() : NAN; };
  for (const auto& g : doc["groups"]) {
    const std::string v = std::to_string(g["value"].get<int64_t>());
    std::printf("  %-12s n %-6lld R@1 %.4f  intra %.4f  inter %.4f  uniformity %.4f\n",
                g["name"].get<std::string>().c_str(), (long long)g["count"].get<int64_t>(),
                number(doc["retrieval"]["per_group"][v]["recall@1"]),
                number(doc["alignment"]["per_group"][v]["intra_class"]),
                number(doc["alignment"]["per_group"][v]["inter_class"]),
                number(doc["alignment"]["per_group"][v]["uniformity"]));
  }
  const Json& gap_interval =
      doc["retrieval"]["intervals"]["metrics"]["recall@1"]["gap_minority_majority"];
  std::printf(
      "  R@1 gap (minority - majority) %.4f [%.4f, %.4f]; leakage (balanced acc.) "
      "linear %.4f, k-NN %.4f\n",
      number(doc["retrieval"]["gap_minority_majority"]["recall@1"]), number(gap_interval[0]),
      number(gap_interval[1]), number(doc["leakage"]["balanced_accuracy"]),
      number(doc["leakage"]["knn_balanced_accuracy"]));
  if (doc.contains("intersections")) {
    const Json& x = doc["intersections"];
    for (const Json& g : x["groups"])
      std::printf("  %-24s n %-6lld R@1 %.4f\n", g["name"].get<std::string>().c_str(),
                  (long long)g["count"].get<int64_t>(), number(g["recall@1"]));
    std::printf("  worst-off intersection: %s (R@1 gap to %s %.4f [%.4f, %.4f])\n",
                x["worst"].get<std::string>().c_str(), x["best"].get<std::string>().c_str(),
                number(x["gap_worst_best"]["recall@1"]), number(x["gap_worst_best"]["interval"][0]),
                number(x["gap_worst_best"]["interval"][1]));
  }
  for (const auto& [name, d] : doc["downstream"].items())
    std::printf("  downstream %-20s accuracy %.4f gap (minority - majority) %.4f\n", name.c_str(),
                number(d["overall"]), number(d["gap_minority_majority"]));
}

}  // namespace

Command add_audit_command(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* cmd = app.add_subcommand(
      "audit", "finDML audit of a checkpoint: subgroup gaps, leakage, downstream (JSON + HTML)");
  CLI::Option* checkpoint = add_model_options(cmd, args->model, /*checkpoint_required=*/false);
  CLI::Option* embeddings =
      cmd->add_option("--embeddings", args->files.prefix,
                      "Audit embeddings from `dml embed` instead: <prefix>.embeddings.npy, "
                      ".labels.npy, .attributes.npy")
          ->excludes(checkpoint);
  cmd->add_option("--attribute", args->files.attribute,
                  "Sensitive attribute (default: parade.attributes[0], data.attributes[0], tone)");
  cmd->add_option("--attribute-column", args->files.column,
                  "With --embeddings: the attribute's column in .attributes.npy")
      ->needs(embeddings);
  cmd->add_option("--minority", args->files.minority,
                  "With --embeddings: the minority attribute value (default: the smallest group)")
      ->needs(embeddings);
  cmd->add_option("--minority-share", args->files.minority_share,
                  "With --embeddings: the minority's share in training (downstream skew)")
      ->needs(embeddings)
      ->capture_default_str();
  cmd->add_option("--output", args->output, "Output prefix: <out>.json and <out>.html")->required();
  return [args] {
    DML_CHECK(!args->model.checkpoint.empty() || !args->files.prefix.empty(),
              "audit: give --checkpoint (a trained model) or --embeddings (from dml embed)");
    Json doc;
    if (!args->files.prefix.empty()) {
      args->files.overrides = args->model.overrides();
      doc = fairness::audit_embedding_files(args->files);
    } else {
      train::TrainedModel m = train::load_trained_model(
          args->model.checkpoint, args->model.overrides(), parse_device(args->model.device));
      const std::string attribute = args->files.attribute.empty()
                                        ? fairness::default_audit_attribute(m.config)
                                        : args->files.attribute;
      doc = fairness::audit_model(*m.model, m.typed, {.attribute = attribute},
                                  args->model.checkpoint);
    }
    write_file_atomically(args->output + ".json", doc.dump(1) + "\n");
    write_file_atomically(args->output + ".html", fairness::render_audit_html(doc));
    print_summary(doc);
    std::printf("wrote %s.json and %s.html\n", args->output.c_str(), args->output.c_str());
  };
}

}  // namespace dml::tools
