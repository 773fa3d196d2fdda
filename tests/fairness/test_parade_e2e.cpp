// PARADE and the finDML audit, end to end: a PARADE run on the bundled
// benchmark (Fashion-MNIST with the "tone" attribute) logs per-subgroup
// recall, checkpoints its attribute branch but exports only the class model,
// and resumes exactly; with alpha = rho = 0 it trains the class model of the
// plain run bit for bit; `dml audit` writes the document AUDIT_SCHEMA.md
// describes and its HTML report; the finDML experiment (baseline vs PARADE,
// trained and audited) runs on tiny CelebA and CUB fixtures; the bundled
// findml config and the parade section's checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/model_factory.h"
#include "dml/train/trainer.h"
#include "engine/safetensors.h"
#include "fairness/audit.h"
#include "fairness/experiment.h"
#include "fairness/parade_training.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/e2e_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using dml::Json;
using dml::fairness::make_parade_extension;
using dml::test::expect_error;
using dml::test::FashionMnistTest;
using dml::test::read_json_lines;
using dml::test::read_text;
using dml::test::TempDir;
using dml::test::without_timings;

std::set<std::string> keys_of(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

std::vector<std::string> tensor_names(const std::string& safetensors) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : dml::read_safetensors(safetensors).tensors)
    names.push_back(name);
  return names;
}

// An exported model holds the backbone and the class head only: no attribute
// head, no projector, nothing of the loss.
void expect_class_model_only(const std::string& model) {
  const std::vector<std::string> names = tensor_names(model);
  ASSERT_FALSE(names.empty()) << model;
  for (const std::string& name : names)
    EXPECT_TRUE(name.starts_with("backbone.") || name.starts_with("head.")) << name;
}

// ---- The audit document, as fairness/AUDIT_SCHEMA.md promises it -----------------

// What an audit looked at: `samples` held-out images of a binary attribute
// whose values 0 and 1 are named `names`, retrieval scored at `recall_ks`.
struct Audited {
  std::string attribute;
  int64_t minority = 0;
  int64_t samples = 0;
  std::vector<int64_t> recall_ks;
  std::vector<std::string> names = {"0", "1"};
};

// A metric value: a number (a complete document has no null).
double number(const Json& value, const std::string& where) {
  EXPECT_TRUE(value.is_number()) << where << " is " << value.dump();
  return value.is_number() ? value.get<double>() : NAN;
}

// The two gaps of one metric from its per-group values (group "0" and "1",
// minority `minority`; the majority is the other group).
void expect_gaps(double group0, double group1, const Json& gap_max_min,
                 const Json& gap_minority_majority, int64_t minority, const std::string& where) {
  EXPECT_NEAR(number(gap_max_min, where + " gap_max_min"), std::abs(group0 - group1), 1e-12)
      << where;
  const double minority_minus_majority = minority == 1 ? group1 - group0 : group0 - group1;
  EXPECT_NEAR(number(gap_minority_majority, where + " gap_minority_majority"),
              minority_minus_majority, 1e-12)
      << where;
}

// "retrieval" and "alignment": per_group {"0", "1"}, the gaps (and, for
// retrieval, overall and the bootstrap intervals) each holding every metric
// in `metrics`.
void expect_comparison(const Json& section, const std::string& name,
                       const std::set<std::string>& metrics, bool has_overall, int64_t minority) {
  std::set<std::string> keys = {"per_group", "gap_max_min", "gap_minority_majority"};
  if (has_overall) keys.insert({"overall", "intervals"});
  ASSERT_EQ(keys_of(section), keys) << name;
  ASSERT_EQ(keys_of(section["per_group"]), (std::set<std::string>{"0", "1"})) << name;
  for (const char* part : {"gap_max_min", "gap_minority_majority"})
    EXPECT_EQ(keys_of(section[part]), metrics) << name << "." << part;
  if (has_overall) {
    EXPECT_EQ(keys_of(section["overall"]), metrics) << name << ".overall";
    for (const std::string& m : metrics) number(section["overall"][m], name + ".overall." + m);
  }
  for (const char* group : {"0", "1"})
    EXPECT_EQ(keys_of(section["per_group"][group]), metrics) << name << ".per_group." << group;
  for (const std::string& m : metrics) {
    const std::string where = name + " " + m;
    expect_gaps(number(section["per_group"]["0"][m], where + " group 0"),
                number(section["per_group"]["1"][m], where + " group 1"), section["gap_max_min"][m],
                section["gap_minority_majority"][m], minority, where);
  }
}

