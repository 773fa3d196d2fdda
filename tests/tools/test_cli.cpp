// The `dml` command line as a new user meets it, run as the built binary:
// parse errors on one prefixed line with exit status 2, typed flags with
// their defaults in --help, --version, --threads on every command that
// computes, `dml list`'s columns and formats, `dml config show`, and embed
// and audit refusing what they cannot use.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/datasets.h"
#include "dml/train/finite_values.h"
#include "dml/train/model_factory.h"
#include "engine/npy.h"
#include "tests/support/e2e_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

ToolResult dml_tool(const TempDir& dir, const std::string& args) {
  return run_tool(DML_TOOL, dir, args);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  for (const std::string& line : lines_of(text))
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

TEST(CliParseErrors, AreOneLineWithThePrefixAndExitTwo) {
  TempDir dir;
  // Each command line and a fragment its message must hold.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "'dml' needs a command (commands: "},
      {"fetch", "unknown command 'fetch'"},
      {"experiment", "'dml experiment' needs a command (commands: findml)"},
      {"experiment findml --config a.json --config b.json", "--config was given 2 times"},
      {"train --lr 1e-3 --lr 1e-4", "--lr was given 2 times"},
      {"train --lr 1e-3x", "--lr: '1e-3x' is not a number"},
      {"train --epochs 2.5", "--epochs: '2.5' is not an integer"},
      {"train --frozen-bn yes", "--frozen-bn: 'yes' is not true or false"},
      {"eval --split test", "--checkpoint is required"},
      {"eval --checkpoint m.safetensors --bogus", "--bogus"},
      {"embed --checkpoint m.safetensors --threads -2", "--threads: '-2' is not an integer >= 0"},
      {"experiment findml --max-runs -5", "--max-runs: '-5' is not an integer >= 1"},
      {"experiment findml --seeds 2x", "--seeds: '2x' is not an integer >= 1"},
      {"train --set", "--set"},
      {R"(train --lr '{"a": 1, "a": 2}')", "duplicate key 'a'"},
  };
  for (const auto& [args, fragment] : cases) {
    SCOPED_TRACE("dml " + args);
    const ToolResult r = dml_tool(dir, args);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.rfind("dml: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(" --help'"), std::string::npos) << r.err;
  }
  // Where to look is the command that failed to parse.
  EXPECT_NE(dml_tool(dir, "train --epochs 2.5").err.find("run 'dml train --help'"),
            std::string::npos);
  EXPECT_NE(
      dml_tool(dir, "experiment findml --seeds x").err.find("run 'dml experiment findml --help'"),
      std::string::npos);
}

// A file name with a line break in it is named on the error's one line.
TEST(CliRunErrors, StayOnOneLineWhenANameHoldsALineBreak) {
  TempDir dir;
  const ToolResult r = dml_tool(dir, "train --config 'no\nsuch.json'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("dml: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("no\\nsuch.json"), std::string::npos) << r.err;
}

TEST(CliParseErrors, HelpStillExitsZero) {
  TempDir dir;
  for (const std::string args : {"--help", "train --help", "experiment findml --help"}) {
    const ToolResult r = dml_tool(dir, args);
    EXPECT_EQ(r.status, 0) << args;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << args;
  }
}

// Each shorthand's type and default come from default_config(): the
// regression was every flag typed TEXT with no default.
TEST(CliTrainFlags, HelpShowsTypesAndDefaultsOfTheConfig) {
  TempDir dir;
  const ToolResult r = dml_tool(dir, "train --help");
  ASSERT_EQ(r.status, 0);
  for (const std::string flag : {"--lr FLOAT=0.001", "--epochs INT=2", "--frozen-bn BOOL=false",
                                 "--loss TEXT=multi_similarity", "--batch-size INT=100",
                                 "--backbone-lr FLOAT=0", "--threads INT=0"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " in\n" << r.out;
}

// A float key whose default was written as the integer 0 refused every
// non-integer value ("must be a number like its default 0, got 0.0001").
TEST(CliTrainFlags, FloatKeysWithZeroDefaultsTakeFractions) {
  const Json c = train::resolve_config(
      Json::object(),
      {"optimizer.backbone_lr=0.0001", "optimizer.head_lr=0.002", "loss.lr_multiplier=0.5"},
      "test");
  EXPECT_DOUBLE_EQ(train::typed_config(c).optimizer.backbone_lr, 0.0001);
  EXPECT_DOUBLE_EQ(train::typed_config(c).loss.lr_multiplier, 0.5);
}

TEST(CliVersion, NamesVersionCommitCpuPathsAndCuda) {
  TempDir dir;
  const ToolResult r = dml_tool(dir, "--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^dml \d+\.\d+\.\d+ \(commit \S+\)\n)")))
      << r.out;
  EXPECT_NE(r.out.find("\ncuda: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ncpu kernels: "), std::string::npos) << r.out;
  // The commit the binary was built from, not the one its build was
  // configured at (a build comes before every test run).
  const ToolResult head = run_tool("git", dir, "-C '" DML_SOURCE_DIR "' rev-parse --short=12 HEAD");
  if (head.status == 0 && !head.out.empty()) {
    EXPECT_NE(r.out.find("(commit " + head.out.substr(0, head.out.find('\n'))), std::string::npos)
        << r.out << " vs HEAD " << head.out;
  }
}

TEST(CliThreads, EveryCommandThatComputesTakesThreads) {
  TempDir dir;
  for (const std::string command : {"train", "eval", "embed", "audit", "experiment findml"}) {
    const ToolResult r = dml_tool(dir, command + " --help");
    EXPECT_NE(r.out.find("--threads"), std::string::npos) << command;
    EXPECT_NE(r.out.find("0: all cores"), std::string::npos) << command;
  }
}

// The cells of a listing line and the column each starts at (cells are
// separated by two or more spaces).
std::vector<size_t> cell_starts(const std::string& line) {
  std::vector<size_t> starts;
  for (size_t at = line.find_first_not_of(' '); at != std::string::npos;) {
    starts.push_back(at);
    const size_t gap = line.find("  ", at);
    at = gap == std::string::npos ? gap : line.find_first_not_of(' ', gap);
  }
  return starts;
}

TEST(CliList, ColumnsAreAlignedAndFormatsAreListed) {
  TempDir dir;
  const ToolResult r = dml_tool(dir, "list");
  ASSERT_EQ(r.status, 0) << r.err;
  // Parameter rows (indented six spaces) of one section share their columns:
  // name, default, range, meaning, each at least two spaces apart.
  std::vector<size_t> columns;
  int parameter_rows = 0;
  for (const std::string& line : lines_of(r.out)) {
    if (line.rfind("      ", 0) != 0) {
      if (line.find(':') != std::string::npos && line[0] != ' ') columns.clear();  // a section
      continue;
    }
    const std::vector<size_t> starts = cell_starts(line);
    ASSERT_EQ(starts.size(), 4u) << "'" << line << "'";
    if (columns.empty()) columns = starts;
    EXPECT_EQ(starts, columns) << "'" << line << "'";
    ++parameter_rows;
  }
  EXPECT_GT(parameter_rows, 20);
  const size_t formats = r.out.find("dataset formats (data.format");
  ASSERT_NE(formats, std::string::npos) << r.out;
  std::vector<size_t> format_columns;
  for (const train::DataFormat& f : train::data_formats()) {
    const std::string row = line_starting(r.out.substr(formats), "  " + f.name + " ");
    ASSERT_FALSE(row.empty()) << f.name;
    const std::vector<size_t> starts = cell_starts(row);
    ASSERT_GE(starts.size(), 2u) << row;
    if (format_columns.empty()) format_columns = {starts[0], starts[1]};
    EXPECT_EQ(starts[1], format_columns[1]) << row;
  }
}

// Every key of default_config() (PARADE's section included) has a line of
// meaning: a key added without one fails here.
TEST(CliConfig, EveryKeyIsDocumented) {
  const std::vector<train::ConfigEntry> entries = train::config_entries(train::default_config());
  EXPECT_GT(entries.size(), 60u);
  bool parade = false;
  for (const train::ConfigEntry& e : entries) {
    EXPECT_FALSE(e.doc.empty()) << e.key << " has no line in config.cpp's trainer_key_docs() "
                                << "(or its section's ConfigSection::docs)";
    parade |= e.key == "parade.rho";
  }
  EXPECT_TRUE(parade);
}

TEST(CliConfig, ShowMarksChangedKeysAndJsonIsTheResolvedConfig) {
  TempDir dir;
  write_text(dir.file("run.json"), R"({"train": {"epochs": 5}})");
  const std::string args = "config show --config '" + dir.file("run.json") +
                           "' --set optimizer.lr=0.01 --set parade.rho=0.5";
  const ToolResult r = dml_tool(dir, args);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"optimizer.lr ", {"*", "0.01", "0.001", "Learning rate"}},
      {"train.epochs ", {"*", "5", "2", "Epochs"}},
      {"parade.rho ", {"*", "0.5", "decorrelation"}},
      {"train.seed ", {"0", "Seed"}}};
  for (const auto& [key, fragments] : expected) {
    const std::string line = line_starting(r.out, key);
    ASSERT_FALSE(line.empty()) << key << " missing from\n" << r.out;
    for (const std::string& f : fragments)
      EXPECT_NE(line.find(f), std::string::npos) << f << " in '" << line << "'";
  }
  EXPECT_EQ(line_starting(r.out, "train.seed ").find('*'), std::string::npos);

  const ToolResult json = dml_tool(dir, args + " --json");
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(Json::parse(json.out),
            train::resolve_config(Json::parse(R"({"train": {"epochs": 5}})"),
                                  {"optimizer.lr=0.01", "parade.rho=0.5"}, "test"));
}

