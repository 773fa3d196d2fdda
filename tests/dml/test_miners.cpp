// Miners: the deterministic ones select exactly the reference tuples
// (tests/golden/make_loss_golden.py); the random and distance-weighted ones
// are checked for validity and for their sampling distributions; every
// miner's tuples are valid on many label layouts; the registry.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "tests/support/completeness.h"
#include "tests/support/loss_fixture.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

using miners::MinedTuples;
using miners::MinerParams;
using nlohmann::json;
using Tuple = std::vector<int64_t>;

const json& fixture() {
  return loss_fixture();
}
using Batch = FixtureBatch;
Batch batch(const std::string& name) {
  return fixture_batch(name);
}

// The mined tuples as lists: positive pairs, negative pairs, triplets.
struct TupleLists {
  std::vector<Tuple> pos, neg, triplets;
};

std::vector<Tuple> columns(std::initializer_list<Tensor> cols) {
  std::vector<std::vector<int64_t>> v;
  for (const Tensor& c : cols) {
    EXPECT_EQ(c.dtype(), DType::i64);
    EXPECT_EQ(c.dim(), 1);
    v.push_back(c.to_vector<int64_t>());
  }
  std::vector<Tuple> out(v[0].size());
  for (size_t i = 0; i < out.size(); ++i)
    for (const auto& col : v) {
      EXPECT_EQ(col.size(), out.size());
      out[i].push_back(col[i]);
    }
  return out;
}

TupleLists lists_of(const MinedTuples& m) {
  if (m.kind == MinedTuples::Kind::pairs)
    return {columns({m.pos_anchor, m.positive}), columns({m.neg_anchor, m.negative}), {}};
  return {{}, {}, columns({m.anchor, m.triplet_positive, m.triplet_negative})};
}

std::vector<Tuple> reference_list(const json& j) {
  std::vector<Tuple> out;
  for (const auto& t : j) out.push_back(t.get<Tuple>());
  return out;
}

TEST(MinerParity, DeterministicMinersSelectTheReferenceTuples) {
  Generator gen(1);
  size_t nonempty = 0;
  for (const json& c : fixture().at("miners")) {
    const std::string miner = c.at("miner"), batch_name = c.at("batch");
    const std::string what = miner + " " + c.at("params").dump() + " on " + batch_name;
    Batch b = batch(batch_name);
    MinedTuples m =
        miners::make_miner(miner, params_of(c.at("params")))->mine(b.embeddings, b.labels, gen);
    const json& want = c.at("tuples");
    TupleLists got = lists_of(m);
    if (want.at("kind") == "pairs") {
      ASSERT_EQ(m.kind, MinedTuples::Kind::pairs) << what;
      EXPECT_EQ(got.pos, reference_list(want.at("pos"))) << what;
      EXPECT_EQ(got.neg, reference_list(want.at("neg"))) << what;
      nonempty += !got.pos.empty() && !got.neg.empty();
    } else {
      ASSERT_EQ(m.kind, MinedTuples::Kind::triplets) << what;
      EXPECT_EQ(got.triplets, reference_list(want.at("triplets"))) << what;
      nonempty += !got.triplets.empty();
    }
  }
  EXPECT_GE(nonempty, 15u) << "the reference cases should mostly find tuples";
}

void expect_valid(const MinedTuples& m, const std::vector<int64_t>& y, const std::string& what) {
  const int64_t b = int64_t(y.size());
  auto in_batch = [&](int64_t i) { return i >= 0 && i < b; };
  TupleLists t = lists_of(m);
  for (const Tuple& p : t.pos) {
    ASSERT_TRUE(in_batch(p[0]) && in_batch(p[1])) << what;
    EXPECT_NE(p[0], p[1]) << what;
    EXPECT_EQ(y[p[0]], y[p[1]]) << what << ": positive pair of two classes";
  }
  for (const Tuple& p : t.neg) {
    ASSERT_TRUE(in_batch(p[0]) && in_batch(p[1])) << what;
    EXPECT_NE(y[p[0]], y[p[1]]) << what << ": negative pair within a class";
  }
  for (const Tuple& p : t.triplets) {
    ASSERT_TRUE(in_batch(p[0]) && in_batch(p[1]) && in_batch(p[2])) << what;
    EXPECT_NE(p[0], p[1]) << what;
    EXPECT_EQ(y[p[0]], y[p[1]]) << what << ": positive of another class";
    EXPECT_NE(y[p[0]], y[p[2]]) << what << ": negative of the anchor's class";
  }
}