void expect_audit_document(const Json& doc, const Audited& a) {
  ASSERT_TRUE(doc.is_object()) << doc.dump();
  ASSERT_EQ(keys_of(doc),
            (std::set<std::string>{"schema", "model", "dataset", "attribute", "minority",
                                   "majority", "groups", "sampled", "retrieval", "alignment",
                                   "leakage", "downstream", "embedding_map"}));
  EXPECT_EQ(doc["schema"], "dml-audit-1");
  EXPECT_TRUE(doc["model"].is_string() && !doc["model"].get<std::string>().empty());
  EXPECT_TRUE(doc["dataset"].is_string() && !doc["dataset"].get<std::string>().empty());
  EXPECT_EQ(doc["attribute"], a.attribute);
  ASSERT_TRUE(doc["minority"].is_number_integer());
  EXPECT_EQ(doc["minority"], a.minority);
  EXPECT_EQ(doc["majority"], 1 - a.minority);  // the other value of the binary attribute

  // Both values of the binary attribute, ascending, with their counts.
  const Json& groups = doc["groups"];
  ASSERT_TRUE(groups.is_array() && groups.size() == 2) << groups.dump();
  int64_t counted = 0;
  for (int64_t value = 0; value < 2; ++value) {
    const Json& g = groups[size_t(value)];
    ASSERT_EQ(keys_of(g), (std::set<std::string>{"value", "name", "count"})) << g.dump();
    EXPECT_EQ(g["value"], value);
    EXPECT_EQ(g["name"], a.attribute + "=" + a.names[size_t(value)]);
    ASSERT_TRUE(g["count"].is_number_integer()) << g.dump();
    EXPECT_GE(g["count"].get<int64_t>(), 2) << g.dump();
    counted += g["count"].get<int64_t>();
  }
  EXPECT_EQ(counted, a.samples);

  EXPECT_EQ(keys_of(doc["sampled"]), (std::set<std::string>{"pairs", "max_pairs"}));
  EXPECT_TRUE(doc["sampled"]["pairs"].is_boolean());
  EXPECT_TRUE(doc["sampled"]["max_pairs"].is_number_integer());

  std::set<std::string> retrieval = {"map@r", "r_precision"};
  for (int64_t k : a.recall_ks) retrieval.insert("recall@" + std::to_string(k));
  expect_comparison(doc["retrieval"], "retrieval", retrieval, true, a.minority);
  // Each retrieval metric's bootstrap interval holds its estimate, for the
  // whole split, each subgroup and the gap.
  const Json& intervals = doc["retrieval"]["intervals"];
  ASSERT_EQ(keys_of(intervals["metrics"]), retrieval);
  for (const std::string& m : retrieval) {
    const Json& i = intervals["metrics"][m];
    auto holds = [&](const Json& pair, const Json& estimate, const std::string& what) {
      ASSERT_TRUE(pair.is_array() && pair.size() == 2) << m << " " << what << ": " << pair;
      const double e = number(estimate, m + " " + what);
      EXPECT_LE(pair[0].get<double>(), e + 1e-12) << m << " " << what;
      EXPECT_GE(pair[1].get<double>(), e - 1e-12) << m << " " << what;
    };
    holds(i["overall"], doc["retrieval"]["overall"][m], "overall");
    holds(i["gap_minority_majority"], doc["retrieval"]["gap_minority_majority"][m], "gap");
    for (const char* g : {"0", "1"})
      holds(i["per_group"][g], doc["retrieval"]["per_group"][g][m], g);
  }
  expect_comparison(doc["alignment"], "alignment", {"intra_class", "inter_class", "uniformity"},
                    false, a.minority);

  const Json& leakage = doc["leakage"];
  EXPECT_EQ(keys_of(leakage), (std::set<std::string>{"balanced_accuracy", "knn_balanced_accuracy",
                                                     "chance", "probe", "knn_probe"}));
  for (const char* probe : {"balanced_accuracy", "knn_balanced_accuracy"}) {
    const double balanced = number(leakage[probe], probe);
    EXPECT_GE(balanced, 0.0);
    EXPECT_LE(balanced, 1.0);
  }
  EXPECT_EQ(leakage["chance"], 0.5);  // two values
  EXPECT_TRUE(leakage["probe"].is_string());

  const Json& downstream = doc["downstream"];
  ASSERT_EQ(keys_of(downstream), (std::set<std::string>{"logistic_imbalanced", "logistic_balanced",
                                                        "knn_imbalanced", "knn_balanced"}));
  for (const auto& [name, d] : downstream.items()) {
    ASSERT_EQ(keys_of(d), (std::set<std::string>{"overall", "per_group", "gap_max_min",
                                                 "gap_minority_majority"}))
        << name;
    ASSERT_EQ(keys_of(d["per_group"]), (std::set<std::string>{"0", "1"})) << name;
    const double overall = number(d["overall"], name + ".overall");
    EXPECT_GE(overall, 0.0) << name;
    EXPECT_LE(overall, 1.0) << name;
    expect_gaps(number(d["per_group"]["0"], name + " group 0"),
                number(d["per_group"]["1"], name + " group 1"), d["gap_max_min"],
                d["gap_minority_majority"], a.minority, name);
  }

  // One point per held-out sample, up to the map's 2000 (AuditOptions), with
  // its class and attribute value.
  const Json& map = doc["embedding_map"];
  ASSERT_EQ(keys_of(map),
            (std::set<std::string>{"method", "points", "labels", "groups", "class_names"}));
  EXPECT_EQ(map["method"], "pca");
  ASSERT_TRUE(map["points"].is_array() && map["labels"].is_array() && map["groups"].is_array());
  EXPECT_EQ(int64_t(map["points"].size()), std::min<int64_t>(a.samples, 2000));
  EXPECT_EQ(map["labels"].size(), map["points"].size());
  EXPECT_EQ(map["groups"].size(), map["points"].size());
  for (const Json& p : map["points"])
    ASSERT_TRUE(p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number()) << p.dump();
  for (const Json& label : map["labels"]) ASSERT_TRUE(label.is_number_integer()) << label.dump();
  for (const auto& [label, name] : map["class_names"].items())
    ASSERT_TRUE(name.is_string() && !name.get<std::string>().empty()) << label;
  for (const Json& g : map["groups"]) ASSERT_TRUE(g == 0 || g == 1) << g.dump();
}

// ---- PARADE on the bundled benchmark ------------------------------------------------

