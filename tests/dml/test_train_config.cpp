// Run configs: defaults, overlays, overrides, the errors a typo gets, an
// extension's section, and the bundled standard-protocol configs (all of
// configs/ resolve in test_parade, which links PARADE's section).
#include <gtest/gtest.h>

#include <chrono>

#include "dml/train/config.h"
#include "dml/train/config_section.h"
#include "dml/train/json_text.h"
#include "tests/support/test_support.h"

namespace dml::train {
namespace {

using test::expect_error;

TEST(TrainConfig, DefaultsAreTheFashionMnistRun) {
  TrainConfig c = typed_config(resolve_config(Json::object(), {}, "test"));
  EXPECT_EQ(c.data.format, "fashion_mnist");
  EXPECT_EQ(c.data.train_classes, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(c.data.test_classes, (std::vector<int64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(c.model.in_channels, 1);
  EXPECT_EQ(c.run.recall_ks, (std::vector<int64_t>{1, 2, 4, 8}));
}

TEST(TrainConfig, FileValuesThenOverridesWin) {
  Json user = Json::parse(R"({"optimizer": {"lr": 0.5}, "loss": {"params": {"margin": 0.3}}})");
  Json c = resolve_config(user,
                          {"optimizer.lr=0.25", "model.backbone=resnet18", "model.frozen_bn=true",
                           "eval.recall_ks=[1,10]"},
                          "test");
  TrainConfig t = typed_config(c);
  EXPECT_EQ(t.optimizer.lr, 0.25);
  EXPECT_EQ(t.model.backbone, "resnet18");
  EXPECT_TRUE(t.model.frozen_bn);
  EXPECT_EQ(t.run.recall_ks, (std::vector<int64_t>{1, 10}));
  EXPECT_EQ(t.loss.params.at("margin"), 0.3);
  EXPECT_EQ(t.optimizer.weight_decay, 0.0004);  // untouched default
}

// Batch norm trains on the global batch's statistics unless told otherwise.
TEST(TrainConfig, SyncBatchNormIsOnByDefault) {
  EXPECT_TRUE(typed_config(resolve_config(Json::object(), {}, "test")).distributed.sync_batch_norm);
  EXPECT_FALSE(
      typed_config(resolve_config(Json::object(), {"distributed.sync_batch_norm=false"}, "test"))
          .distributed.sync_batch_norm);
}

TEST(TrainConfig, TyposAndWrongTypesAreErrorsNamingTheKey) {
  expect_error([] { resolve_config(Json::parse(R"({"optimiser": {}})"), {}, "run.json"); },
               {"run.json", "unknown key 'optimiser'", "optimizer"});
  expect_error([] { resolve_config(Json::object(), {"optimizer.lr=fast"}, "x"); },
               {"optimizer.lr=fast", "'optimizer.lr' must be a number", "\"fast\""});
  expect_error([] { resolve_config(Json::object(), {"train.epochs=1.5"}, "x"); },
               {"'train.epochs' must be a number"});
  expect_error([] { resolve_config(Json::object(), {"lr"}, "x"); }, {"section.key=value"});
  expect_error([] { typed_config(resolve_config(Json::object(), {"model.pool=mean"}, "x")); },
               {"model.pool", "'mean'", "avg, max, avg+max"});
  expect_error([] { typed_config(resolve_config(Json::object(), {"model.in_channels=3"}, "x")); },
               {"augment.mean", "one value per input channel"});
  expect_error([] { read_config_file("/nonexistent/run.json"); }, {"/nonexistent/run.json"});
}

TEST(TrainConfig, TrainDeviceIsParsed) {
  EXPECT_EQ(typed_config(resolve_config(Json::object(), {}, "x")).run.device, Device::cpu());
  EXPECT_EQ(typed_config(resolve_config(Json::object(), {"train.device=cuda:1"}, "x")).run.device,
            Device::cuda(1));
  expect_error([] { typed_config(resolve_config(Json::object(), {"train.device=gpu"}, "x")); },
               {"device 'gpu'", "cpu, cuda or cuda:N"});
}

TEST(TrainConfig, TrainPrecisionIsParsed) {
  using dml::train::Precision;
  EXPECT_EQ(typed_config(resolve_config(Json::object(), {}, "x")).run.precision, Precision::f32);
  for (Precision p : {Precision::f32, Precision::tf32, Precision::bf16}) {
    const std::string set = std::string("train.precision=") + dml::train::precision_name(p);
    EXPECT_EQ(typed_config(resolve_config(Json::object(), {set}, "x")).run.precision, p);
  }
  expect_error([] { typed_config(resolve_config(Json::object(), {"train.precision=fp16"}, "x")); },
               {"train.precision: 'fp16' is not one of f32, tf32, bf16"});
}

TEST(TrainConfig, CudaGraphIsOffUnlessSet) {
  EXPECT_FALSE(typed_config(resolve_config(Json::object(), {}, "x")).run.cuda_graph);
  EXPECT_TRUE(
      typed_config(resolve_config(Json::object(), {"train.cuda_graph=true"}, "x")).run.cuda_graph);
  expect_error([] { typed_config(resolve_config(Json::object(), {"train.cuda_graph=1"}, "x")); },
               {"train.cuda_graph"});
}

// A section as an extension registers it (config_section.h): its keys
// join every resolved config, before eval, with the trainer's errors.
[[maybe_unused]] const bool registered = config_sections().add({
    .name = "demo",
    .defaults = Json::parse(R"({"weight": 1.0, "named": {}})"),
    .named_settings = {{.key = "named", .example = R"({"weight": 2})"}},
    .docs = {{"weight", "How much the demo counts"}, {"named", "Settings per name"}},
});

TEST(TrainConfig, ExtensionSectionsJoinTheConfig) {
  const Json c = resolve_config(Json::parse(R"({"demo": {"named": {"a": {"weight": 3}}}})"),
                                {"demo.weight=0.5", "demo.named.a.bias=1", "demo.named.b.weight=2"},
                                "run.json");
  std::vector<std::string> sections;
  for (const auto& [key, value] : c.items()) sections.push_back(key);
  EXPECT_EQ(sections, (std::vector<std::string>{"data", "model", "loss", "optimizer", "augment",
                                                "train", "distributed", "demo", "eval"}));
  EXPECT_EQ(c["demo"], Json::parse(R"({"weight": 0.5,
                                       "named": {"a": {"weight": 3, "bias": 1}, "b": {"weight": 2}}})"));
  expect_error([] { resolve_config(Json::object(), {"demo.wieght=1"}, "x"); },
               {"unknown key 'demo.wieght'", "weight, named"});
  expect_error([] { resolve_config(Json::object(), {"demo.weight=heavy"}, "x"); },
               {"'demo.weight' must be a number"});
  expect_error([] { resolve_config(Json::object(), {"demo.named.a=1"}, "x"); },
               {"'demo.named.a' must be an object of settings, e.g. {\"weight\": 2}, got 1"});
  expect_error([] { resolve_config(Json::object(), {"loss.params.margin=wide"}, "x"); },
               {"'loss.params.margin' must be a number", "\"wide\""});
}

TEST(TrainConfig, StandardProtocolConfigsSayWhatThePaperSays) {
  for (const char* name : {"cub200", "cars196", "sop"}) {
    const std::string path = std::string(DML_SOURCE_DIR "/configs/") + name + ".json";
    TrainConfig t = typed_config(resolve_config(read_config_file(path), {}, path));
    EXPECT_EQ(t.model.backbone, "resnet50");
    EXPECT_EQ(t.model.embedding_dim, 128);
    EXPECT_TRUE(t.model.frozen_bn);
    EXPECT_EQ(t.run.batch_size, 112);
    EXPECT_EQ(t.run.m, 2);
    EXPECT_EQ(t.optimizer.name, "adam");
    EXPECT_EQ(t.optimizer.lr, 1e-5);
    EXPECT_EQ(t.optimizer.weight_decay, 4e-4);
    EXPECT_EQ(t.augment.image_size, 224);
    EXPECT_TRUE(t.augment.random_resized_crop);
    EXPECT_TRUE(t.augment.horizontal_flip);
  }
}

// Config files: syntax errors name file, line and column; a key given twice
// in one object, at any depth, is an error naming its path and both lines
// (a plain parse kept the last value without a word).
TEST(ConfigFiles, SyntaxErrorsNameLineAndColumn) {
  expect_error([] { parse_json_text("{\n  \"a\": 1,\n  \"b\": tru\n}", "f.json"); },
               {"f.json:3:", "syntax error while parsing value", "invalid literal"});
  expect_error([] { parse_json_text("{\"a\": [1, 2}", "g.json"); },
               {"g.json:1:12: ", "expected ']'"});
  expect_error([] { parse_json_text("", "empty.json"); },
               {"empty.json:1:1: ", "unexpected end of input"});
}

TEST(ConfigFiles, DuplicateKeysAtAnyDepthNameThePathAndBothLines) {
  expect_error([] { parse_json_text("{\"train\": {},\n\"train\": {}}", "f.json"); },
               {"f.json:2:1: duplicate key 'train' (first at line 1)"});
  expect_error(
      [] {
        parse_json_text("{\"loss\": {\"params\": {\n  \"margin\": 0.1,\n  \"margin\": 0.2}}}",
                        "f.json");
      },
      {"f.json:3:3: duplicate key 'loss.params.margin' (first at line 2)"});
  expect_error([] { parse_json_text(R"({"a": [{"x": 1}, {"x": 1, "x": 2}]})", "f.json"); },
               {"duplicate key 'a[1].x'"});
  // One key per object: the same name in sibling objects is no repeat.
  EXPECT_EQ(parse_json_text(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 3}, {"x": 4}]})", "f"),
            Json::parse(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 3}, {"x": 4}]})"));
}