// Random label layouts, from one class to all singletons, in f32 and f64,
// with embeddings that require grad (miners must not record history).
TEST(MinerValidity, EveryMinerReturnsValidTuplesOnAnyLabels) {
  Generator data_gen(7), mine_gen(8);
  const std::vector<std::vector<int64_t>> layouts = {
      {0, 0, 0, 0, 0, 0},
      {0, 1, 2, 3, 4, 5},
      {3},
      {0, 0, 1, 1, 2, 2, 3, 3},
      {5, 2, 5, 2, 2, 9, 9, 9, 1, 5, 2, 0, 0, 7, 7, 7},
  };
  for (const std::string& name : miners::miner_names())
    for (const auto& y : layouts)
      for (DType dtype : {DType::f32, DType::f64}) {
        const int64_t b = int64_t(y.size());
        Tensor e = randn({b, 8}, dtype, &data_gen).requires_grad_();
        Tensor labels = from_vector(y, {b});
        MinedTuples m = miners::make_miner(name)->mine(e, labels, mine_gen);
        const std::string what = name + " on " + std::to_string(b) + " samples";
        expect_valid(m, y, what);
        for (const Tensor* t : {&m.pos_anchor, &m.positive, &m.neg_anchor, &m.negative, &m.anchor,
                                &m.triplet_positive, &m.triplet_negative})
          if (t->defined()) {
            EXPECT_FALSE(t->requires_grad()) << what;
          }
        // Every mined result is accepted by a loss of the matching kind.
        miners::pairs_for(y, &m, "test");
        miners::triplets_for(y, &m, "test");
      }
}

// Labels of the random-miner test: classes of 3, 4 and 5 samples.
std::vector<int64_t> uneven_labels() {
  return {0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 2, 2};
}

TEST(RandomMiner, DrawsUniformlyAmongEachAnchorsPositivesAndNegatives) {
  const std::vector<int64_t> y = uneven_labels();
  const int64_t b = int64_t(y.size());
  Generator gen(11);
  Tensor e = randn({b, 4}, DType::f64, &gen);
  Tensor labels = from_vector(y, {b});
  auto miner = miners::make_miner("random", {{"triplets_per_anchor", 3}});
  std::map<std::pair<int64_t, int64_t>, int64_t> pos_count, neg_count;
  const int rounds = 2000;
  for (int r = 0; r < rounds; ++r) {
    TupleLists t = lists_of(miner->mine(e, labels, gen));
    ASSERT_EQ(t.triplets.size(), size_t(3 * b)) << "three triplets for every anchor";
    for (size_t i = 0; i < t.triplets.size(); ++i) {
      ASSERT_EQ(t.triplets[i][0], int64_t(i / 3)) << "anchors in batch order";
      ++pos_count[{t.triplets[i][0], t.triplets[i][1]}];
      ++neg_count[{t.triplets[i][0], t.triplets[i][2]}];
    }
  }
  expect_valid(miner->mine(e, labels, gen), y, "random");
  // Each of k candidates is drawn 3 * rounds / k times on average; allow 5
  // standard deviations (the seeded generator makes this deterministic).
  for (int64_t a = 0; a < b; ++a) {
    int64_t num_pos = 0, num_neg = 0;
    for (int64_t j = 0; j < b; ++j) (j == a ? 0 : y[j] == y[a] ? ++num_pos : ++num_neg);
    for (int64_t j = 0; j < b; ++j) {
      if (j == a) continue;
      const bool positive = y[j] == y[a];
      const double p = 1.0 / double(positive ? num_pos : num_neg), n = 3.0 * rounds;
      const double count = double(positive ? pos_count[{a, j}] : neg_count[{a, j}]);
      EXPECT_NEAR(count / n, p, 5 * std::sqrt(p * (1 - p) / n)) << "anchor " << a << " to " << j;
    }
  }
}