// The findml config (Fashion-MNIST, "tone" inverted on 5% of each training
// class and half of each held-out class, PARADE on tone), cut to 3 steps per
// epoch and 300 held-out queries; `settings` override it further.
Json tone_run(const std::string& output, int epochs,
              const std::vector<std::string>& settings = {}) {
  std::vector<std::string> overrides = {"train.epochs=" + std::to_string(epochs),
                                        "train.max_steps_per_epoch=3", "eval.limit=300",
                                        "train.threads=1", "train.output=" + output};
  overrides.insert(overrides.end(), settings.begin(), settings.end());
  return dml::train::resolve_config(dml::fairness::findml_default_config(), overrides,
                                    "test_parade_e2e");
}

// One PARADE run of two epochs (rho = alpha = 1), shared by the tests below.
const std::string& parade_run() {
  static TempDir dir;
  static const std::string output = [] {
    const std::string out = dir.file("parade");
    dml::train::run_training(tone_run(out, 2), {.extension = make_parade_extension});
    return out;
  }();
  return output;
}

using ParadeOnTone = FashionMnistTest;

TEST_F(ParadeOnTone, LogsRecallPerToneAndCheckpointsTheBranchButExportsTheClassModel) {
  const std::string run = parade_run();
  const std::vector<Json> lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (const Json& line : lines) {
    // Subgroups by their values' names; the gap is minority (the inverted
    // images, 5% of training) - majority, signed like every other gap.
    for (const char* key : {"recall@1", "tone=original/recall@1", "tone=inverted/recall@1",
                            "tone/recall@1_gap_minority_majority"})
      ASSERT_TRUE(line.contains(key) && line[key].is_number()) << key << " in " << line.dump();
    const double original = line["tone=original/recall@1"].get<double>();
    const double inverted = line["tone=inverted/recall@1"].get<double>();
    for (double r : {original, inverted}) {
      EXPECT_GE(r, 0.0);
      EXPECT_LE(r, 1.0);
    }
    EXPECT_NEAR(line["tone/recall@1_gap_minority_majority"].get<double>(), inverted - original,
                1e-12);
  }

  // The checkpoint carries the attribute head and the projector (direction
  // attribute_to_class: "to_class") so the run resumes exactly.
  const std::vector<std::string> saved = tensor_names(run + "/checkpoint.safetensors");
  auto holds = [&](const std::string& prefix) {
    return std::any_of(saved.begin(), saved.end(),
                       [&](const std::string& name) { return name.starts_with(prefix); });
  };
  EXPECT_TRUE(holds("ext.tone.head.")) << "no attribute head in the checkpoint";
  EXPECT_TRUE(holds("ext.tone.to_class.")) << "no projector in the checkpoint";
  const dml::train::Checkpoint checkpoint =
      dml::train::load_checkpoint(run + "/checkpoint.safetensors");
  EXPECT_FALSE(checkpoint.extension.empty());

  // The exported model: exactly the checkpoint's class model.
  expect_class_model_only(run + "/model.safetensors");
  EXPECT_EQ(tensor_names(run + "/model.safetensors").size(), checkpoint.model.size());
}

TEST_F(ParadeOnTone, ResumedRunMatchesAnUnbrokenOneExactly) {
  TempDir dir;
  dml::test::expect_resume_reproduces(
      parade_run(), [](const std::string& output, int epochs) { return tone_run(output, epochs); },
      make_parade_extension, dir);
}

// With alpha = rho = 0 the attribute branch is trained but adds exactly zero
// to the loss and to every gradient of the class path (the reversed gradient
// is -0 times the projector's); its parameters sit in optimizer groups of
// their own; and it draws its initial weights from the default generator
// only after the class model has (nothing in training draws from that
// generator later; the class loss, miner and loader have generators of their
// own). So the class model is the plain run's, bit for bit. Both projectors
// (direction both) take part. A PARADE run with rho = alpha = 1 does differ,
// so the comparison can fail.
TEST_F(ParadeOnTone, ZeroWeightsTrainTheBaselinesClassModelExactly) {
  TempDir dir;
  const std::string baseline = dir.file("baseline"), zero = dir.file("zero");
  dml::train::run_training(tone_run(baseline, 2, {"parade.attributes=[]"}),
                           {.extension = make_parade_extension});
  dml::train::run_training(
      tone_run(zero, 2, {"parade.alpha=0", "parade.rho=0", "parade.direction=both"}),
      {.extension = make_parade_extension});

  dml::test::expect_same_tensors(baseline + "/model.safetensors", zero + "/model.safetensors");
  const std::vector<Json> plain = read_json_lines(baseline + "/metrics.jsonl");
  const std::vector<Json> zeroed = read_json_lines(zero + "/metrics.jsonl");
  ASSERT_EQ(plain.size(), 2u);
  ASSERT_EQ(zeroed.size(), 2u);
  for (size_t epoch = 0; epoch < 2; ++epoch) {
    Json class_metrics = without_timings(zeroed[epoch]);
    for (const char* key : {"tone=original/recall@1", "tone=inverted/recall@1",
                            "tone/recall@1_gap_minority_majority"})
      EXPECT_EQ(class_metrics.erase(key), 1u) << key;  // only PARADE logs them
    EXPECT_EQ(class_metrics, without_timings(plain[epoch])) << "epoch " << epoch + 1;
  }

  const dml::SafetensorsFile plain_model = dml::read_safetensors(baseline + "/model.safetensors");
  const dml::SafetensorsFile parade_model =
      dml::read_safetensors(parade_run() + "/model.safetensors");
  ASSERT_EQ(plain_model.tensors.size(), parade_model.tensors.size());
  size_t differing = 0;
  for (size_t i = 0; i < plain_model.tensors.size(); ++i)
    differing +=
        !dml::test::same_bytes(plain_model.tensors[i].second, parade_model.tensors[i].second);
  EXPECT_GT(differing, 0u) << "PARADE with rho = 1 trained the baseline's model";
}

