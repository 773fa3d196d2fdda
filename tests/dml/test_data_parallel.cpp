// Data-parallel `dml train` on 2 ranks (mpirun) against one process: the
// same config trains the same weights (within the rounding of summing the
// gradients in another order) for a tuple loss with a miner, a proxy loss
// and PARADE; the cross-batch memory holds the same queue; `dml eval`
// reports the same metrics; a killed rank ends the job, naming it, and the
// run resumes on 2 ranks or on 1; a hung rank makes the other's collective
// time out. Most parity runs freeze batch norm (model.frozen_bn); those
// that train it show that synchronised batch norm (on by default) trains as
// one process does, and that per-rank statistics do not.
//
// Skipped in a build without MPI (DML_MPIEXEC undefined).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/trainer.h"
#include "engine/safetensors.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/e2e_support.h"
#include "tests/support/test_support.h"

namespace {

using dml::Json;
using dml::test::as_set_flags;
using dml::test::TempDir;
using dml::test::ToolResult;

// The largest difference the parity runs may show, relative to the
// tensor's largest magnitude: one process embeds and sums gradients over
// the whole batch, two ranks over halves and then the two sums, and the
// losses' steep terms (multi-similarity's exp(50 s)) magnify that rounding.
// The 3 to 4 steps of these runs leave gaps of 3e-6 to 1e-5 (each test
// prints its largest); gradients not scaled by 1 / ranks show a gap of 1
// (in the optimizer's moments, which are compared too).
constexpr double kParityBound = 1e-4;

class DataParallel : public testing::Test {
 protected:
  void SetUp() override {
#ifndef DML_MPIEXEC
    GTEST_SKIP() << "this build has no MPI (configure with MPI found, DML_MPI=ON)";
#endif
  }

  // `dml <args>` in one process.
  ToolResult one(const std::string& args, const std::string& env = "") const {
    return dml::test::run_tool(DML_TOOL, dir_, args, env);
  }

  // `dml <args>` on `n` ranks.
  ToolResult ranks(int n, const std::string& args) const {
    return mpirun("-n " + std::to_string(n) + " '" DML_TOOL "' " + args);
  }

  // mpirun with its own command line: "-n 1 <dml ...> : -n 1 <dml ...>"
  // where ranks differ in their environment or arguments.
  ToolResult mpirun(const std::string& line) const {
#ifdef DML_MPIEXEC
    return dml::test::run_tool(DML_MPIEXEC, dir_, "--oversubscribe --bind-to none " + line,
                               "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1");
#else
    (void)line;
    return {};
#endif
  }

