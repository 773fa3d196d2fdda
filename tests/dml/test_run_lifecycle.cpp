// A run's directory and lifecycle: a run never replaces another run's files
// unless told to (and then only once it has started), never shares its
// directory with a second writer, leaves no empty directory behind when it
// fails before starting, keeps its epoch's checkpoint when the evaluation
// fails, resumes where its checkpoint lies, says what is kept when
// interrupted, and shows its progress with the whole run's ETA.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/run_eta.h"
#include "dml/train/trainer.h"
#include "engine/directory_lock.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/e2e_support.h"
#include "tests/support/test_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using dml::Json;
using dml::test::as_set_flags;
using dml::test::expect_error;
using dml::test::expect_one_line_error;
using dml::test::read_json_lines;
using dml::test::read_text;
using dml::test::TempDir;
using dml::test::ToolResult;
using dml::test::two_epoch_settings;

ToolResult dml_tool(const TempDir& dir, const std::string& args, const std::string& env = "") {
  return dml::test::run_tool(DML_TOOL, dir, args, env);
}

Json config_of(const std::vector<std::string>& settings) {
  return dml::train::resolve_config(Json::object(), settings, "test");
}

std::vector<std::string> with(std::vector<std::string> settings,
                              const std::vector<std::string>& more) {
  settings.insert(settings.end(), more.begin(), more.end());
  return settings;
}

// Every file a finished run leaves, with its bytes.
std::vector<std::string> run_files(const std::string& run) {
  std::vector<std::string> bytes;
  for (const char* name :
       {"config.json", "metrics.jsonl", "checkpoint.safetensors", "model.safetensors"})
    bytes.push_back(read_text(run + "/" + name));
  return bytes;
}

// ---- Another run's directory -----------------------------------------------------------

TEST(RunDirectory, AnotherRunsFilesAreRefusedUnlessOverwrittenAndKeptUntilTheNewRunStarts) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  const std::vector<std::string> one_epoch =
      with(two_epoch_settings(root, run), {"train.epochs=1"});
  dml::train::run_training(config_of(one_epoch));
  const std::vector<std::string> before = run_files(run);

  // Refused, naming the directory and both ways out; nothing touched.
  expect_one_line_error(dml_tool(dir, "train" + as_set_flags(one_epoch)),
                        "train.output " + run + " holds another run (config.json, metrics.jsonl, " +
                            "checkpoint.safetensors, model.safetensors); pass --overwrite to " +
                            "replace it, or --resume " + run +
                            "/checkpoint.safetensors to continue that run");
  EXPECT_EQ(run_files(run), before);

  // --overwrite with a run that fails before it starts (its data missing):
  // the old run stays whole.
  expect_one_line_error(
      dml_tool(dir, "train --overwrite" +
                        as_set_flags(with(one_epoch, {"data.root=" + dir.file("nowhere")}))),
      dir.file("nowhere"));
  EXPECT_EQ(run_files(run), before);

  // --overwrite with a run that starts: the old run's files are replaced.
  const ToolResult r =
      dml_tool(dir, "train --overwrite" + as_set_flags(with(one_epoch, {"train.seed=5"})));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 1u);
  EXPECT_EQ(Json::parse(read_text(run + "/config.json"))["train"]["seed"], 5);
  EXPECT_NE(read_text(run + "/checkpoint.safetensors"), before[2]);
  EXPECT_FALSE(fs::exists(run + "/.lock"));

  // A log alone is another run's too, with nothing to resume; an empty
  // directory is free.
  const std::string log_only = dir.file("log_only"), empty = dir.file("empty");
  fs::create_directories(log_only);
  fs::copy_file(run + "/metrics.jsonl", log_only + "/metrics.jsonl");
  expect_error([&] { dml::train::run_training(config_of(two_epoch_settings(root, log_only))); },
               {"train.output " + log_only + " holds another run (metrics.jsonl)",
                "(it has no checkpoint to resume)"});
  fs::create_directories(empty);
  dml::train::run_training(config_of(with(two_epoch_settings(root, empty), {"train.epochs=1"})));
  EXPECT_TRUE(fs::exists(empty + "/model.safetensors"));
}