TEST(RandomMiner, SameSeedSameTriplets) {
  Batch b = batch("mixed");
  auto miner = miners::make_miner("random");
  Generator g1(5), g2(5), g3(6);
  TupleLists t1 = lists_of(miner->mine(b.embeddings, b.labels, g1));
  EXPECT_EQ(t1.triplets, lists_of(miner->mine(b.embeddings, b.labels, g2)).triplets);
  EXPECT_NE(t1.triplets, lists_of(miner->mine(b.embeddings, b.labels, g3)).triplets);
  EXPECT_NE(t1.triplets, lists_of(miner->mine(b.embeddings, b.labels, g1)).triplets)
      << "the generator advances";
}

// The empirical distribution of the drawn negatives against each anchor's
// probabilities from the reference: zero-probability negatives (same class,
// beyond the nonzero-loss cutoff) are never drawn, the others within 5
// standard deviations.
TEST(DistanceWeightedMiner, DrawsNegativesWithTheReferenceProbabilities) {
  Generator gen(3);
  size_t checked_rows = 0;
  for (const json& c : fixture().at("distance_weighted")) {
    const std::string batch_name = c.at("batch");
    Batch b = batch(batch_name);
    const std::vector<int64_t> y = b.labels.to_vector<int64_t>();
    const int64_t n = int64_t(y.size());
    auto miner = miners::make_miner("distance_weighted", params_of(c.at("params")));
    std::vector<std::vector<double>> counts(size_t(n), std::vector<double>(size_t(n), 0));
    std::vector<double> draws(size_t(n), 0);
    const int rounds = 3000;
    for (int r = 0; r < rounds; ++r) {
      MinedTuples m = miner->mine(b.embeddings, b.labels, gen);
      if (r == 0) expect_valid(m, y, "distance_weighted on " + batch_name);
      for (const Tuple& t : lists_of(m).triplets) {
        counts[t[0]][t[2]] += 1;
        draws[t[0]] += 1;
      }
    }
    const json& probs = c.at("probabilities");
    for (int64_t a = 0; a < n; ++a) {
      int64_t positives = 0;
      for (int64_t j = 0; j < n; ++j) positives += j != a && y[j] == y[a];
      bool has_negative = false;
      for (int64_t j = 0; j < n; ++j) has_negative |= y[j] != y[a];
      ASSERT_EQ(draws[a], has_negative ? double(positives * rounds) : 0.0)
          << "one negative per positive pair, anchor " << a << " of " << batch_name;
      if (draws[a] == 0) continue;
      ++checked_rows;
      for (int64_t j = 0; j < n; ++j) {
        const double p = probs[a][j], f = counts[a][j] / draws[a];
        if (p == 0)
          EXPECT_EQ(counts[a][j], 0) << batch_name << " anchor " << a << " negative " << j;
        else
          EXPECT_NEAR(f, p, 5 * std::sqrt(p * (1 - p) / draws[a]) + 1e-3)
              << batch_name << " " << c.at("params").dump() << " anchor " << a << " negative " << j;
      }
    }
  }
  EXPECT_GE(checked_rows, 30u);
}

// Miners that draw at random have no reference tuples; what checks them.
const Exemptions kMinersWithoutReferenceTuples = {
    {"random", "RandomMiner.DrawsUniformlyAmongEachAnchorsPositivesAndNegatives"},
    {"distance_weighted", "DistanceWeightedMiner.DrawsNegativesWithTheReferenceProbabilities"},
};

std::vector<std::string> miners_with_reference_tuples() {
  std::vector<std::string> names;
  for (const json& c : fixture().at("miners")) names.push_back(c.at("miner"));
  return names;
}

// The miners the README's "Losses and miners" names.
std::vector<std::string> readme_miners(const std::string& readme) {
  return code_spans_between(readme, "`loss.miner` (", "\n\n");
}