  TempDir dir_;
};

// Each f32 tensor's largest difference between `a` and `b`, relative to
// its largest magnitude in `a`, by name (names and shapes the same).
std::vector<std::pair<std::string, double>> relative_gaps(const std::string& a,
                                                          const std::string& b) {
  const dml::SafetensorsFile fa = dml::read_safetensors(a), fb = dml::read_safetensors(b);
  EXPECT_EQ(fa.tensors.size(), fb.tensors.size());
  std::vector<std::pair<std::string, double>> gaps;
  for (size_t i = 0; i < std::min(fa.tensors.size(), fb.tensors.size()); ++i) {
    const auto& [name, ta] = fa.tensors[i];
    const auto& [name_b, tb] = fb.tensors[i];
    EXPECT_EQ(name, name_b);
    EXPECT_EQ(ta.shape(), tb.shape()) << name;
    if (ta.shape() != tb.shape() || ta.dtype() != dml::DType::f32) continue;
    const std::vector<float> va = ta.to_vector<float>(), vb = tb.to_vector<float>();
    double scale = 0, gap = 0;
    for (size_t k = 0; k < va.size(); ++k) {
      scale = std::max(scale, double(std::abs(va[k])));
      gap = std::max(gap, double(std::abs(va[k] - vb[k])));
    }
    gaps.emplace_back(name, gap / std::max(scale, 1e-3));
  }
  return gaps;
}

double largest_gap(const std::string& a, const std::string& b) {
  double worst = 0;
  for (const auto& [name, gap] : relative_gaps(a, b)) worst = std::max(worst, gap);
  return worst;
}

// Every tensor of `b` within kParityBound of `a`'s (names and shapes the
// same); returns the largest relative gap seen.
double expect_close_tensors(const std::string& a, const std::string& b) {
  double worst = 0;
  for (const auto& [name, gap] : relative_gaps(a, b)) {
    EXPECT_LE(gap, kParityBound) << name << ": " << a << " vs " << b;
    worst = std::max(worst, gap);
  }
  return worst;
}

// A few steps of the Fashion-MNIST fixture: 2 epochs of 2 steps of 4 images
// (2 on each of 2 ranks), batch norm frozen.
std::vector<std::string> parity_settings(const std::string& root, const std::string& output) {
  std::vector<std::string> s = dml::test::two_epoch_settings(root, output);
  s.push_back("model.frozen_bn=true");
  // Small steps: each step's rounding gap grows through the next (tenfold
  // a step at the default 1e-3), and the bound is about the rounding.
  s.push_back("optimizer.lr=0.0001");
  return s;
}

// The same settings in one process and on 2 ranks end with the same
// weights, optimizer state and loss parameters.
void expect_parity(const ToolResult& one, const ToolResult& two, const std::string& a,
                   const std::string& b) {
  ASSERT_EQ(one.status, 0) << one.out << one.err;
  ASSERT_EQ(two.status, 0) << two.out << two.err;
  const double gap =
      expect_close_tensors(a + "/checkpoint.safetensors", b + "/checkpoint.safetensors");
  std::printf("largest relative gap, 1 process vs 2 ranks: %.3g\n", gap);
  const auto ca = dml::train::load_checkpoint(a + "/checkpoint.safetensors");
  const auto cb = dml::train::load_checkpoint(b + "/checkpoint.safetensors");
  EXPECT_EQ(ca.steps, cb.steps);
  EXPECT_EQ(ca.world_size, 1);
  EXPECT_EQ(cb.world_size, 2);
  EXPECT_EQ(cb.global_batch_size, 4);
}

TEST_F(DataParallel, TupleLossWithAMinerTrainsAsOneProcess) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("one"));
  settings.push_back("loss.miner=multi_similarity");
  const ToolResult a = one("train" + as_set_flags(settings));
  settings.push_back("train.output=" + dir_.file("two"));
  const ToolResult b = ranks(2, "train" + as_set_flags(settings));
  expect_parity(a, b, dir_.file("one"), dir_.file("two"));
  // Rank 0 alone prints the run.
  EXPECT_EQ(b.out.find("wrote "), b.out.rfind("wrote ")) << b.out;
  EXPECT_NE(b.out.find("2 ranks (mpi): each batch of 4 in shares of 2 images, global objective, "
                       "batch norm frozen, 1 OpenMP thread(s) per rank"),
            std::string::npos)
      << b.out;
}

// Batch norm in training: its statistics summed over the ranks
// (distributed.sync_batch_norm, the default), 2 ranks train one process's
// weights, running statistics and gradients (SGD's momentum holds them);
// each rank's own statistics, they do not. One epoch of 2 steps with SGD:
// batch norm on 4 images of 1 x 1 pixels magnifies rounding by mean / std,
// and Adam moves a parameter whose gradient is about 0 by a whole step of
// either sign, so a rounding gap there reads as a gap of one step.
TEST_F(DataParallel, BatchNormInTrainingTrainsAsOneProcess) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("one"));
  for (const char* s : {"model.frozen_bn=false", "loss.miner=multi_similarity", "train.epochs=1",
                        "optimizer.name=sgd", "optimizer.momentum=0.9"})
    settings.push_back(s);
  const ToolResult a = one("train" + as_set_flags(settings));
  settings.push_back("train.output=" + dir_.file("two"));
  const ToolResult b = ranks(2, "train" + as_set_flags(settings));
  expect_parity(a, b, dir_.file("one"), dir_.file("two"));

  settings.push_back("train.output=" + dir_.file("apart"));
  settings.push_back("distributed.sync_batch_norm=false");
  const ToolResult c = ranks(2, "train" + as_set_flags(settings));
  ASSERT_EQ(c.status, 0) << c.out << c.err;
  EXPECT_GT(largest_gap(dir_.file("one") + "/checkpoint.safetensors",
                        dir_.file("apart") + "/checkpoint.safetensors"),
            100 * kParityBound);
}