TEST(RunDirectory, OutputMustBeANonEmptyDirectory) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  std::vector<std::string> no_output = two_epoch_settings(root, "unused");
  no_output.pop_back();  // train.output
  expect_one_line_error(dml_tool(dir, "train" + as_set_flags(no_output) + " --output ''"),
                        "train.output is empty");
  const std::string file = dir.file("a_file");
  dml::test::write_plain(file, {'x'});
  expect_one_line_error(dml_tool(dir, "train" + as_set_flags(two_epoch_settings(root, file))),
                        "train.output " + file + ": is a file, not a directory");
  EXPECT_EQ(read_text(file), "x");
}

// A run that fails before it starts removes the directories it made, and
// only those.
TEST(RunDirectory, ARunThatFailsBeforeStartingLeavesNoDirectoryBehind) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::vector<std::string> no_data = {"data.root=" + dir.file("nowhere")};
  expect_error(
      [&] {
        dml::train::run_training(
            config_of(with(two_epoch_settings(root, dir.file("new/a/b")), no_data)));
      },
      {dir.file("nowhere")});
  EXPECT_FALSE(fs::exists(dir.file("new")));
  const std::string existing = dir.file("existing");
  fs::create_directories(existing);
  expect_error(
      [&] {
        dml::train::run_training(config_of(with(two_epoch_settings(root, existing), no_data)));
      },
      {dir.file("nowhere")});
  EXPECT_TRUE(fs::is_directory(existing));
  EXPECT_TRUE(fs::is_empty(existing));
}

// ---- One writer at a time ----------------------------------------------------------------

TEST(RunDirectory, ASecondWriterIsRefusedAtOnceAndAKilledRunLocksNothing) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  fs::create_directories(run);
  {
    // This process holds the directory, as a run training there would.
    const dml::DirectoryLock held(run, "test");
    const std::string holder = "another run (pid " + std::to_string(getpid()) + ")";
    expect_one_line_error(
        dml_tool(dir, "train" + as_set_flags(two_epoch_settings(root, run))),
        "train.output " + run + ": " + holder + " is writing into this directory");
    EXPECT_FALSE(fs::exists(run + "/config.json"));
    const std::string experiment = dir.file("experiment");
    fs::create_directories(experiment);
    const dml::DirectoryLock experiment_held(experiment, "test");
    expect_one_line_error(
        dml_tool(dir, "experiment findml --seeds 1 --output '" + experiment + "'"),
        "experiment --output " + experiment + ": " + holder);
  }
  // SIGKILL leaves the lock file, but the kernel dropped its lock.
  const ToolResult killed = dml_tool(dir, "train" + as_set_flags(two_epoch_settings(root, run)),
                                     "DML_TEST_KILL_AT=step@3");
  ASSERT_EQ(killed.killed_by, SIGKILL) << killed.out << killed.err;
  EXPECT_TRUE(fs::exists(run + "/.lock"));
  const ToolResult resumed = dml_tool(dir, "train --resume '" + run + "/checkpoint.safetensors'");
  ASSERT_EQ(resumed.status, 0) << resumed.out << resumed.err;
  EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 2u);
}

// ---- Resume: its checkpoint's config, written where asked ---------------------------------

TEST(Resume, TakesTheCheckpointsConfigAndWritesWhereItIsTold) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  dml::train::run_training(config_of(with(two_epoch_settings(root, run), {"train.epochs=1"})));
  const std::string checkpoint = run + "/checkpoint.safetensors";
  const std::vector<std::string> before = run_files(run);
  const std::string mine = dir.file("mine.json");
  dml::test::write_plain(mine, {'{', '}'});
  expect_one_line_error(
      dml_tool(dir, "train --resume '" + checkpoint + "' --config '" + mine + "'"),
      "a resumed run takes its checkpoint's config; drop --config and give "
      "changes with --set");

  // Elsewhere: the run continues there, its log with it; the original is untouched.
  const std::string elsewhere = dir.file("elsewhere");
  ToolResult r = dml_tool(dir, "train --resume '" + checkpoint +
                                   "' --set train.epochs=2 --set 'train.output=" + elsewhere + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(run_files(run), before);
  const std::vector<Json> lines = read_json_lines(elsewhere + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], read_json_lines(run + "/metrics.jsonl")[0]);
  EXPECT_EQ(Json::parse(read_text(elsewhere + "/config.json"))["train"]["output"], elsewhere);
  // ... under the same rules: elsewhere now holds a run of its own.
  expect_one_line_error(
      dml_tool(dir, "train --resume '" + checkpoint + "' --output '" + elsewhere + "'"),
      "train.output " + elsewhere + " holds another run");

  // A moved run directory resumes where it lies now.
  const std::string moved = dir.file("moved");
  fs::rename(run, moved);
  r = dml_tool(dir, "train --resume '" + moved + "/checkpoint.safetensors' --set train.epochs=2");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(run));
  EXPECT_EQ(read_json_lines(moved + "/metrics.jsonl").size(), 2u);
  EXPECT_EQ(dml::train::load_checkpoint(moved + "/checkpoint.safetensors").epochs_done, 2);
  // Through a symlink to it, the same directory: its own checkpoint, resumed.
  const std::string link = dir.file("link");
  fs::create_directory_symlink(moved, link);
  r = dml_tool(dir, "train --resume '" + link + "/checkpoint.safetensors' --set train.epochs=3");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(read_json_lines(moved + "/metrics.jsonl").size(), 3u);
}