TEST_F(ParadeOnTone, DmlAuditWritesTheSchemasDocumentAndAnHtmlReport) {
  TempDir dir;
  const std::string model = parade_run() + "/model.safetensors", prefix = dir.file("audit");
  const dml::test::ToolResult r = dml::test::run_tool(
      DML_TOOL, dir, "audit --checkpoint '" + model + "' --output '" + prefix + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const Json doc = Json::parse(read_text(prefix + ".json"));
  // The run's config: eval.limit = 300 queries, recall at 1, 2, 4, 8; tone 1
  // (the inverted images) is the training minority.
  const std::vector<std::string> tone_names = {"original", "inverted"};
  expect_audit_document(doc, {.attribute = "tone",
                              .minority = 1,
                              .samples = 300,
                              .recall_ks = {1, 2, 4, 8},
                              .names = tone_names});
  EXPECT_EQ(doc["embedding_map"]["class_names"]["5"], "Sandal");
  EXPECT_EQ(doc["model"], model);
  EXPECT_NE(doc["dataset"].get<std::string>().find("fashion-mnist-tone"), std::string::npos)
      << doc["dataset"];
  const std::string html = read_text(prefix + ".html");
  EXPECT_NE(html.find("<svg"), std::string::npos) << "the HTML report has no chart";

  // The audit of `dml embed`'s files (the whole held-out split).
  const std::string embedded = dir.file("held_out");
  const dml::test::ToolResult e = dml::test::run_tool(
      DML_TOOL, dir, "embed --checkpoint '" + model + "' --split test --output '" + embedded + "'");
  ASSERT_EQ(e.status, 0) << e.out << e.err;
  // Its names file names the attribute (column 0) and its values.
  const dml::test::ToolResult f = dml::test::run_tool(
      DML_TOOL, dir,
      "audit --embeddings '" + embedded + "' --minority 1 --output '" + prefix + "_npy'");
  ASSERT_EQ(f.status, 0) << f.out << f.err;
  expect_audit_document(Json::parse(read_text(prefix + "_npy.json")), {.attribute = "tone",
                                                                       .minority = 1,
                                                                       .samples = 5000,
                                                                       .recall_ks = {1, 2, 4, 8},
                                                                       .names = tone_names});
  EXPECT_NE(f.out.find("(minority tone=inverted, majority tone=original;"), std::string::npos)
      << f.out;
}

// The gaps' two sides are the training split's: its rarest value and its most
// common other value, even where the held-out split is skewed otherwise (the
// minority "b" is the largest held-out group, "c" the largest other one).
TEST(AuditTarget, MinorityAndMajorityComeFromTheTrainingSplit) {
  TempDir dir;
  std::string manifest = "path,label,tone,split\n";
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"a", "train"}, {"a", "train"}, {"a", "train"}, {"b", "train"},
      {"c", "train"}, {"c", "train"}, {"b", "test"},  {"b", "test"},
      {"b", "test"},  {"c", "test"},  {"c", "test"},  {"a", "test"}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string image = "img" + std::to_string(i) + ".png";
    dml::test::write_class_image(dir.file(image), int64_t(i % 2), int64_t(i));
    manifest +=
        image + "," + std::to_string(i % 2) + "," + rows[i].first + "," + rows[i].second + "\n";
  }
  dml::test::write_text(dir.file("m.csv"), manifest);
  const Json config = dml::train::resolve_config(
      {{"data", {{"format", "csv"}, {"root", dir.file("m.csv")}}}}, {}, "test_parade_e2e");
  const dml::fairness::AuditTarget t =
      dml::fairness::audit_target(dml::train::typed_config(config), "tone");
  EXPECT_EQ(t.minority, 1);  // b
  EXPECT_EQ(t.majority, 0);  // a, not c
  EXPECT_DOUBLE_EQ(t.minority_share, 1.0 / 6);
}

// ---- The finDML experiment on tiny fixtures ------------------------------------------

// A tiny run (e2e_support.h) with small attribute branches.
std::vector<std::string> tiny_findml_run() {
  std::vector<std::string> settings = dml::test::tiny_run_settings();
  for (const char* extra :
       {"parade.embedding_dim=8", "parade.projector_hidden=16", "eval.clustering=false"})
    settings.push_back(extra);
  return settings;
}

struct FixtureExperiment {
  std::string name;
  // Writes the fixture into `dir` and returns the config's "data" section.
  std::function<Json(const TempDir& dir)> make;
  Audited audited;
};

void PrintTo(const FixtureExperiment& e, std::ostream* out) {
  *out << e.name;
}

// Each held-out class holds two images of each attribute value, so every
// subgroup has same-class and other-class pairs, the leakage probe two
// samples per value on each side, and the downstream split one sample per
// (class, value) cell on each side: every metric has a value.
const FixtureExperiment kFixtureExperiments[] = {
    {"celeba",
     [](const TempDir& dir) {
       // Training: Male on 1 of 6 images (the minority, 1); held out: half.
       const std::vector<dml::test::CelebaImage> images = {
           {10, 0, {1, 1, 1}},   {10, 0, {-1, -1, 1}},  {10, 0, {1, -1, -1}}, {11, 0, {-1, -1, 1}},
           {11, 0, {1, -1, -1}}, {11, 0, {-1, -1, 1}},  {20, 2, {1, 1, -1}},  {20, 2, {-1, -1, 1}},
           {20, 2, {1, 1, 1}},   {20, 2, {-1, -1, -1}}, {21, 2, {1, 1, -1}},  {21, 2, {-1, -1, 1}},
           {21, 2, {1, 1, 1}},   {21, 2, {-1, -1, -1}}, {30, 1, {1, 1, 1}}};
       return Json{{"format", "celeba"},
                   {"root", dml::test::make_celeba(dir, images)},
                   {"attributes", {"Male"}}};
     },
     {.attribute = "Male",
      .minority = 1,
      .samples = 8,
      .recall_ks = {1, 2},
      .names = {"no", "yes"}}},
    {"cub200",
     [](const TempDir& dir) {
       // Image i has has_wing_color::blue = i % 2 (see make_cub200): half of
       // each class on both sides, so the minority is the lower value, 0.
       return Json{{"format", "cub200"},
                   {"root", dml::test::make_cub200(dir, {1, 1, 1, 1, 2, 2, 2, 2, 101, 101, 101, 101,
                                                         102, 102, 102, 102})},
                   {"attributes", {"has_wing_color::blue"}}};
     },
     {.attribute = "has_wing_color::blue",
      .minority = 0,
      .samples = 8,
      .recall_ks = {1, 2},
      .names = {"no", "yes"}}},
};

