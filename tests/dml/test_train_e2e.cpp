// Whole training runs, end to end: `run_training` on a tiny fixture of every
// dataset format (tests/support/dataset_fixtures.h) trains, evaluates and writes its
// outputs; on the real Fashion-MNIST a run resumed from a checkpoint matches
// an unbroken one bit for bit; the built `dml` binary trains, evaluates and
// embeds, and fails with one clear line on bad input; a truncated image ends
// a run naming the file, or is skipped and counted when asked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/run_names.h"
#include "dml/train/trainer.h"
#include "engine/npy.h"
#include "engine/safetensors.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/e2e_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using dml::Json;
using dml::test::expect_error;
using dml::test::expect_one_line_error;
using dml::test::FashionMnistTest;
using dml::test::read_json_lines;
using dml::test::read_text;
using dml::test::TempDir;
using dml::test::ToolResult;

// A tiny run (e2e_support.h) with clustering, into `output`.
std::vector<std::string> tiny_run(const std::string& output) {
  std::vector<std::string> settings = dml::test::tiny_run_settings();
  settings.push_back("eval.clustering=true");
  settings.push_back("train.output=" + output);
  return settings;
}

Json resolve(const Json& data, const std::vector<std::string>& overrides) {
  return dml::train::resolve_config({{"data", data}}, overrides, "test_train_e2e");
}

void expect_recall_at_1_in_unit_range(const Json& metrics) {
  ASSERT_TRUE(metrics.contains("recall@1")) << metrics.dump();
  const double recall = metrics["recall@1"].get<double>();
  EXPECT_GE(recall, 0.0) << metrics.dump();
  EXPECT_LE(recall, 1.0) << metrics.dump();
}

// ---- Every dataset format, on its tiny fixture ---------------------------------------

struct Format {
  std::string name;
  // Writes the fixture into `dir` and returns the config's "data" section.
  std::function<Json(const TempDir& dir)> make;
};

void PrintTo(const Format& format, std::ostream* out) {
  *out << format.name;
}

const Format kFormats[] = {
    {"fashion_mnist",
     [](const TempDir& dir) {
       return Json{{"format", "fashion_mnist"}, {"root", dml::test::make_fashion_mnist(dir)}};
     }},
    {"cub200",
     [](const TempDir& dir) {
       return Json{{"format", "cub200"},
                   {"root", dml::test::make_cub200(dir, {1, 1, 2, 2, 101, 101, 102, 102})},
                   {"attributes", {"has_wing_color::blue"}}};
     }},
    {"cars196",
     [](const TempDir& dir) {
       return Json{{"format", "cars196"},
                   {"root", dml::test::make_cars_devkit(dir, "cars_annos_two_per_class.mat",
                                                        dml::test::kCarsTwoPerClassClasses)}};
     }},
    {"sop",
     [](const TempDir& dir) {
       return Json{{"format", "sop"}, {"root", dml::test::make_online_products(dir)}};
     }},
    {"inshop",
     [](const TempDir& dir) {
       return Json{{"format", "inshop"}, {"root", dml::test::make_inshop(dir)}};
     }},
    {"celeba",
     [](const TempDir& dir) {
       return Json{
           {"format", "celeba"}, {"root", dml::test::make_celeba(dir)}, {"attributes", {"Male"}}};
     }},
    {"lfw",
     [](const TempDir& dir) {
       return Json{{"format", "lfw"}, {"root", dml::test::make_lfw(dir)}};
     }},
    {"csv",
     [](const TempDir& dir) {
       return Json{{"format", "csv"},
                   {"root", dml::test::make_csv_manifest(dir)},
                   {"attributes", {"tone"}}};
     }},
};

class TinyFixtureRun : public testing::TestWithParam<Format> {};

