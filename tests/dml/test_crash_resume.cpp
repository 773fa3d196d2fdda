// Crashes and bad steps: a `dml train` killed with SIGKILL in the middle of
// an epoch, or in the middle of writing its checkpoint (DML_TEST_KILL_AT,
// engine/kill_point.h), resumes to the same weights, optimizer state and log
// as an unbroken run, and the last good checkpoint survives the crash; a
// checkpoint of another config or a newer format is refused; a non-finite
// loss or gradient ends the run keeping the last good checkpoint, or is
// skipped and counted; an unwritable output directory or a full disk ends
// the run with one line and loses nothing already written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/trainer.h"
#include "engine/atomic_file.h"
#include "engine/ops.h"
#include "engine/safetensors.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/e2e_support.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using dml::Json;
using dml::Tensor;
using dml::test::as_set_flags;
using dml::test::expect_error;
using dml::test::expect_one_line_error;
using dml::test::read_json_lines;
using dml::test::read_text;
using dml::test::TempDir;
using dml::test::ToolResult;
using dml::test::two_epoch_settings;

// `dml train` as a child process; `env` is prepended (e.g. DML_TEST_KILL_AT=step@3).
ToolResult dml(const TempDir& dir, const std::string& args, const std::string& env = "") {
  return dml::test::run_tool(DML_TOOL, dir, args, env);
}

void expect_killed(const ToolResult& r) {
  EXPECT_TRUE(r.killed_by == SIGKILL) << "status " << r.status << ", signal " << r.killed_by << "\n"
                                      << r.out << r.err;
}

// The resumed run in `resumed` ended exactly as the unbroken one in `straight`.
void expect_same_run(const std::string& straight, const std::string& resumed) {
  dml::test::expect_same_tensors(straight + "/model.safetensors", resumed + "/model.safetensors");
  dml::test::expect_same_tensors(straight + "/checkpoint.safetensors",
                                 resumed + "/checkpoint.safetensors");
  const auto a = dml::train::load_checkpoint(straight + "/checkpoint.safetensors");
  const auto b = dml::train::load_checkpoint(resumed + "/checkpoint.safetensors");
  EXPECT_EQ(a.epochs_done, b.epochs_done);
  EXPECT_EQ(a.steps, b.steps);
  ASSERT_TRUE(a.rng && b.rng);
  EXPECT_EQ(a.rng->seed, b.rng->seed);
  EXPECT_EQ(a.rng->offset, b.rng->offset);
  const std::vector<Json> lines_a = read_json_lines(straight + "/metrics.jsonl");
  const std::vector<Json> lines_b = read_json_lines(resumed + "/metrics.jsonl");
  ASSERT_EQ(lines_a.size(), 2u);
  ASSERT_EQ(lines_b.size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(dml::test::without_timings(lines_a[i]), dml::test::without_timings(lines_b[i]))
        << "epoch " << i + 1;
}

// ---- Killed, then resumed ---------------------------------------------------------------

TEST(CrashResume, KilledMidEpochOrMidCheckpointResumesExactly) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string straight = dir.file("straight");
  ToolResult r = dml(dir, "train" + as_set_flags(two_epoch_settings(root, straight)));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  ASSERT_EQ(dml::train::load_checkpoint(straight + "/checkpoint.safetensors").steps, 4);

  {
    SCOPED_TRACE("killed in the first step of epoch 2");
    const std::string run = dir.file("mid_epoch");
    expect_killed(
        dml(dir, "train" + as_set_flags(two_epoch_settings(root, run)), "DML_TEST_KILL_AT=step@3"));
    EXPECT_FALSE(fs::exists(run + "/model.safetensors"));
    EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 1u);
    const auto last_good = dml::train::load_checkpoint(run + "/checkpoint.safetensors");
    EXPECT_EQ(last_good.epochs_done, 1);
    EXPECT_EQ(last_good.steps, 2);
    fs::copy_file(run + "/checkpoint.safetensors", dir.file("mid_epoch_after_epoch_1.safetensors"));
    r = dml(dir, "train --resume '" + run + "/checkpoint.safetensors'");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    expect_same_run(straight, run);
  }
  {
    SCOPED_TRACE("killed while writing the checkpoint of epoch 2");
    // One write() for the length, one for the header, one per tensor: kill
    // halfway through the second checkpoint.
    const int64_t writes =
        2 + int64_t(dml::read_safetensors(straight + "/checkpoint.safetensors").tensors.size());
    const std::string run = dir.file("mid_write");
    const std::string checkpoint = run + "/checkpoint.safetensors";
    expect_killed(dml(
        dir, "train" + as_set_flags(two_epoch_settings(root, run)),
        "DML_TEST_KILL_AT=write:checkpoint.safetensors@" + std::to_string(writes + writes / 2)));
    // A partial temporary file; the checkpoint of epoch 1 is whole.
    ASSERT_TRUE(fs::exists(checkpoint + ".tmp"));
    EXPECT_LT(fs::file_size(checkpoint + ".tmp"), fs::file_size(checkpoint));
    expect_error([&] { dml::read_safetensors(checkpoint + ".tmp"); }, {checkpoint + ".tmp"});
    const auto last_good = dml::train::load_checkpoint(checkpoint);
    EXPECT_EQ(last_good.epochs_done, 1);
    EXPECT_EQ(last_good.steps, 2);
    dml::test::expect_same_tensors(dir.file("mid_epoch_after_epoch_1.safetensors"), checkpoint);
    // Epoch 2 was logged before the crash; the resumed run logs it again, once.
    EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 2u);
    r = dml(dir, "train --resume '" + checkpoint + "'");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    expect_same_run(straight, run);
    EXPECT_FALSE(fs::exists(checkpoint + ".tmp"));
  }
}