TEST(CliConfig, FileErrorsNameLineAndColumn) {
  TempDir dir;
  write_text(dir.file("bad.json"), "{\n  \"train\": {\"epochs\": 2,}\n}\n");
  write_text(dir.file("twice.json"),
             "{\n  \"loss\": {\"params\": {\"margin\": 0.2,\n     \"margin\": 0.3}}\n}\n");
  const ToolResult bad = dml_tool(dir, "config show --config '" + dir.file("bad.json") + "'");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("bad.json:2:25: syntax error"), std::string::npos) << bad.err;
  const ToolResult twice = dml_tool(dir, "train --config '" + dir.file("twice.json") + "'");
  EXPECT_EQ(twice.status, 1);
  EXPECT_NE(twice.err.find("twice.json:3:6: duplicate key 'loss.params.margin' (first at line 2)"),
            std::string::npos)
      << twice.err;
}

// A model whose weights are random: enough for embed, which needs no data.
void write_random_model(const std::string& path) {
  const Json config = train::resolve_config(Json::object(), tiny_run_settings(), "test");
  auto model = train::build_model(train::typed_config(config).model);
  train::save_exported_model(path, model->state_dict(), config, Json::object());
}

TEST(CliEmbed, RefusesNonFiniteWeightsAndWritesNothing) {
  TempDir dir;
  write_random_model(dir.file("good.safetensors"));
  train::Checkpoint m = train::load_checkpoint(dir.file("good.safetensors"));
  auto& [name, tensor] = m.model[3];
  Tensor poisoned = tensor.to(Device::cpu());
  std::vector<float> values = poisoned.to_vector<float>();
  values[1] = std::numeric_limits<float>::quiet_NaN();
  tensor = from_vector(values, poisoned.shape());
  train::save_exported_model(dir.file("nan.safetensors"), m.model, m.config, m.names);
  write_image(dir.file("a.png"), pattern_image(12, 12, 3));

  const ToolResult r =
      dml_tool(dir, "embed --checkpoint '" + dir.file("nan.safetensors") + "' --images '" +
                        dir.file("a.png") + "' --output '" + dir.file("out") + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("weight '" + name + "' holds a non-finite value (element 1"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.embeddings.npy")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.labels.npy")));
}