TEST_P(TinyFixtureRun, TrainsEvaluatesAndWritesItsOutputs) {
  TempDir dir;
  const std::string out = dir.file("run");
  const Json config = resolve(GetParam().make(dir), tiny_run(out));
  const Json metrics = dml::train::run_training(config);

  expect_recall_at_1_in_unit_range(metrics);
  EXPECT_EQ(metrics["epoch"], 1);
  // One batch of 2 classes x 2 images (Fashion-MNIST's fixture: two batches).
  EXPECT_EQ(metrics["steps"], GetParam().name == "fashion_mnist" ? 2 : 1);
  EXPECT_TRUE(std::isfinite(metrics["loss"].get<double>())) << metrics.dump();
  EXPECT_EQ(metrics["skipped_images"], 0);
  // In-Shop searches its queries against its gallery, a search that has no
  // clustering; every other format clusters its held-out split.
  EXPECT_EQ(metrics.contains("nmi"), GetParam().name != "inshop") << metrics.dump();

  EXPECT_EQ(Json::parse(read_text(out + "/config.json")), config);
  const std::vector<Json> lines = read_json_lines(out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], metrics);

  const dml::train::Checkpoint checkpoint =
      dml::train::load_checkpoint(out + "/checkpoint.safetensors");
  EXPECT_EQ(checkpoint.epochs_done, 1);
  EXPECT_EQ(checkpoint.steps, metrics["steps"]);
  EXPECT_FALSE(checkpoint.optimizer.empty());
  EXPECT_EQ(checkpoint.config, config);
  const dml::SafetensorsFile model = dml::read_safetensors(out + "/model.safetensors");
  ASSERT_EQ(model.tensors.size(), checkpoint.model.size());
  EXPECT_EQ(model.tensors.back().first, "head.fc.bias");
  EXPECT_EQ(model.tensors.back().second.shape(), (dml::Shape{8}));  // model.embedding_dim

  // The names of classes and attribute values, in the dataset's own codes,
  // beside the config and in both files' metadata.
  const Json names = Json::parse(read_text(out + "/names.json"));
  EXPECT_EQ(checkpoint.names, names);
  EXPECT_EQ(dml::train::load_checkpoint(out + "/model.safetensors").names, names);
  ASSERT_TRUE(names["classes"].is_object() && names["attributes"].is_object()) << names;
  if (GetParam().name == "fashion_mnist") {
    EXPECT_EQ(names["classes"]["0"], "T-shirt/top");  // a training class, not renumbered
    EXPECT_EQ(names["classes"]["9"], "Ankle boot");   // a held-out class
  }
  if (GetParam().name == "csv") {
    EXPECT_EQ(names["attributes"].dump(), R"({"tone":{"0":"dark","1":"light","2":"medium"}})");
  }
  if (GetParam().name == "lfw") {
    EXPECT_EQ(names["classes"]["4"], "Zico");
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, TinyFixtureRun, testing::ValuesIn(kFormats),
                         [](const testing::TestParamInfo<Format>& info) {
                           return info.param.name;
                         });

// train.precision bf16 trains under autocast on any device: the step's
// convolutions and products see bf16 operands, so the run's loss differs from
// the f32 run's (a run that ignored the setting would match it exactly) and
// stays finite. tf32 exists only on CUDA devices.
TEST(TrainPrecision, Bf16TrainsUnderAutocastAndTf32NeedsCuda) {
  TempDir dir;
  const Json data = {{"format", "fashion_mnist"}, {"root", dml::test::make_fashion_mnist(dir)}};
  const Json f32 = dml::train::run_training(resolve(data, tiny_run(dir.file("f32"))));
  std::vector<std::string> bf16 = tiny_run(dir.file("bf16"));
  bf16.push_back("train.precision=bf16");
  const Json mixed = dml::train::run_training(resolve(data, bf16));
  EXPECT_TRUE(std::isfinite(mixed["loss"].get<double>())) << mixed.dump();
  EXPECT_NE(mixed["loss"], f32["loss"]);
  // Same order only: the multi-similarity loss scales similarities by 50, so
  // bf16 rounding of the embeddings moves it by several percent at the first
  // step, and Adam's first updates (of size lr whatever the gradient's size)
  // carry the difference on. The bf16 arithmetic itself is checked exactly in
  // test_bf16_compute.
  EXPECT_GT(mixed["loss"].get<double>(), 0.5 * f32["loss"].get<double>());
  EXPECT_LT(mixed["loss"].get<double>(), 2.0 * f32["loss"].get<double>());

  std::vector<std::string> tf32 = tiny_run(dir.file("tf32"));
  tf32.push_back("train.precision=tf32");
  expect_error([&] { dml::train::run_training(resolve(data, tf32)); },
               {"train.precision tf32: TF32 exists on CUDA devices only", "set train.precision"});
}