class FindmlOnFixture : public testing::TestWithParam<FixtureExperiment> {};

TEST_P(FindmlOnFixture, TrainsAndAuditsBothArms) {
  const FixtureExperiment& e = GetParam();
  TempDir dir;
  // PARADE's own rho for the audited attribute: only its arm takes it.
  std::vector<std::string> settings = tiny_findml_run();
  settings.push_back("parade.per_attribute." + e.audited.attribute + ".rho=0.5");
  const Json config =
      dml::train::resolve_config({{"data", e.make(dir)}}, settings, "test_parade_e2e");
  const std::string out = dir.file("experiment");
  const dml::fairness::ExperimentResult result =
      dml::fairness::run_findml_experiment(config, {.seeds = {0}, .output = out});

  ASSERT_EQ(result.cells.size(), 1u);
  const dml::fairness::CellAudits& cell = result.cells[0];
  ASSERT_EQ(cell.baseline.size(), 1u);
  ASSERT_EQ(cell.parade.size(), 1u);
  {
    SCOPED_TRACE("baseline");
    expect_audit_document(cell.baseline[0], e.audited);
  }
  {
    SCOPED_TRACE("PARADE");
    expect_audit_document(cell.parade[0], e.audited);
  }
  // Only the PARADE arm trained an attribute branch, with its settings; both
  // export the class model alone and keep their audit beside it.
  ASSERT_EQ(result.plan.runs.size(), 2u);
  for (const dml::fairness::PlannedRun& run : result.plan.runs) {
    const bool parade = run.arm == dml::fairness::Arm::parade;
    SCOPED_TRACE(run.dir);
    EXPECT_EQ(run.dir.rfind(out + "/runs/" + (parade ? "parade" : "baseline") + "-seed0-", 0), 0u);
    expect_class_model_only(run.dir + "/model.safetensors");
    EXPECT_EQ(Json::parse(read_text(run.dir + "/audit.json")),
              parade ? cell.parade[0] : cell.baseline[0]);
    const dml::train::Checkpoint checkpoint =
        dml::train::load_checkpoint(run.dir + "/checkpoint.safetensors");
    EXPECT_EQ(!checkpoint.extension.empty(), parade);
    const Json& p = checkpoint.config["parade"];
    EXPECT_EQ(p["attributes"], parade ? Json::array({e.audited.attribute}) : Json::array());
    const Json settings = parade ? Json{{e.audited.attribute, {{"rho", 0.5}}}} : Json::object();
    EXPECT_EQ(p["per_attribute"], settings);
  }

  // The table: R@1 overall and per group, the R@1 and MAP@R gaps, three
  // alignment gaps, two leakage probes, and accuracy and gap of four
  // downstream classifiers; one value per arm and seed, each a number, and
  // with one seed the retrieval rows' bootstrap intervals.
  const Json table = dml::fairness::cell_table_json(cell);
  ASSERT_EQ(table.size(), 18u) << table.dump(1);
  EXPECT_EQ(table[0]["metric"], "R@1 overall");
  EXPECT_EQ(table[1]["metric"], "R@1 " + e.audited.attribute + "=" + e.audited.names[0]);
  for (const Json& row : table)
    for (const char* arm : {"baseline", "parade"})
      ASSERT_TRUE(row[arm].size() == 1 && row[arm][0].is_number()) << row.dump();
  const Json& r1 = table[0]["baseline_interval"];
  EXPECT_LE(r1["low"].get<double>(), r1["estimate"].get<double>()) << r1;
  EXPECT_GE(r1["high"].get<double>(), r1["estimate"].get<double>()) << r1;
  const std::string text = dml::fairness::findml_tables(result);
  // A header, the rows and the gaps' sign convention.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 20) << text;
  EXPECT_NE(text.find("gaps: minority - majority"), std::string::npos) << text;

  const Json record = Json::parse(read_text(out + "/experiment.json"));
  EXPECT_EQ(record["cells"][0]["table"], table);
  EXPECT_EQ(record["attribute"], e.audited.attribute);
  // results.jsonl: a row per run, its metrics by the table's labels.
  const std::string results = read_text(out + "/results.jsonl");
  ASSERT_EQ(std::count(results.begin(), results.end(), '\n'), 2) << results;
  const Json first = Json::parse(results.substr(0, results.find('\n')));
  EXPECT_EQ(first["arm"], "baseline");
  EXPECT_EQ(first["metrics"]["R@1 overall"], cell.baseline[0]["retrieval"]["overall"]["recall@1"]);
  EXPECT_NE(read_text(out + "/report.html").find("<svg"), std::string::npos);
  // scripts/sweep_table.py reads the record into a Markdown table: a header,
  // its rule and the six default rows of the one cell.
  const std::string md = dir.file("table.md");
  ASSERT_EQ(std::system(("python3 '" + std::string(DML_SOURCE_DIR) + "/scripts/sweep_table.py' '" +
                         out + "/experiment.json' > '" + md + "'")
                            .c_str()),
            0);
  const std::string markdown = read_text(md);
  EXPECT_EQ(std::count(markdown.begin(), markdown.end(), '\n'), 8) << markdown;
  EXPECT_NE(markdown.find("| default | R@1 overall | "), std::string::npos) << markdown;
}