// With train.threads 0 the ranks of a machine share its cores.
TEST_F(DataParallel, RanksShareTheMachinesCores) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("run"));
  settings.push_back("train.threads=0");
  settings.push_back("train.epochs=1");
  const ToolResult r = ranks(2, "train" + as_set_flags(settings));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const int each = std::max(1, int(std::thread::hardware_concurrency()) / 2);
  EXPECT_NE(r.out.find(", " + std::to_string(each) + " OpenMP thread(s) per rank"),
            std::string::npos)
      << r.out;
}

// What a captured step cannot hold is refused before any data is read.
TEST_F(DataParallel, CudaGraphIsRefusedOnSeveralRanks) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("run"));
  settings.push_back("train.cuda_graph=true");
  const ToolResult r = ranks(2, "train" + as_set_flags(settings));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("train.cuda_graph: a captured step cannot hold the collectives of 2 ranks"),
            std::string::npos)
      << r.err;
}

TEST_F(DataParallel, CommandsOfOneProcessRefuseSeveralRanks) {
  const ToolResult r =
      ranks(2, "embed --checkpoint missing.safetensors --split test --output " + dir_.file("e"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("dml embed runs in one process, but this is one of 2 ranks: start it "
                       "without mpirun or srun"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("e.embeddings.npy")));
}

TEST_F(DataParallel, ProxyLossTrainsAsOneProcess) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("one"));
  settings.push_back("loss.name=proxy_anchor");
  const ToolResult a = one("train" + as_set_flags(settings));
  settings.push_back("train.output=" + dir_.file("two"));
  const ToolResult b = ranks(2, "train" + as_set_flags(settings));
  expect_parity(a, b, dir_.file("one"), dir_.file("two"));
}

TEST_F(DataParallel, ParadeTrainsAsOneProcess) {
  const std::string manifest = dml::test::make_csv_manifest(dir_);
  std::vector<std::string> settings = dml::test::tiny_run_settings();
  for (const std::string& s : std::vector<std::string>{
           "data.format=csv", "data.root=" + manifest, "data.attributes=[\"tone\"]",
           "parade.attributes=[\"tone\"]", "parade.embedding_dim=8", "parade.projector_hidden=16",
           "eval.clustering=false", "train.epochs=3", "model.frozen_bn=true", "optimizer.lr=0.0001",
           "train.output=" + dir_.file("one")})
    settings.push_back(s);
  const ToolResult a = one("train" + as_set_flags(settings));
  settings.push_back("train.output=" + dir_.file("two"));
  const ToolResult b = ranks(2, "train" + as_set_flags(settings));
  expect_parity(a, b, dir_.file("one"), dir_.file("two"));
}