TEST(CrashResume, RefusesACheckpointOfAnotherConfigOrANewerFormat) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  std::vector<std::string> settings = two_epoch_settings(root, run);
  settings.push_back("train.epochs=1");
  dml::train::run_training(dml::train::resolve_config(Json::object(), settings, "test"));
  const std::string checkpoint = run + "/checkpoint.safetensors";

  expect_one_line_error(
      dml(dir, "train --resume '" + checkpoint + "' --set model.embedding_dim=16"),
      "the checkpoint's run has model.embedding_dim = 8, this run 16");
  expect_one_line_error(dml(dir, "train --resume '" + checkpoint + "' --set train.seed=7"),
                        "train.seed = 0, this run 7");
  // In-process, with a config that was never resolved from the checkpoint.
  settings.push_back("loss.name=contrastive");
  expect_error(
      [&] {
        dml::train::run_training(dml::train::resolve_config(Json::object(), settings, "test"),
                                 {.resume = checkpoint});
      },
      {"--resume " + checkpoint, "loss.name = \"multi_similarity\", this run \"contrastive\""});

  dml::SafetensorsFile file = dml::read_safetensors(checkpoint);
  const std::string newer = dir.file("newer.safetensors");
  file.metadata["format"] = "dml-checkpoint-99";
  dml::write_safetensors(newer, file.tensors, file.metadata);
  expect_one_line_error(dml(dir, "train --resume '" + newer + "'"),
                        "format 'dml-checkpoint-99' is newer than this build reads");
  file.metadata["format"] = "dml-checkpoint-x";
  dml::write_safetensors(newer, file.tensors, file.metadata);
  expect_one_line_error(dml(dir, "train --resume '" + newer + "'"),
                        "not a checkpoint or model written by dml train");

  // What may change: the epochs (and where it writes).
  const ToolResult r = dml(dir, "train --resume '" + checkpoint + "' --set train.epochs=2");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 2u);
}

// ---- Non-finite steps --------------------------------------------------------------------

// A training extension that adds nothing, except at the given steps (counted
// from 1 in this process) a term whose value (bad loss) or gradient is NaN.
class NonFiniteAt : public dml::train::TrainingExtension {
 public:
  NonFiniteAt(std::vector<int> steps, bool bad_loss)
      : steps_(std::move(steps)), bad_loss_(bad_loss) {}
  std::string describe() const override { return "non-finite steps for tests"; }
  std::vector<dml::ParamGroup> parameter_groups() override { return {}; }
  void train(bool) override {}
  Tensor loss(const Tensor&, const Tensor& embedding, const dml::data::Batch&,
              const dml::train::RowGather&) override {
    const bool bad = std::count(steps_.begin(), steps_.end(), ++step_) > 0;
    const Tensor zero = dml::sum(dml::mul(embedding, 0.0));  // 0, with a zero gradient
    if (!bad) return zero;
    // sqrt'(0) = inf, times the zero gradient: NaN, while the value stays 0.
    return bad_loss_ ? dml::add(zero, std::numeric_limits<double>::quiet_NaN()) : dml::sqrt(zero);
  }
  dml::NamedTensors state_dict() const override { return {}; }
  void load_state_dict(const dml::NamedTensors&) override {}
  Json evaluate(const dml::train::Embedded&, const dml::eval::RetrievalReport&) override {
    return Json::object();
  }

 private:
  std::vector<int> steps_;
  bool bad_loss_;
  int step_ = 0;
};

dml::train::ExtensionFactory non_finite_at(std::vector<int> steps, bool bad_loss) {
  return [=](const Json&, const dml::data::SampleSet&, dml::nn::EmbeddingNet&) {
    return std::make_unique<NonFiniteAt>(steps, bad_loss);
  };
}

bool all_finite(const std::string& safetensors) {
  for (const auto& [name, t] : dml::read_safetensors(safetensors).tensors)
    if (t.dtype() == dml::DType::f32)
      for (float v : t.to_vector<float>())
        if (!std::isfinite(v)) return false;
  return true;
}