// A value's name may hold a '|', which would end a Markdown cell.
TEST(SweepTable, PipesInNamesStayInTheirCell) {
  TempDir dir;
  const Json none = {{"estimate", nullptr}, {"low", nullptr}, {"high", nullptr}};
  const Json record = {{"cells",
                        {{{"cell", "a|b"},
                          {"table",
                           {{{"metric", "R@1 tone=x|y"},
                             {"baseline_interval", none},
                             {"parade_interval", none},
                             {"difference", none},
                             {"p_value", nullptr}}}}}}}};
  dml::test::write_text(dir.file("experiment.json"), record.dump());
  const std::string md = dir.file("table.md");
  ASSERT_EQ(std::system(("python3 '" + std::string(DML_SOURCE_DIR) + "/scripts/sweep_table.py' '" +
                         dir.file("experiment.json") + "' R@1 > '" + md + "'")
                            .c_str()),
            0);
  EXPECT_NE(read_text(md).find("| a\\|b | R@1 tone=x\\|y | n/a | n/a | n/a |  |"),
            std::string::npos)
      << read_text(md);
}

INSTANTIATE_TEST_SUITE_P(Formats, FindmlOnFixture, testing::ValuesIn(kFixtureExperiments),
                         [](const testing::TestParamInfo<FixtureExperiment>& info) {
                           return info.param.name;
                         });

// ---- The parade config --------------------------------------------------------------

TEST(ParadeConfig, BundledFindmlConfigHoldsTheDefaultsValues) {
  const std::string file = std::string(DML_SOURCE_DIR) + "/configs/findml_fashion_mnist.json";
  const Json from_file = dml::train::resolve_config(dml::train::read_config_file(file), {}, file);
  const Json defaults =
      dml::train::resolve_config(dml::fairness::findml_default_config(), {}, "findml defaults");
  EXPECT_EQ(from_file, defaults) << "differences: " << Json::diff(defaults, from_file).dump();
}

TEST(ParadeConfig, PerAttributeSettingsOverrideAndUnknownKeysAreErrors) {
  auto parade = [](const std::vector<std::string>& overrides) {
    return dml::fairness::parade_config(
        dml::train::resolve_config(Json::object(), overrides, "test_parade_e2e"));
  };
  const dml::fairness::ParadeConfig config =
      parade({"parade.attributes=[\"tone\",\"age\"]", "parade.per_attribute.tone.rho=0.25",
              "parade.per_attribute.tone.embedding_dim=16", "parade.alpha=0.5"});
  ASSERT_EQ(config.branches.size(), 2u);
  EXPECT_EQ(config.branches[0].attribute, "tone");
  EXPECT_EQ(config.branches[0].rho, 0.25);
  EXPECT_EQ(config.branches[0].embedding_dim, 16);
  EXPECT_EQ(config.branches[0].alpha, 0.5);  // the section's value
  EXPECT_EQ(config.branches[1].attribute, "age");
  EXPECT_EQ(config.branches[1].rho, 1.0);
  EXPECT_EQ(config.branches[1].embedding_dim, 64);

  expect_error(
      [&] {
        parade({"parade.attributes=[\"tone\"]", "parade.per_attribute.tone.alpah=0.5"});
      },
      {"parade.per_attribute.tone", "unknown key 'alpah'"});
  expect_error(
      [&] {
        parade({"parade.attributes=[\"tone\"]", "parade.per_attribute.tone.rho=\"high\""});
      },
      {"parade.per_attribute.tone.rho must be a number", "\"high\""});
  expect_error(
      [&] {
        parade({"parade.attributes=[\"tone\"]", "parade.per_attribute.tone.embedding_dim=8.5"});
      },
      {"parade.per_attribute.tone.embedding_dim must be a number", "8.5"});
  expect_error(
      [&] {
        parade({"parade.attributes=[\"tone\"]", "parade.per_attribute.age.rho=0.5"});
      },
      {"parade.per_attribute names 'age'", "not in parade.attributes"});
}

// A tiny run on the CSV fixture (attribute "tone") with `settings`.
Json tiny_csv_run(const TempDir& dir, const std::vector<std::string>& settings) {
  const Json data = {
      {"format", "csv"}, {"root", dml::test::make_csv_manifest(dir)}, {"attributes", {"tone"}}};
  std::vector<std::string> overrides = tiny_findml_run();
  overrides.push_back("train.output=" + dir.file("run"));
  overrides.insert(overrides.end(), settings.begin(), settings.end());
  return dml::train::resolve_config({{"data", data}}, overrides, "test_parade_e2e");
}

// A training run checks the parade section even when PARADE is off: settings
// for an attribute PARADE does not train (the --parade flag forgotten) are
// an error, not a silent plain run.
TEST(ParadeConfig, ARunWithPerAttributeSettingsButNoAttributesFails) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {"parade.per_attribute.tone.rho=0.5"});
  expect_error([&] { dml::train::run_training(config, {.extension = make_parade_extension}); },
               {"parade.per_attribute names 'tone'", "not in parade.attributes"});
}