// train.cuda_graph is refused, one line each, where it cannot hold: a loss
// that uploads index lists each step, a run off the GPU. (Captured runs
// against eager ones: test_cuda_training.)
TEST(TrainCudaGraph, NeedsTheFusedMarginLossAndAGpu) {
  TempDir dir;
  const Json data = {{"format", "fashion_mnist"}, {"root", dml::test::make_fashion_mnist(dir)}};
  std::vector<std::string> settings = tiny_run(dir.file("graph"));
  settings.push_back("train.cuda_graph=true");
  expect_error([&] { dml::train::run_training(resolve(data, settings)); },
               {"train.cuda_graph: only the margin loss with the distance_weighted miner",
                "loss 'multi_similarity' with miner 'none'", "set train.cuda_graph=false"});
  settings.push_back("loss.name=margin");
  settings.push_back("loss.miner=distance_weighted");
  expect_error([&] { dml::train::run_training(resolve(data, settings)); },
               {"train.cuda_graph: CUDA graphs capture work on a GPU", "cpu"});
}

// ---- Names -------------------------------------------------------------------------------

TEST(RunNames, MergesSplitsAndReadsPartsBack) {
  dml::data::SampleSet train, test;
  train.class_names = {{0, "wren"}};
  train.attribute_names = {"tone", "age"};
  train.attribute_values = {{{0, "dark"}}};  // age: integers, no names
  test.class_names = {{3, "gull"}};
  test.attribute_names = {"tone"};
  test.attribute_values = {{{1, "light"}}};
  const Json names = dml::train::names_json({&train, &test});
  EXPECT_EQ(names.dump(), R"({"classes":{"0":"wren","3":"gull"},)"
                          R"("attributes":{"tone":{"0":"dark","1":"light"},"age":{}}})");
  EXPECT_EQ(dml::train::class_names_of(names, "x"),
            (dml::data::ValueNames{{0, "wren"}, {3, "gull"}}));
  EXPECT_EQ(dml::train::attribute_value_names_of(names, "tone", "x"),
            (dml::data::ValueNames{{0, "dark"}, {1, "light"}}));
  EXPECT_TRUE(dml::train::attribute_value_names_of(names, "pattern", "x").empty());
  EXPECT_TRUE(dml::train::class_names_of(Json::object(), "x").empty());  // no names kept

  TempDir dir;
  EXPECT_EQ(dml::train::read_names_file(dir.file("none.json")), Json::object());
  dml::test::write_text(dir.file("bad.json"), R"({"classes": {"one": "wren"}})");
  const Json bad = dml::train::read_names_file(dir.file("bad.json"));
  expect_error([&] { dml::train::class_names_of(bad, dir.file("bad.json")); },
               {dir.file("bad.json"), "'classes' entry \"one\"", "integer code"});
  dml::test::write_text(dir.file("broken.json"), "{");
  expect_error([&] { dml::train::read_names_file(dir.file("broken.json")); },
               {"names file " + dir.file("broken.json"), "not a JSON object"});
}

// ---- Bad images ------------------------------------------------------------------------