TEST(ConfigFiles, OverrideObjectsRefuseRepeatedKeysToo) {
  expect_error(
      [] {
        resolve_config(Json::object(), {R"(loss.params={"margin": 0.1, "margin": 0.2})"}, "x");
      },
      {"duplicate key 'margin'"});
}

TEST(ConfigFiles, ParseStaysLinearInTheTextSize) {
  // 100,000 objects on 300,000 lines (about 5 MB): a scan from the start of
  // the text for each key's line, or of all earlier keys for repeats, would
  // take minutes. (One object may not hold that many keys: the ordered
  // Json's objects look keys up one by one.)
  std::string text = "[";
  for (int i = 0; i < 100000; ++i)
    text += std::string(i ? "," : "") + "\n{\"name\": \"n" + std::to_string(i) +
            "\",\n \"value\": " + std::to_string(i) + ",\n \"tags\": [1, 2]}";
  text += "]";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(parse_json_text(text, "big.json").size(), 100000u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ConfigFiles, AnObjectOfTooManyKeysIsRefused) {
  std::string text = "{";
  for (int i = 0; i <= 1000; ++i) text += (i ? ",\n\"k" : "\"k") + std::to_string(i) + "\": 1";
  text += "}";
  expect_error([&] { parse_json_text(text, "wide.json"); },
               {"wide.json:1001:1: an object holds more than 1000 keys"});
}

}  // namespace
}  // namespace dml::train