// The experiment checks its PARADE arm's settings before it trains anything.
TEST(ParadeConfig, ExperimentWithABadParadeSettingFailsBeforeTraining) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {"parade.per_attribute.tone.alpah=2"});
  const std::string out = dir.file("experiment");
  expect_error([&] { dml::fairness::run_findml_experiment(config, {.output = out}); },
               {"parade.per_attribute.tone", "unknown key 'alpah'"});
  EXPECT_FALSE(fs::exists(out)) << "the baseline ran before the error";
}

// Before: with one value of its attribute in the training split PARADE
// trained as a baseline without a word.
TEST(ParadeConfig, AnAttributeWithOneValueInTheTrainingSplitIsRefused) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {"parade.attributes=[\"tone\"]"});
  const std::string manifest = config["data"]["root"];
  std::string text = read_text(manifest);
  for (const std::string value : {",light,", ",medium,"})
    for (size_t at = text.find(value); at != std::string::npos; at = text.find(value))
      text.replace(at, value.size(), ",dark,");
  std::ofstream(manifest, std::ios::binary) << text;
  expect_error([&] { dml::train::run_training(config, {.extension = make_parade_extension}); },
               {"parade: attribute 'tone' takes 1 value", "train", "at least 2 subgroups"});
}

// Before: an audited attribute the data does not carry was found by the
// audit, after the whole baseline had trained.
TEST(ParadeConfig, ExperimentOnAnAttributeTheDataLacksFailsBeforeTraining) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {});
  const std::string out = dir.file("experiment");
  expect_error(
      [&] { dml::fairness::run_findml_experiment(config, {.attribute = "age", .output = out}); },
      {"has no attribute 'age'", "it has: tone"});
  EXPECT_FALSE(fs::exists(out)) << "the baseline ran before the error";
}

// Before: an audit of a held-out split of one class reported every
// retrieval metric as 1.0.
TEST(ParadeConfig, AnAuditOfOneHeldOutClassIsRefusedBeforeEmbedding) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {"eval.limit=1"});
  const dml::train::TrainConfig c = dml::train::typed_config(config);
  const auto model = dml::train::build_model(c.model);
  expect_error([&] { dml::fairness::audit_model(*model, c, {.attribute = "tone"}, "model"); },
               {"test holds 1 class", "eval.limit"});
}

// parade.attribute_features=detached: the attribute head reads the
// backbone's features without passing gradients back. With rho 0 nothing of
// PARADE then reaches the class model, which must come out bit for bit the
// baseline's; with shared features the attribute loss changes it.
TEST(ParadeConfig, DetachedAttributeFeaturesLeaveTheBackboneToTheDecorrelation) {
  TempDir dir;
  auto train = [&](const std::string& name, const std::vector<std::string>& settings) {
    std::vector<std::string> all = settings;
    all.push_back("train.output=" + dir.file(name));
    dml::train::run_training(tiny_csv_run(dir, all), {.extension = make_parade_extension});
    return dir.file(name) + "/model.safetensors";
  };
  const std::string baseline = train("baseline", {});
  const std::vector<std::string> parade = {"parade.attributes=[\"tone\"]", "parade.rho=0",
                                           "parade.alpha=1"};
  std::vector<std::string> detached = parade, shared = parade;
  detached.push_back("parade.attribute_features=detached");
  dml::test::expect_same_tensors(baseline, train("detached", detached));
  const auto a = dml::read_safetensors(baseline),
             b = dml::read_safetensors(train("shared", shared));
  bool differs = false;
  for (size_t i = 0; i < a.tensors.size(); ++i)
    differs = differs || !dml::test::same_bytes(a.tensors[i].second, b.tensors[i].second);
  EXPECT_TRUE(differs) << "the shared attribute loss left the class model untouched";
}

// ---- Sweeps: a killed sweep resumes where it stopped ------------------------------

// The table rows of results.jsonl by (cell, seed, arm), without the run paths.
std::map<std::string, Json> results_by_run(const std::string& path) {
  std::map<std::string, Json> out;
  for (const Json& row : dml::test::read_json_lines(path))
    out[row["cell"].get<std::string>() + "/" + row["seed"].dump() + "/" +
        row["arm"].get<std::string>()] = row["metrics"];
  return out;
}