// One truncated image in each split. The files exist, so the reader accepts
// them; decoding fails in the loader.
TEST(BadImages, TruncatedImageEndsTheRunUnlessSkipped) {
  TempDir dir;
  const std::string root = dml::test::make_cub200(dir, {1, 1, 2, 2, 101, 101, 101, 102, 102});
  const std::string bad_train = root + "/images/001.Class1/img_1.jpg";
  const std::string bad_test = root + "/images/101.Class101/img_5.jpg";
  for (const std::string& bad : {bad_train, bad_test}) fs::resize_file(bad, fs::file_size(bad) / 2);
  const Json data = {{"format", "cub200"}, {"root", root}};
  expect_error([&] { dml::train::run_training(resolve(data, tiny_run(dir.file("strict")))); },
               {"image " + bad_train, "truncated"});

  std::vector<std::string> skipping = tiny_run(dir.file("skipping"));
  skipping.push_back("data.skip_bad_images=true");
  const Json metrics = dml::train::run_training(resolve(data, skipping));
  expect_recall_at_1_in_unit_range(metrics);
  const std::vector<Json> lines = read_json_lines(dir.file("skipping/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["skipped_images"], 1);       // in training
  EXPECT_EQ(lines[0]["eval_skipped_images"], 1);  // in the held-out split
}

// ---- The real Fashion-MNIST --------------------------------------------------------------

// A run resumed from its first epoch's checkpoint matches an unbroken one
// exactly (tests/support/e2e_support.h).
TEST_F(FashionMnistTest, ResumedRunMatchesAnUnbrokenOneExactly) {
  TempDir dir;
  const dml::test::RunConfigOf config_of = [](const std::string& output, int epochs) {
    return dml::train::resolve_config(
        Json::object(),
        {"train.epochs=" + std::to_string(epochs), "train.max_steps_per_epoch=3", "eval.limit=300",
         "eval.clustering=false", "train.threads=1", "train.output=" + output},
        "test_train_e2e");
  };
  const std::string straight = dir.file("straight");
  dml::train::run_training(config_of(straight, 2));
  for (const Json& line : read_json_lines(straight + "/metrics.jsonl"))
    expect_recall_at_1_in_unit_range(line);
  dml::test::expect_resume_reproduces(straight, config_of, {}, dir);
}

// ---- The dml binary ----------------------------------------------------------------------

// Runs the built `dml` with `args` (shell words), capturing its output.
ToolResult run_dml(const TempDir& dir, const std::string& args) {
  return dml::test::run_tool(DML_TOOL, dir, args);
}

TEST_F(FashionMnistTest, DmlToolTrainsEvaluatesAndEmbeds) {
  TempDir dir;
  const std::string run = dir.file("run");
  // 16 x 16 crops keep embedding the 5,000 held-out images quick.
  ToolResult r = run_dml(dir,
                         "train --set train.epochs=1 --set train.max_steps_per_epoch=2 "
                         "--set eval.limit=200 --set eval.clustering=false --set augment.resize=16 "
                         "--image-size 16 --embedding-dim 16 --threads 1 --output '" +
                             run + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::vector<Json> lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  expect_recall_at_1_in_unit_range(lines[0]);
  EXPECT_EQ(lines[0]["steps"], 2);
  const Json config = Json::parse(read_text(run + "/config.json"));
  EXPECT_EQ(config["model"]["embedding_dim"], 16);  // the shorthand flags and --set both apply
  EXPECT_EQ(config["augment"]["image_size"], 16);
  EXPECT_EQ(config["augment"]["resize"], 16);

  // dml eval on the checkpoint repeats the run's last evaluation exactly.
  const std::string json = dir.file("eval.json");
  r = run_dml(dir, "eval --checkpoint '" + run + "/checkpoint.safetensors' --json '" + json + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const Json eval = Json::parse(read_text(json));
  EXPECT_EQ(eval["queries"], 200);  // eval.limit
  for (const char* metric : {"recall@1", "recall@8", "map@r"})
    EXPECT_DOUBLE_EQ(eval[metric].get<double>(), lines[0][metric].get<double>()) << metric;

  // dml embed: every image of the held-out classes 5-9 of the 10,000 test
  // images (1,000 each), as rows of 16.
  const std::string prefix = dir.file("test");
  r = run_dml(dir, "embed --checkpoint '" + run + "/model.safetensors' --split test --output '" +
                       prefix + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const dml::Tensor embeddings = dml::read_npy(prefix + ".embeddings.npy");
  const dml::Tensor labels = dml::read_npy(prefix + ".labels.npy");
  EXPECT_EQ(embeddings.dtype(), dml::DType::f32);
  EXPECT_EQ(embeddings.shape(), (dml::Shape{5000, 16}));
  ASSERT_EQ(labels.dtype(), dml::DType::i64);
  ASSERT_EQ(labels.shape(), (dml::Shape{5000}));
  std::map<int64_t, int64_t> per_class;
  for (int64_t i = 0; i < labels.numel(); ++i) ++per_class[labels.data<int64_t>()[i]];
  EXPECT_EQ(per_class,
            (std::map<int64_t, int64_t>{{5, 1000}, {6, 1000}, {7, 1000}, {8, 1000}, {9, 1000}}));
  // Beside the arrays, what their labels mean.
  const Json names = Json::parse(read_text(prefix + ".names.json"));
  EXPECT_EQ(names["classes"].dump(),
            R"({"5":"Sandal","6":"Shirt","7":"Sneaker","8":"Bag","9":"Ankle boot"})");
  // The head L2-normalises every embedding.
  for (int64_t row = 0; row < 5000; ++row) {
    double squares = 0;
    for (int64_t k = 0; k < 16; ++k) squares += std::pow(embeddings.data<float>()[row * 16 + k], 2);
    ASSERT_NEAR(squares, 1.0, 1e-5) << "row " << row;
  }
}

// Losses and miners register themselves from objects no symbol references;
// the binary must link every one of them all the same
// (cmake/RegisteringLibrary.cmake), as this test binary does.
TEST(DmlTool, ListsEveryRegisteredLossAndMiner) {
  TempDir dir;
  const ToolResult r = run_dml(dir, "list");
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> names = dml::losses::loss_names();
  for (const std::string& name : dml::miners::miner_names()) names.push_back(name);
  ASSERT_EQ(names.size(), 22u);  // 16 losses, 6 miners: test_losses and test_miners list them
  for (const std::string& name : names)
    EXPECT_NE(r.out.find("\n  " + name + " "), std::string::npos) << name << " missing from\n"
                                                                  << r.out;
}

TEST(DmlTool, BadInputEndsWithOneErrorLine) {
  TempDir dir;
  expect_one_line_error(run_dml(dir, "train --set model.embeding_dim=8"),
                        "unknown key 'model.embeding_dim'");
  const std::string missing = dir.file("missing.safetensors");
  expect_one_line_error(run_dml(dir, "eval --checkpoint '" + missing + "'"), missing);
  const std::string empty = dir.file("empty");
  fs::create_directories(empty);
  expect_one_line_error(
      run_dml(dir, "train --set data.root='" + empty + "' --output '" + dir.file("run") + "'"),
      empty);
  expect_one_line_error(run_dml(dir, "embed --checkpoint '" + missing +
                                         "' --split test --output '" + dir.file("x") + "'"),
                        missing);
  // No machine has 99 GPUs: the run stops before writing anything.
  expect_one_line_error(run_dml(dir, "train --device cuda:99 --output '" + dir.file("gpu") + "'"),
                        "train.device cuda:99: no such CUDA device");
  EXPECT_FALSE(fs::exists(dir.file("gpu")));
}

}  // namespace