TEST(NonFiniteSteps, EndTheRunNamingEpochAndStepAndKeepTheLastGoodCheckpoint) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  for (const bool bad_loss : {true, false}) {
    SCOPED_TRACE(bad_loss ? "loss" : "gradient");
    const std::string run = dir.file(bad_loss ? "loss" : "gradient");
    const Json config =
        dml::train::resolve_config(Json::object(), two_epoch_settings(root, run), "test");
    expect_error(
        [&] { dml::train::run_training(config, {.extension = non_finite_at({3}, bad_loss)}); },
        {std::string("non-finite ") + (bad_loss ? "loss" : "gradient"), "at epoch 2, step 3",
         "the last good checkpoint " + run + "/checkpoint.safetensors (epoch 1) is kept",
         "train.skip_nonfinite_steps=true"});
    const auto checkpoint = dml::train::load_checkpoint(run + "/checkpoint.safetensors");
    EXPECT_EQ(checkpoint.epochs_done, 1);
    EXPECT_EQ(checkpoint.steps, 2);
    EXPECT_TRUE(all_finite(run + "/checkpoint.safetensors"));
    EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 1u);
  }
}

TEST(NonFiniteSteps, AreSkippedAndCountedWhenAsked) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  std::vector<std::string> settings = two_epoch_settings(root, run);
  settings.push_back("train.skip_nonfinite_steps=true");
  const Json config = dml::train::resolve_config(Json::object(), settings, "test");
  // A run with a bad loss in epoch 1; a run with two bad gradients in epoch 2.
  dml::train::run_training(config, {.extension = non_finite_at({2}, true)});
  std::vector<Json> lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["skipped_steps"], 1);
  EXPECT_EQ(lines[1]["skipped_steps"], 0);
  EXPECT_EQ(lines[1]["steps"], 4);  // skipped steps still consume their batch
  EXPECT_TRUE(all_finite(run + "/model.safetensors"));

  dml::train::run_training(config, {.overwrite = true, .extension = non_finite_at({3, 4}, false)});
  lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["skipped_steps"], 0);
  EXPECT_EQ(lines[1]["skipped_steps"], 2);
  EXPECT_TRUE(all_finite(run + "/model.safetensors"));
  EXPECT_TRUE(all_finite(run + "/checkpoint.safetensors"));
}

// ---- Unwritable output, full disk --------------------------------------------------------

TEST(OutputErrors, UnwritableOutputDirectoryEndsWithOneLine) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  // A regular file where a directory should be: unwritable even for root.
  const std::string file = dir.file("a_file");
  dml::write_file_atomically(file, "x");
  expect_one_line_error(dml(dir, "train" + as_set_flags(two_epoch_settings(root, file + "/run"))),
                        "train.output " + file + "/run: cannot create the output directory");
  if (geteuid() != 0) {  // permissions bind only other users
    const std::string locked = dir.file("locked");
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    // Found before any data is read: the run cannot even lock the directory.
    expect_one_line_error(dml(dir, "train" + as_set_flags(two_epoch_settings(root, locked))),
                          "train.output " + locked + ": cannot create the lock file " + locked +
                              "/.lock: Permission denied");
    fs::permissions(locked, fs::perms::owner_all);
  }
}

// /dev/full fails every write with ENOSPC: a temporary file linked to it is a
// full disk for the one file that writes there.
TEST(OutputErrors, FullDiskLosesNothingAlreadyWritten) {
  TempDir dir;
  const std::string path = dir.file("kept.txt");
  dml::write_file_atomically(path, "old contents\n");
  fs::create_symlink("/dev/full", path + ".tmp");
  expect_error([&] { dml::write_file_atomically(path, std::string(1 << 16, 'x')); },
               {path, "No space left on device"});
  EXPECT_EQ(read_text(path), "old contents\n");

  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  std::vector<std::string> settings = two_epoch_settings(root, run);
  settings.push_back("train.epochs=1");
  dml::train::run_training(dml::train::resolve_config(Json::object(), settings, "test"));
  const std::string checkpoint = run + "/checkpoint.safetensors";
  const std::string before = read_text(checkpoint), log_before = read_text(run + "/metrics.jsonl");
  // The disk fills up as epoch 2 checkpoints, then again as it logs.
  for (const std::string& target : {checkpoint, run + "/metrics.jsonl"}) {
    SCOPED_TRACE(target);
    fs::create_symlink("/dev/full", target + ".tmp");
    expect_one_line_error(dml(dir, "train --resume '" + checkpoint + "' --set train.epochs=2"),
                          target + ": write to " + target + ".tmp failed: No space left on device");
    fs::remove(target + ".tmp");
    EXPECT_EQ(read_text(checkpoint), before);
    EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").at(0), Json::parse(log_before));
  }
  // With space again, the run completes.
  const ToolResult r = dml(dir, "train --resume '" + checkpoint + "' --set train.epochs=2");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 2u);
}

}  // namespace