// A copy of the checkpoint is not the directory's own: resuming it there
// overwrites the run, and the log it continues is read before that.
TEST(Resume, ACopyOfTheCheckpointOverwritesItsDirectoryKeepingTheLog) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  dml::train::run_training(config_of(with(two_epoch_settings(root, run), {"train.epochs=1"})));
  const std::string copy = run + "/backup.safetensors";
  fs::copy_file(run + "/checkpoint.safetensors", copy);
  const std::string resume = "train --resume '" + copy + "' --set train.epochs=2";
  expect_one_line_error(dml_tool(dir, resume), "train.output " + run + " holds another run");
  const ToolResult r = dml_tool(dir, resume + " --overwrite");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::vector<Json> lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["epoch"], 1);
  EXPECT_EQ(dml::train::load_checkpoint(run + "/checkpoint.safetensors").epochs_done, 2);
}

// ---- A failed evaluation keeps the epoch -------------------------------------------------

TEST(FailedEvaluation, KeepsTheEpochsCheckpointAndTheResumeEvaluatesItFirst) {
  TempDir dir;
  const std::string root = dml::test::make_cub200(dir, {1, 1, 2, 2, 101, 101, 102, 102});
  const std::string bad = root + "/images/101.Class101/img_5.jpg";
  ASSERT_TRUE(fs::exists(bad));
  const std::string good = read_text(bad);
  fs::resize_file(bad, fs::file_size(bad) / 2);
  const std::string run = dir.file("run");
  std::vector<std::string> settings = dml::test::tiny_run_settings();
  settings.insert(settings.end(), {"data.format=cub200", "data.root=" + root, "train.epochs=2",
                                   "eval.every=1", "eval.clustering=false", "train.output=" + run});
  const std::string checkpoint = run + "/checkpoint.safetensors";
  expect_error([&] { dml::train::run_training(config_of(settings)); },
               {"image " + bad, "the checkpoint of epoch 1 is saved (" + checkpoint + ")",
                "resume with dml train --resume " + checkpoint});
  EXPECT_EQ(dml::train::load_checkpoint(checkpoint).epochs_done, 1);
  std::vector<Json> lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["evaluation"].get<std::string>().rfind("failed: image " + bad, 0), 0u)
      << lines[0].dump();
  EXPECT_FALSE(lines[0].contains("recall@1"));

  dml::test::write_plain(bad, dml::test::Bytes(good.begin(), good.end()));
  const ToolResult r = dml_tool(dir, "train --resume '" + checkpoint + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  lines = read_json_lines(run + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (const Json& line : lines) {
    EXPECT_FALSE(line.contains("evaluation")) << line.dump();
    EXPECT_TRUE(line.contains("recall@1")) << line.dump();
  }
  EXPECT_EQ(lines[0]["steps"], 1);
  EXPECT_EQ(lines[1]["epoch"], 2);
}

// ---- Interrupted -------------------------------------------------------------------------

TEST(Interrupted, SaysWhichCheckpointIsKeptAndEndsByTheSignal) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  const std::string checkpoint = run + "/checkpoint.safetensors";
  // Ctrl-C in the first step of epoch 2.
  ToolResult r = dml_tool(dir, "train" + as_set_flags(two_epoch_settings(root, run)),
                          "DML_TEST_KILL_AT=step@3 DML_TEST_KILL_SIGNAL=" + std::to_string(SIGINT));
  EXPECT_EQ(r.killed_by, SIGINT) << r.out << r.err;
  EXPECT_EQ(r.err, "interrupted: " + checkpoint +
                       " (epoch 1) is kept; resume with: dml train --resume " + checkpoint + "\n");
  r = dml_tool(dir, "train --resume '" + checkpoint + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(read_json_lines(run + "/metrics.jsonl").size(), 2u);

  // SIGTERM before any checkpoint.
  r = dml_tool(dir, "train" + as_set_flags(two_epoch_settings(root, dir.file("early"))),
               "DML_TEST_KILL_AT=step DML_TEST_KILL_SIGNAL=" + std::to_string(SIGTERM));
  EXPECT_EQ(r.killed_by, SIGTERM) << r.out << r.err;
  // (A shell may add a line of its own after it.)
  EXPECT_EQ(r.err.rfind("interrupted: no checkpoint was written yet\n", 0), 0u) << r.err;
}

// A real Ctrl-C from outside, at whatever point the run has reached once its
// first checkpoint exists.
TEST(Interrupted, BySignalFromOutsideAfterTheFirstCheckpoint) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  const std::string checkpoint = run + "/checkpoint.safetensors";
  const std::string command =
      "exec '" + std::string(DML_TOOL) + "' train" +
      as_set_flags(with(two_epoch_settings(root, run), {"train.epochs=100000", "eval.every=0"})) +
      " > '" + dir.file("out") + "' 2> '" + dir.file("err") + "'";
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(checkpoint) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << status << read_text(dir.file("err"));
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  const std::string err = read_text(dir.file("err"));
  EXPECT_EQ(err.rfind("interrupted: " + checkpoint + " (epoch ", 0), 0u) << err;
  EXPECT_NE(err.find(") is kept; resume with: dml train --resume " + checkpoint + "\n"),
            std::string::npos)
      << err;
  // The line names the checkpoint on disk, even when the signal came as it was written.
  const int64_t epochs = dml::train::load_checkpoint(checkpoint).epochs_done;
  EXPECT_NE(err.find("(epoch " + std::to_string(epochs) + ")"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(run + "/model.safetensors"));
}

// ---- Progress ----------------------------------------------------------------------------

// The run's ETA counts every step left at the rate so far, the epoch under
// way included, and the evaluations left once one has been timed.
TEST(RunEta, CountsTheWholeRunAtItsOwnRate) {
  dml::train::RunEta eta(/*steps=*/10, /*evaluations=*/2);
  EXPECT_EQ(eta.seconds_left(), 0);                  // no rate yet
  EXPECT_DOUBLE_EQ(eta.seconds_left(2, 4.0), 16.0);  // 2 s a step, 8 steps left
  eta.steps_done(5, 5.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(), 5.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(1, 2.0), 4 * (7.0 / 6.0));  // 7 s over 6 steps, 4 left
  eta.evaluation_done(3.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(), 5.0 + 3.0);
  eta.steps_done(5, 5.0);
  eta.evaluation_done(1.0);
  EXPECT_DOUBLE_EQ(eta.seconds_left(), 0.0);
}

// In a log (stdout not a terminal), training prints a line every
// train.log_every steps with the epoch's and the run's ETA; eval and embed
// (and every evaluation) a line per quarter of the split, and its last.
TEST(Progress, TrainingShowsTheRunsEtaAndEmbeddingItsOwn) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  const std::string run = dir.file("run");
  ToolResult r = dml_tool(
      dir, "train" + as_set_flags(with(two_epoch_settings(root, run), {"train.log_every=1"})));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  for (const char* line : {"epoch 1/2 [############............] 1/2 ",
                           "epoch 2/2 [########################] 2/2 ", ", run ETA 00:00:"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " missing from\n" << r.out;
  r = dml_tool(dir, "embed --checkpoint '" + run + "/model.safetensors' --split test --output '" +
                        dir.file("embedded") + "'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("embed "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" [########################] 10/10 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" img/s ETA 00:00:00"), std::string::npos) << r.out;
}

}  // namespace