// The memory's queue on 2 ranks is one process's (rank 0's checkpoint; the
// run checks at each checkpoint that every rank holds the same queue), and
// a one-process run with a memory resumes exactly.
TEST_F(DataParallel, CrossBatchMemoryIsTheSameOnEveryRankAndResumes) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("one"));
  for (const char* s : {"loss.xbm_size=6", "loss.xbm_start_step=1", "loss.miner=multi_similarity"})
    settings.push_back(s);
  const ToolResult a = one("train" + as_set_flags(settings));
  std::vector<std::string> two = settings;
  two.push_back("train.output=" + dir_.file("two"));
  const ToolResult b = ranks(2, "train" + as_set_flags(two));
  expect_parity(a, b, dir_.file("one"), dir_.file("two"));
  const auto ck = dml::train::load_checkpoint(dir_.file("one") + "/checkpoint.safetensors");
  ASSERT_EQ(ck.memory.size(), 2u);
  EXPECT_EQ(ck.memory[0].first, "xbm.embeddings");
  EXPECT_EQ(ck.memory[0].second.size(0), 6);  // 4 steps of 4 rows, the last 6 kept

  // Killed in epoch 2, resumed: the same tensors, memory included.
  std::vector<std::string> killed = settings;
  killed.push_back("train.output=" + dir_.file("killed"));
  const ToolResult k = one("train" + as_set_flags(killed), "DML_TEST_KILL_AT=step@3");
  EXPECT_NE(k.status, 0);
  const ToolResult r = one("train --resume '" + dir_.file("killed") + "/checkpoint.safetensors'");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  dml::test::expect_same_tensors(dir_.file("one") + "/checkpoint.safetensors",
                                 dir_.file("killed") + "/checkpoint.safetensors");
}

// Rank 1 killed in epoch 2: the job ends soon, naming rank 1; epoch 1's
// checkpoint is whole, and the run resumes on 2 ranks to the weights of an
// unbroken run, and on 1 rank (global objective) within rounding.
TEST_F(DataParallel, AKilledRankEndsTheJobAndTheRunResumes) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  const std::vector<std::string> straight = parity_settings(root, dir_.file("straight"));
  ASSERT_EQ(ranks(2, "train" + as_set_flags(straight)).status, 0);

  const std::string run = dir_.file("killed");
  const std::string args = "'" DML_TOOL "' train" + as_set_flags(parity_settings(root, run));
  const auto start = std::chrono::steady_clock::now();
  // mpirun left to carry on, so rank 0's own watch must end the job (mpirun
  // would otherwise race it, ending the job as it noticed the death).
  const ToolResult k = mpirun("--mca orte_abort_on_non_zero_status 0 -n 1 " + args +
                              " : -n 1 -x DML_TEST_KILL_AT=step@3 " + args);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(k.status, 0);
  EXPECT_LT(seconds, 30);
  EXPECT_NE(k.err.find("dml: error: rank 0 of 2: rank 1 (pid "), std::string::npos) << k.err;
  EXPECT_NE(k.err.find("; the checkpoint of epoch 1 is kept (" + run +
                       "/checkpoint.safetensors): resume with mpirun -n 2 dml train --resume " +
                       run + "/checkpoint.safetensors"),
            std::string::npos)
      << k.err;
  const auto kept = dml::train::load_checkpoint(run + "/checkpoint.safetensors");
  EXPECT_EQ(kept.epochs_done, 1);
  EXPECT_EQ(kept.steps, 2);
  const std::string after_epoch_1 = dir_.file("after_epoch_1.safetensors");
  std::filesystem::copy_file(run + "/checkpoint.safetensors", after_epoch_1);

  const ToolResult on_two = ranks(2, "train --resume '" + run + "/checkpoint.safetensors'");
  ASSERT_EQ(on_two.status, 0) << on_two.out << on_two.err;
  dml::test::expect_same_tensors(dir_.file("straight") + "/checkpoint.safetensors",
                                 run + "/checkpoint.safetensors");

  std::filesystem::copy_file(after_epoch_1, run + "/checkpoint.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  const ToolResult on_one = one("train --resume '" + run + "/checkpoint.safetensors'");
  ASSERT_EQ(on_one.status, 0) << on_one.out << on_one.err;
  EXPECT_NE(on_one.out.find("the checkpoint was trained on 2 ranks, this run has 1"),
            std::string::npos)
      << on_one.out;
  expect_close_tensors(dir_.file("straight") + "/checkpoint.safetensors",
                       run + "/checkpoint.safetensors");
}