TEST(CliEmbed, NonFiniteEmbeddingRowsAreNamed) {
  Tensor e = from_vector(std::vector<float>{0, 1, 2, 3, 4, INFINITY}, {3, 2});
  expect_error([&] { train::check_finite_embeddings(e, "embed images"); },
               {"embed images", "row 2", "not finite", "nothing was written"});
  train::check_finite_embeddings(from_vector(std::vector<float>{0, 1}, {1, 2}), "ok");
}

// `embed --images` writes no attribute labels; the audit says so and how to
// get them, rather than failing on a file it cannot open.
TEST(CliAudit, EmbeddingsFromImagesExplainTheMissingAttributes) {
  TempDir dir;
  write_random_model(dir.file("model.safetensors"));
  write_image(dir.file("a.png"), pattern_image(12, 12, 3, 1));
  write_image(dir.file("b.png"), pattern_image(12, 12, 3, 2));
  // An earlier `embed --split` to the same prefix left attributes of other
  // rows: they must not pair with these embeddings.
  write_npy(dir.file("e.attributes.npy"), from_vector(std::vector<int64_t>{0, 1}, {2, 1}));
  const ToolResult embed =
      dml_tool(dir, "embed --threads 1 --checkpoint '" + dir.file("model.safetensors") +
                        "' --images '" + dir.file("a.png") + "' '" + dir.file("b.png") +
                        "' --output '" + dir.file("e") + "'");
  ASSERT_EQ(embed.status, 0) << embed.err;
  ASSERT_TRUE(std::filesystem::exists(dir.file("e.embeddings.npy")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.attributes.npy")));

  const ToolResult audit =
      dml_tool(dir, "audit --embeddings '" + dir.file("e") + "' --output '" + dir.file("a") + "'");
  EXPECT_EQ(audit.status, 1);
  for (const std::string fragment : {"e.attributes.npy is missing", "dml embed --images", "--split",
                                     "int64 array [N, A]", "--attribute-column"})
    EXPECT_NE(audit.err.find(fragment), std::string::npos) << fragment << " in " << audit.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.json")));
}

// The files of one embedding are written together or not at all: a file
// that cannot be written leaves the earlier embedding's files as they were.
TEST(CliEmbed, FilesAreWrittenTogetherOrNotAtAll) {
  TempDir dir;
  write_random_model(dir.file("model.safetensors"));
  write_image(dir.file("a.png"), pattern_image(12, 12, 3, 1));
  write_text(dir.file("e.embeddings.npy"), "the earlier embedding");
  std::filesystem::create_directory(dir.file("e.labels.npy.tmp"));  // the labels cannot be written
  const ToolResult r =
      dml_tool(dir, "embed --threads 1 --checkpoint '" + dir.file("model.safetensors") +
                        "' --images '" + dir.file("a.png") + "' --output '" + dir.file("e") + "'");
  expect_one_line_error(r, "e.labels.npy.tmp");
  EXPECT_EQ(read_text(dir.file("e.embeddings.npy")), "the earlier embedding");
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.embeddings.npy.tmp")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.names.json")));
}