// `dml experiment findml --sweep` over rho on the CSV fixture, two epochs a
// run, interrupted (SIGINT) in the second epoch of its second run: run again
// with the same arguments, it keeps the finished run, continues the
// half-finished one from its checkpoint and ends with the numbers of a sweep
// that was never interrupted.
TEST(Sweep, KilledSweepResumesFinishedRunsKeptHalfFinishedContinued) {
  TempDir dir;
  std::vector<std::string> settings = tiny_findml_run();
  settings.push_back("train.epochs=2");
  const Json config = dml::train::resolve_config({{"data", kFixtureExperiments[0].make(dir)}},
                                                 settings, "test_parade_e2e");
  const std::string config_file = dir.file("config.json");
  std::ofstream(config_file) << config.dump(1);
  auto sweep = [&](const std::string& out, const std::string& env = "") {
    return dml::test::run_tool(DML_TOOL, dir,
                               "experiment findml --config '" + config_file +
                                   "' --sweep parade.rho=0.5,2 --seeds 1 --output '" + out + "'",
                               env);
  };
  const std::string straight = dir.file("straight"), killed = dir.file("killed");
  dml::test::ToolResult r = sweep(straight);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  // Three runs: one baseline shared by both rho cells, two PARADE runs.
  EXPECT_NE(r.out.find("== run 3/3"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("== run 4/"), std::string::npos) << r.out;

  // One step an epoch (6 training images, batches of 4), two epochs a run:
  // step 4 is the second run's second epoch, after its first checkpoint.
  // Ctrl-C there: the line says to run the experiment again.
  r = sweep(killed, "DML_TEST_KILL_AT=step@4 DML_TEST_KILL_SIGNAL=" + std::to_string(SIGINT));
  ASSERT_EQ(r.killed_by, SIGINT) << r.out << r.err;
  EXPECT_NE(r.err.find("is kept; resume with: the same dml experiment findml command (it resumes "
                       "every run in " +
                       killed + ")"),
            std::string::npos)
      << r.err;
  // The finished baseline's rows, one for each cell it serves.
  ASSERT_EQ(dml::test::read_json_lines(killed + "/results.jsonl").size(), 2u);
  EXPECT_FALSE(fs::exists(killed + "/experiment.json"));

  r = sweep(killed);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  // Each run named by its cells, arm and seed; the sweep's ETA once a run has
  // taken time here.
  EXPECT_NE(r.out.find("== run 1/3 (cell parade.rho=0.5 and parade.rho=2, baseline, seed 0): "
                       "finished earlier"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("== run 2/3 (cell parade.rho=0.5, parade, seed 0), resumed from its "
                       "checkpoint: " +
                       killed + "/runs/"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("== run 3/3 (cell parade.rho=2, parade, seed 0): "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("; sweep ETA 00:"), std::string::npos) << r.out;
  const auto expected = results_by_run(straight + "/results.jsonl");
  EXPECT_EQ(expected.size(), 4u);  // 2 cells x (baseline, PARADE)
  EXPECT_EQ(results_by_run(killed + "/results.jsonl"), expected);
}

TEST(Sweep, BadSweepsFailBeforeAnythingRuns) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {});
  const std::string out = dir.file("sweep");
  auto plan = [&](const std::vector<std::string>& axes, int64_t max_runs = 60) {
    dml::fairness::SweepOptions options{.seeds = {0, 1}, .output = out, .max_runs = max_runs};
    for (const std::string& a : axes) options.axes.push_back(dml::fairness::parse_sweep_axis(a));
    return dml::fairness::run_findml_experiment(config, options);
  };
  expect_error([&] { plan({"parade.rhoo=1,2"}); }, {"parade.rhoo"});
  expect_error([&] { plan({"parade.rho=1,\"high\""}); }, {"parade.rho", "high"});
  expect_error([&] { plan({"data.minority_share=0.1,2"}); }, {"2"});
  expect_error([&] { plan({"parade.attribute_features=shared,frozen"}); },
               {"parade.attribute_features", "frozen"});
  expect_error([&] { plan({"train.seed=1,2"}); }, {"train.seed", "--seeds"});
  expect_error([&] { plan({"parade.rho=1", "parade.rho=2"}); }, {"parade.rho is given twice"});
  expect_error([&] { plan({"parade.rho"}); }, {"KEY=V1,V2"});
  expect_error([&] { plan({"parade.rho=1,,2"}); }, {"empty value"});
  // 3 x 2 cells x 2 seeds: 12 PARADE runs, and 4 baselines (one per
  // minority share and seed; rho leaves the baseline as it is).
  expect_error(
      [&] {
        plan({"parade.rho=1,2,3", "data.minority_share=0.1,0.2"}, 10);
      },
      {"16 training runs", "2 arms, shared baselines counted once", "--max-runs 10"});
  EXPECT_FALSE(fs::exists(out)) << "a run started before the error";
}

TEST(Sweep, PlanSharesBaselinesAndNamesRunsByTheirTraining) {
  TempDir dir;
  const Json config = tiny_csv_run(dir, {});
  dml::fairness::SweepOptions options{
      .axes = {dml::fairness::parse_sweep_axis("parade.rho=0.25,1,4"),
               dml::fairness::parse_sweep_axis("loss.name=multi_similarity,\"triplet\"")},
      .seeds = {0, 1},
      .output = dir.file("sweep")};
  const dml::fairness::SweepPlan plan = dml::fairness::plan_sweep(config, options);
  ASSERT_EQ(plan.cells.size(), 6u);
  EXPECT_EQ(plan.cells[0].name, "parade.rho=0.25,loss.name=multi_similarity");
  EXPECT_EQ(plan.cells[1].name, "parade.rho=0.25,loss.name=triplet");
  EXPECT_EQ(plan.cells[1].values, (Json{{"parade.rho", 0.25}, {"loss.name", "triplet"}}));
  // Baselines differ by loss and seed only: 2 x 2, plus 6 x 2 PARADE runs.
  EXPECT_EQ(plan.runs.size(), 16u);
  EXPECT_EQ(plan.cells[0].baseline, plan.cells[2].baseline);
  EXPECT_NE(plan.cells[0].baseline, plan.cells[1].baseline);
  for (const auto& run : plan.runs) EXPECT_EQ(run.config["train"]["output"], run.dir) << run.dir;
  // A value list with commas inside brackets is one value.
  const auto classes = dml::fairness::parse_sweep_axis("data.train_classes=[0,1],[2,3]");
  EXPECT_EQ(classes.values, (std::vector<Json>{Json::array({0, 1}), Json::array({2, 3})}));
  // The run's name ignores where and with how many threads it runs.
  Json moved = config;
  moved["train"]["output"] = "/elsewhere";
  moved["train"]["threads"] = 7;
  EXPECT_EQ(dml::fairness::config_hash(moved), dml::fairness::config_hash(config));
  moved["parade"]["rho"] = 3.0;
  EXPECT_NE(dml::fairness::config_hash(moved), dml::fairness::config_hash(config));
}

}  // namespace