// `dml eval` on 2 ranks (each embedding whole eval batches of its shard)
// reports exactly the metrics of one process: 600 held-out images of the
// real Fashion-MNIST make 3 eval batches of 256, 2 on rank 0 and 1 on rank 1.
TEST_F(DataParallel, EvaluationOnTwoRanksEqualsOneProcess) {
  if (!dml::test::have_fashion_mnist())
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << dml::test::kFashionMnist;
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("run"));
  settings.push_back("train.epochs=1");
  ASSERT_EQ(one("train" + as_set_flags(settings)).status, 0);
  const std::string eval = "eval --checkpoint '" + dir_.file("run") +
                           "/checkpoint.safetensors' --set data.root=" + dml::test::kFashionMnist +
                           " --set eval.limit=600 --threads 1 --json ";
  const ToolResult a = one(eval + "'" + dir_.file("one.json") + "'");
  ASSERT_EQ(a.status, 0) << a.out << a.err;
  const ToolResult b = ranks(2, eval + "'" + dir_.file("two.json") + "'");
  ASSERT_EQ(b.status, 0) << b.out << b.err;
  const Json one_metrics = Json::parse(dml::test::read_text(dir_.file("one.json")));
  EXPECT_EQ(one_metrics["queries"], 600);
  EXPECT_EQ(one_metrics, Json::parse(dml::test::read_text(dir_.file("two.json"))));
  EXPECT_NE(b.out.find("600 queries"), std::string::npos) << b.out;
  EXPECT_EQ(b.out.find("600 queries"), b.out.rfind("600 queries")) << "rank 0 alone prints";
}

// Every rank reads the checkpoint itself: a rank that cannot is named, and
// ranks that read different points refuse to go on.
TEST_F(DataParallel, RanksResumeTheSameCheckpoint) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("early"));
  settings.push_back("train.epochs=1");
  ASSERT_EQ(one("train" + as_set_flags(settings)).status, 0);
  settings.back() = "train.output=" + dir_.file("late");
  ASSERT_EQ(one("train" + as_set_flags(settings)).status, 0);
  ASSERT_EQ(
      one("train --resume '" + dir_.file("late") + "/checkpoint.safetensors' --set train.epochs=2")
          .status,
      0);
  const std::string tool = "'" DML_TOOL "' train --set train.epochs=3 --resume ";
  const std::string early = tool + "'" + dir_.file("early") + "/checkpoint.safetensors'";
  const ToolResult missing =
      mpirun("-n 1 " + early + " : -n 1 " + tool + "'" + dir_.file("none.safetensors") + "'");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("dml: error: rank 1 of 2: "), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("none.safetensors"), std::string::npos) << missing.err;
  const ToolResult apart = mpirun("-n 1 " + early + " : -n 1 " + tool + "'" + dir_.file("late") +
                                  "/checkpoint.safetensors'");
  EXPECT_NE(apart.status, 0);
  EXPECT_NE(apart.err.find("the ranks read different checkpoints (rank 0 epoch 1 step 2, rank 1 "
                           "epoch 2 step 4)"),
            std::string::npos)
      << apart.err;
}

// Ranks that diverge (here: a learning rate given to one rank only) are
// caught before rank 0 saves its weights as the run's.
TEST_F(DataParallel, RanksThatDivergeAreNamedBeforeTheCheckpoint) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  const std::string args = "'" DML_TOOL "' train" +
                           as_set_flags(parity_settings(root, dir_.file("run"))) +
                           " --set train.epochs=1";
  const ToolResult r = mpirun("-n 1 " + args + " : -n 1 " + args + " --set optimizer.lr=0.0002");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("the parameters of rank(s) 1 differ from rank 0's"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("run") + "/checkpoint.safetensors"));
}