TEST(CliModel, MissingPretrainedWeightsSayHowToGetThem) {
  train::ModelConfig model =
      train::typed_config(train::resolve_config(Json::object(), tiny_run_settings(), "test")).model;
  model.pretrained = "weights/resnet50.safetensors";
  expect_error([&] { train::build_model(model); },
               {"model.pretrained", "'weights/resnet50.safetensors'",
                "tools/convert_pth_to_safetensors.py", "model.pretrained=\"\""});
}

// A ready config that needs weights says so before it looks for its dataset
// (a new user has neither yet: the weights are the first thing to fix).
TEST(CliModel, MissingPretrainedWeightsAreNamedBeforeTheDataset) {
  TempDir dir;
  const ToolResult r =
      dml_tool(dir, "train --config '" DML_SOURCE_DIR "/configs/cub200.json' --output '" +
                        dir.file("run") + "'");
  expect_one_line_error(r, "model.pretrained: no weights file 'weights/resnet50.safetensors'");
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

TEST(CliConfig, NegativeCountsAreRefusedByName) {
  for (const std::string bad :
       {"train.batch_size=-4", "train.m=0", "eval.limit=-1", "train.max_steps_per_epoch=-2"}) {
    const std::string key = bad.substr(bad.find('.') + 1, bad.find('=') - bad.find('.') - 1);
    expect_error([&] { train::typed_config(train::resolve_config(Json::object(), {bad}, "test")); },
                 {key});
  }
}

}  // namespace
}  // namespace dml::test