TEST(MinerRegistry, EveryMinerHasReferenceCasesAndAReadmeEntry) {
  const std::vector<std::string> names = miners::miner_names();
  EXPECT_EQ(uncovered(names, miners_with_reference_tuples(), kMinersWithoutReferenceTuples),
            std::vector<std::string>{});
  EXPECT_EQ(stale_exemptions(kMinersWithoutReferenceTuples, names), std::vector<std::string>{});
  EXPECT_EQ(uncovered(names, readme_miners(read_text(DML_SOURCE_DIR "/README.md"))),
            std::vector<std::string>{});
}

// The check above fails for a miner without reference tuples or README entry.
TEST(MinerRegistry, TheCompletenessCheckFailsOnAMissingCaseOrEntry) {
  std::vector<std::string> cases = miners_with_reference_tuples();
  std::erase(cases, "semi_hard");
  EXPECT_EQ(uncovered(miners::miner_names(), cases, kMinersWithoutReferenceTuples),
            std::vector<std::string>{"semi_hard"});
  std::string readme = read_text(DML_SOURCE_DIR "/README.md");
  readme.replace(readme.find("`pair_margin`"), 13, "pair_margin");
  EXPECT_EQ(uncovered(miners::miner_names(), readme_miners(readme)),
            std::vector<std::string>{"pair_margin"});
}

TEST(MinerRegistry, ListsEveryMinerByName) {
  const std::vector<std::string> want = {
      // sorted by name
      "batch_hard", "distance_weighted", "multi_similarity", "pair_margin", "random", "semi_hard"};
  EXPECT_EQ(miners::miner_names(), want);
  for (const miners::MinerEntry& e : miners::miner_table()) {
    EXPECT_FALSE(e.summary.empty()) << e.name;
    for (const ParamSpec& s : e.params) EXPECT_TRUE(s.allows(s.default_value)) << e.name;
    EXPECT_EQ(miners::make_miner(e.name)->describe().rfind(e.name + "(", 0), 0u);
  }
  auto defaults = [](const std::string& name) {
    return resolve_params("miner", name, miners::miner_entry(name).params, {});
  };
  EXPECT_EQ(defaults("random"), (MinerParams{{"triplets_per_anchor", 1}}));
  EXPECT_EQ(defaults("semi_hard"), (MinerParams{{"margin", 0.2}}));
  EXPECT_EQ(defaults("batch_hard"), MinerParams{});
  EXPECT_EQ(defaults("distance_weighted"),
            (MinerParams{{"cutoff", 0.5}, {"nonzero_loss_cutoff", 1.4}}));
  EXPECT_EQ(defaults("multi_similarity"), (MinerParams{{"epsilon", 0.1}}));
  EXPECT_EQ(defaults("pair_margin"), (MinerParams{{"pos_margin", 0.2}, {"neg_margin", 0.8}}));
}

TEST(MinerRegistry, ErrorsNameTheMinerTheParameterAndTheAllowedKeys) {
  expect_error([] { miners::make_miner("hardest"); },
               {"unknown miner 'hardest'", "known names:", "batch_hard", "pair_margin"});
  expect_error(
      [] {
        miners::make_miner("batch_hard", {{"margin", 0.1}});
      },
      {"miner 'batch_hard'", "'margin'", "allowed: (none)"});
  expect_error(
      [] {
        miners::make_miner("random", {{"triplets_per_anchor", 0}});
      },
      {"miner 'random'", "'triplets_per_anchor' = 0", "allowed: triplets_per_anchor"});
  expect_error(
      [] {
        miners::make_miner("distance_weighted", {{"cutoff", 1.5}});
      },
      {"distance_weighted", "cutoff < nonzero_loss_cutoff"});
  Tensor e = zeros({3, 2});
  expect_error(
      [&] {
        Generator g;
        miners::make_miner("semi_hard")->mine(e, zeros({2}, DType::i64), g);
      },
      {"semi_hard", "labels", "i64 [3]"});
}

}  // namespace
}  // namespace dml::test