// The local objective's loss depends on the split of the batch: its
// checkpoint does not resume on another number of ranks.
TEST_F(DataParallel, LocalObjectiveResumesOnlyOnItsNumberOfRanks) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("local"));
  settings.push_back("distributed.objective=local");
  settings.push_back("train.epochs=1");
  const ToolResult a = ranks(2, "train" + as_set_flags(settings));
  ASSERT_EQ(a.status, 0) << a.out << a.err;
  const ToolResult r = one("train --resume '" + dir_.file("local") +
                           "/checkpoint.safetensors' --set train.epochs=2");
  dml::test::expect_one_line_error(r, "local objective's loss depends on how the batch is split");
  // The objective stays; how the ranks communicate may change.
  const std::string resume = "train --resume '" + dir_.file("local") +
                             "/checkpoint.safetensors' --set train.epochs=2 --set ";
  const ToolResult other = ranks(2, resume + "distributed.objective=global");
  EXPECT_NE(other.status, 0);
  EXPECT_NE(other.err.find("distributed.objective = \"local\", this run \"global\""),
            std::string::npos)
      << other.err;
  const ToolResult same = ranks(2, resume + "distributed.bucket_mb=0.001");
  EXPECT_EQ(same.status, 0) << same.out << same.err;
}

// The memory adds candidates to tuple losses that take anchor rows only,
// and changes every step, which a captured step cannot follow (one
// process); refused before the first step.
TEST(TrainingSetup, CrossBatchMemoryIsRefusedWhereItCannotWork) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  std::vector<std::string> settings = parity_settings(root, dir.file("run"));
  settings.push_back("loss.xbm_size=8");
  std::vector<std::string> proxy = settings;
  proxy.push_back("loss.name=proxy_anchor");
  dml::test::expect_error(
      [&] { dml::train::run_training(dml::train::resolve_config(Json::object(), proxy, "test")); },
      {"loss.xbm_size 8", "'proxy_anchor' learns class rows"});
  std::vector<std::string> npair = settings;
  npair.push_back("loss.name=npair");
  dml::test::expect_error(
      [&] { dml::train::run_training(dml::train::resolve_config(Json::object(), npair, "test")); },
      {"cannot take anchor rows"});
  settings.push_back("train.cuda_graph=true");
  dml::test::expect_error(
      [&] {
        dml::train::run_training(dml::train::resolve_config(Json::object(), settings, "test"));
      },
      {"train.cuda_graph: the cross-batch memory"});
}

// Checkpoints written before they recorded their ranks read as one rank's.
TEST(TrainingSetup, CheckpointsWithoutRankMetadataReadAsOneRanks) {
  TempDir dir;
  const std::string root = dml::test::make_fashion_mnist(dir);
  std::vector<std::string> settings = parity_settings(root, dir.file("run"));
  settings.push_back("train.epochs=1");
  dml::train::run_training(dml::train::resolve_config(Json::object(), settings, "test"));
  const std::string path = dir.file("run") + "/checkpoint.safetensors";
  dml::SafetensorsFile file = dml::read_safetensors(path);
  EXPECT_EQ(file.metadata.at("world_size"), "1");
  EXPECT_EQ(file.metadata.at("global_batch_size"), "4");
  file.metadata.erase("world_size");
  file.metadata.erase("global_batch_size");
  dml::write_safetensors(path, file.tensors, file.metadata);
  const auto ck = dml::train::load_checkpoint(path);
  EXPECT_EQ(ck.world_size, 1);
  EXPECT_EQ(ck.global_batch_size, 0);
}

// A rank stopped (SIGSTOP) in the middle of the run: the other's next
// collective fails after distributed.timeout_seconds, naming the wait.
TEST_F(DataParallel, AHungRankTimesOutTheOthersCollective) {
  const std::string root = dml::test::make_fashion_mnist(dir_);
  std::vector<std::string> settings = parity_settings(root, dir_.file("hung"));
  settings.push_back("distributed.timeout_seconds=2");
  const std::string args = "'" DML_TOOL "' train" + as_set_flags(settings);
  const auto start = std::chrono::steady_clock::now();
  const ToolResult h = mpirun(
      "-n 1 " + args + " : -n 1 -x DML_TEST_KILL_AT=step@1 -x DML_TEST_KILL_SIGNAL=19 " + args);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(h.status, 0);
  EXPECT_LT(seconds, 30);
  EXPECT_NE(h.err.find("rank 0 of 2: "), std::string::npos) << h.err;
  EXPECT_NE(h.err.find("distributed.timeout_seconds"), std::string::npos) << h.err;
}

}  // namespace
