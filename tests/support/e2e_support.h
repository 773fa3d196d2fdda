#pragma once
// Helpers of the end-to-end tests (test_train_e2e.cpp, test_parade_e2e.cpp):
// reading what a training run leaves behind, checking that a resumed run
// reproduces an unbroken one, running the built `dml` binary, and skipping
// where the real Fashion-MNIST is not installed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/trainer.h"
#include "engine/safetensors.h"
#include "tests/support/test_support.h"

namespace dml::test {

// The settings every tiny run shares: a small ResNet on 8 x 8 crops, one
// epoch of at most two steps of 2 classes x 2 images, recall at 1 and 2 (a
// split of 4 images offers 3 neighbours). One OpenMP thread: on a busy
// machine, idle OpenMP threads spin-waiting between the many tiny parallel
// regions of a tiny model slow a run down tenfold.
inline std::vector<std::string> tiny_run_settings() {
  return {"train.epochs=1",
          "train.max_steps_per_epoch=2",
          "train.batch_size=4",
          "train.m=2",
          "model.backbone=small_resnet10",
          "model.in_channels=3",
          "model.embedding_dim=8",
          "augment.image_size=8",
          "augment.resize=10",
          "augment.mean=[0.5,0.5,0.5]",
          "augment.std=[0.25,0.25,0.25]",
          "train.workers=1",
          "train.threads=1",
          "eval.recall_ks=[1,2]"};
}

// Two epochs of the Fashion-MNIST fixture (make_fashion_mnist) of two steps
// each, without clustering, into `output`.
inline std::vector<std::string> two_epoch_settings(const std::string& root,
                                                   const std::string& output) {
  std::vector<std::string> settings = tiny_run_settings();
  settings.insert(settings.end(),
                  {"train.epochs=2", "eval.clustering=false", "data.format=fashion_mnist",
                   "data.root=" + root, "train.output=" + output});
  return settings;
}

// The settings as the `dml` binary's --set flags.
inline std::string as_set_flags(const std::vector<std::string>& settings) {
  std::string flags;
  for (const std::string& s : settings) flags += " --set '" + s + "'";
  return flags;
}

// metrics.jsonl: one JSON object per line.
inline std::vector<Json> read_json_lines(const std::string& path) {
  std::vector<Json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line));
  return lines;
}

// A metrics line without its timings, which differ between any two runs.
inline Json without_timings(Json line) {
  line.erase("seconds");
  line.erase("images_per_second");
  return line;
}

// Two tensors of one type and shape with the same bytes.
inline bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// Every tensor of two safetensors files, names, types, shapes and bytes.
// (Their metadata, the run's config with its output path, may differ.)
inline void expect_same_tensors(const std::string& a, const std::string& b) {
  const SafetensorsFile fa = read_safetensors(a), fb = read_safetensors(b);
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size()) << a << " vs " << b;
  for (size_t i = 0; i < fa.tensors.size(); ++i) {
    const auto& [name, ta] = fa.tensors[i];
    const auto& [name_b, tb] = fb.tensors[i];
    ASSERT_EQ(name, name_b);
    ASSERT_EQ(ta.dtype(), tb.dtype()) << name;
    ASSERT_EQ(ta.shape(), tb.shape()) << name;
    EXPECT_TRUE(same_bytes(ta, tb)) << name << " differs between " << a << " and " << b;
  }
}

// The config of a run of `epochs` epochs writing into `output`.
using RunConfigOf = std::function<Json(const std::string& output, int epochs)>;

// `unbroken` holds a finished run of config_of(unbroken, 2). A run of
// config_of(.., 1) resumed from its checkpoint for a second epoch must end
// with the same tensors and log the same metrics; resumed again from that
// checkpoint put back in its directory (the run had gone on past it), it must
// replace the log's later lines rather than repeat their epochs. `dir` holds
// the resumed run.
inline void expect_resume_reproduces(const std::string& unbroken, const RunConfigOf& config_of,
                                     const train::ExtensionFactory& extension, const TempDir& dir) {
  const std::vector<Json> unbroken_lines = read_json_lines(unbroken + "/metrics.jsonl");
  ASSERT_EQ(unbroken_lines.size(), 2u);
  const std::string split = dir.file("split");
  train::run_training(config_of(split, 1), {.extension = extension});
  const std::string after_first = dir.file("after_first_epoch.safetensors");
  std::filesystem::copy_file(split + "/checkpoint.safetensors", after_first);
  const std::string checkpoint = split + "/checkpoint.safetensors";
  for (int resume = 1; resume <= 2; ++resume) {
    SCOPED_TRACE("resume " + std::to_string(resume));
    std::filesystem::copy_file(after_first, checkpoint,
                               std::filesystem::copy_options::overwrite_existing);
    // As `dml train --resume`: the checkpoint's config, plus the overrides.
    const Json config = train::resolve_config(train::load_checkpoint(checkpoint).config,
                                              {"train.epochs=2"}, checkpoint);
    train::run_training(config, {.resume = checkpoint, .extension = extension});

    expect_same_tensors(unbroken + "/model.safetensors", split + "/model.safetensors");
    expect_same_tensors(unbroken + "/checkpoint.safetensors", split + "/checkpoint.safetensors");
    const std::vector<Json> resumed = read_json_lines(split + "/metrics.jsonl");
    ASSERT_EQ(resumed.size(), 2u);
    for (size_t epoch = 0; epoch < 2; ++epoch)
      EXPECT_EQ(without_timings(unbroken_lines[epoch]), without_timings(resumed[epoch]))
          << "epoch " << epoch + 1;
  }
}

struct ToolResult {
  int status = -1;  // the exit status; -1 when killed by a signal
  std::string out, err;
  int killed_by = 0;  // the signal that ended it, 0 if none
};

// Runs the executable `tool` with `args` (shell words), capturing its output
// in `dir`; `env` (shell words, "NAME=value ...") is set for it alone. A test
// target passes its DML_TOOL definition (see tests/CMakeLists.txt).
inline ToolResult run_tool(const std::string& tool, const TempDir& dir, const std::string& args,
                           const std::string& env = "") {
  const std::string out = dir.file("tool.stdout"), err = dir.file("tool.stderr");
  const std::string command = env + " '" + tool + "' " + args + " > '" + out + "' 2> '" + err + "'";
  const int raw = std::system(command.c_str());
  ToolResult r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_text(out), read_text(err)};
  if (WIFSIGNALED(raw)) r.killed_by = WTERMSIG(raw);
  // A shell that outlives its command reports a signal as 128 + its number.
  if (WIFEXITED(raw) && r.status > 128) {
    r.killed_by = r.status - 128;
    r.status = -1;
  }
  return r;
}

// A tool that failed with one line on stderr, "dml: error: ...", holding `fragment`.
inline void expect_one_line_error(const ToolResult& r, const std::string& fragment) {
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.err.rfind("dml: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err << " lacks " << fragment;
}

// Debian's package dataset-fashion-mnist.
inline const std::string kFashionMnist = "/usr/share/datasets/fashion-mnist";

inline bool have_fashion_mnist() {
  return std::filesystem::exists(kFashionMnist + "/train-images-idx3-ubyte.gz") &&
         std::filesystem::exists(kFashionMnist + "/t10k-labels-idx1-ubyte.gz");
}

// Tests on the real Fashion-MNIST, skipped where it is not installed.
class FashionMnistTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!have_fashion_mnist())
      GTEST_SKIP() << "Fashion-MNIST is not installed at " << kFashionMnist
                   << " (Debian package dataset-fashion-mnist); this test needs it";
  }
};

}  // namespace dml::test
