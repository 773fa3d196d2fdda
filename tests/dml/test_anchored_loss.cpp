// Losses anchored in some rows of the batch (dml/losses/anchored_loss.h):
// with every row anchoring, forward / forward_mined bit for bit for every
// loss and miner; with fewer, the loss on the tuples anchored there (against
// tuples and per-anchor sums written out here), gradients that reach the
// candidate rows through those tuples only (central differences in f64),
// proxy losses on the anchor rows alone, and the N-pair family refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/contrastive.h"
#include "dml/losses/multi_similarity.h"
#include "dml/losses/registry.h"
#include "dml/losses/snr_contrastive.h"
#include "dml/losses/triplet.h"
#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "engine/ops.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

using losses::anchored_loss;
using losses::AnchorRows;
using losses::Loss;

constexpr int64_t kClasses = 4;

struct Batch {
  Tensor embeddings, labels;
  int64_t rows() const { return embeddings.size(0); }
};

// Row i is of class i % 4, so every range of rows has candidates of its
// classes on both sides; values exact in f32, so f32 and f64 batches agree.
Batch make_batch(uint64_t seed, DType dtype = DType::f32, int64_t rows = 12, int64_t dim = 5) {
  Generator gen(seed);
  std::vector<int64_t> y;
  for (int64_t i = 0; i < rows; ++i) y.push_back(i % kClasses);
  Tensor e = randn({rows, dim}, DType::f64, &gen).to(DType::f32).to(dtype);
  e.requires_grad_();
  return {e, from_vector(y, {rows})};
}

std::unique_ptr<Loss> make(const std::string& name, const losses::LossParams& params = {}) {
  static Generator gen(11);
  return losses::make_loss(name, {kClasses, 5, &gen}, params);
}

// "" for no miner, then every registered miner.
std::vector<std::string> miner_choices() {
  std::vector<std::string> names{""};
  for (const std::string& n : miners::miner_names()) names.push_back(n);
  return names;
}

std::unique_ptr<miners::Miner> make_miner(const std::string& name) {
  return name.empty() ? nullptr : miners::make_miner(name);
}

// Exact: f32 and f64 values are exact in f64.
double value(const Tensor& t) {
  return t.to(DType::f64).item();
}

// The geometry written out on the host: unit rows, their inner products and
// Euclidean distances.
struct HostGeometry {
  std::vector<std::vector<double>> unit;
  double sim(int64_t a, int64_t b) const {
    double s = 0;
    for (size_t k = 0; k < unit[size_t(a)].size(); ++k)
      s += unit[size_t(a)][k] * unit[size_t(b)][k];
    return s;
  }
  double dist(int64_t a, int64_t b) const {
    double s = 0;
    for (size_t k = 0; k < unit[size_t(a)].size(); ++k) {
      const double d = unit[size_t(a)][k] - unit[size_t(b)][k];
      s += d * d;
    }
    return std::sqrt(s);
  }
};

HostGeometry host_geometry(const Tensor& e) {
  const std::vector<double> v = e.detach().to(DType::f64).to_vector<double>();
  const int64_t n = e.size(0), d = e.size(1);
  HostGeometry g;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> row(v.begin() + i * d, v.begin() + (i + 1) * d);
    double norm = 0;
    for (double x : row) norm += x * x;
    for (double& x : row) x /= std::sqrt(norm);
    g.unit.push_back(row);
  }
  return g;
}

// sum / #{terms > 0}, 0 without one: the contrastive and triplet losses' mean.
double mean_of_positive(const std::vector<double>& terms) {
  double sum = 0;
  int64_t active = 0;
  for (double t : terms) {
    sum += t;
    active += t > 0;
  }
  return sum / double(std::max<int64_t>(active, 1));
}

std::vector<int64_t> labels_of(const Batch& b) {
  return b.labels.to_vector<int64_t>();
}

// ---- every row anchoring ----

TEST(AnchoredLoss, EveryRowAnchoringIsForwardBitForBitForEveryLossAndMiner) {
  const Batch b = make_batch(1);
  for (const std::string& loss_name : losses::loss_names())
    for (const std::string& miner_name : miner_choices()) {
      SCOPED_TRACE(loss_name + " / " + (miner_name.empty() ? "no miner" : miner_name));
      std::unique_ptr<Loss> loss = make(loss_name);
      std::unique_ptr<miners::Miner> miner = make_miner(miner_name);
      Generator direct_gen(5), anchored_gen(5);
      const Tensor want = miner ? loss->forward_mined(b.embeddings, b.labels, *miner, direct_gen)
                                : loss->forward(b.embeddings, b.labels);
      const Tensor got =
          anchored_loss(*loss, miner.get(), b.embeddings, b.labels, {0, b.rows()}, anchored_gen);
      EXPECT_EQ(value(got), value(want));
      EXPECT_EQ(anchored_gen.state().offset, direct_gen.state().offset);
    }
}

// ---- some rows anchoring, against tuples written out here ----

TEST(AnchoredLoss, ContrastiveOnTheAnchorsPairsWrittenOut) {
  const Batch b = make_batch(2, DType::f64);
  const losses::ContrastiveParams p{0.3, 1.1};
  losses::ContrastiveLoss loss(p);
  const HostGeometry g = host_geometry(b.embeddings);
  const std::vector<int64_t> y = labels_of(b);
  Generator gen(0);
  for (AnchorRows anchors : {AnchorRows{0, 4}, AnchorRows{4, 8}, AnchorRows{9, 12}}) {
    std::vector<double> pos, neg;
    for (int64_t a = anchors.begin; a < anchors.end; ++a)
      for (int64_t c = 0; c < b.rows(); ++c) {
        if (c == a) continue;
        if (y[size_t(a)] == y[size_t(c)])
          pos.push_back(std::max(g.dist(a, c) - p.pos_margin, 0.0));
        else
          neg.push_back(std::max(p.neg_margin - g.dist(a, c), 0.0));
      }
    const double want = mean_of_positive(pos) + mean_of_positive(neg);
    EXPECT_NEAR(value(anchored_loss(loss, nullptr, b.embeddings, b.labels, anchors, gen)), want,
                1e-12)
        << "anchors [" << anchors.begin << ", " << anchors.end << ")";
  }
}

TEST(AnchoredLoss, TripletOnTheAnchorsTripletsWrittenOut) {
  const Batch b = make_batch(3, DType::f64);
  losses::TripletLoss loss({0.4});
  const HostGeometry g = host_geometry(b.embeddings);
  const std::vector<int64_t> y = labels_of(b);
  Generator gen(0);
  const AnchorRows anchors{3, 7};
  std::vector<double> terms;
  for (int64_t a = anchors.begin; a < anchors.end; ++a)
    for (int64_t p = 0; p < b.rows(); ++p)
      for (int64_t n = 0; n < b.rows(); ++n)
        if (p != a && y[size_t(p)] == y[size_t(a)] && y[size_t(n)] != y[size_t(a)])
          terms.push_back(std::max(g.dist(a, p) - g.dist(a, n) + 0.4, 0.0));
  EXPECT_NEAR(value(anchored_loss(loss, nullptr, b.embeddings, b.labels, anchors, gen)),
              mean_of_positive(terms), 1e-12);
}

// The multi-similarity loss is a mean over its anchors: over the anchor rows.
TEST(AnchoredLoss, MultiSimilarityIsTheMeanOverTheAnchorRows) {
  const Batch b = make_batch(4, DType::f64);
  const losses::MultiSimilarityParams p{2, 10, 0.3};
  losses::MultiSimilarityLoss loss(p);
  const HostGeometry g = host_geometry(b.embeddings);
  const std::vector<int64_t> y = labels_of(b);
  Generator gen(0);
  const AnchorRows anchors{2, 7};
  double sum = 0;
  for (int64_t a = anchors.begin; a < anchors.end; ++a) {
    double pos = 0, neg = 0;
    for (int64_t c = 0; c < b.rows(); ++c) {
      if (c == a) continue;
      if (y[size_t(a)] == y[size_t(c)])
        pos += std::exp(-p.alpha * (g.sim(a, c) - p.base));
      else
        neg += std::exp(p.beta * (g.sim(a, c) - p.base));
    }
    sum += std::log1p(pos) / p.alpha + std::log1p(neg) / p.beta;
  }
  EXPECT_NEAR(value(anchored_loss(loss, nullptr, b.embeddings, b.labels, anchors, gen)),
              sum / double(anchors.end - anchors.begin), 1e-12);
}

// The SNR loss's zero-mean regulariser covers the anchor rows only.
TEST(AnchoredLoss, SnrRegularisesTheAnchorRowsOnly) {
  const Batch b = make_batch(5, DType::f64);
  losses::SnrContrastiveLoss plain({0.0, 1.0, 0.0}), regularised({0.0, 1.0, 0.5});
  Generator gen(0);
  const AnchorRows anchors{5, 9};
  const std::vector<double> e = b.embeddings.detach().to_vector<double>();
  double reg = 0;
  for (int64_t i = anchors.begin; i < anchors.end; ++i) {
    double row = 0;
    for (int64_t k = 0; k < 5; ++k) row += e[size_t(i * 5 + k)];
    reg += std::abs(row);
  }
  reg /= double(anchors.end - anchors.begin);
  EXPECT_NEAR(value(anchored_loss(regularised, nullptr, b.embeddings, b.labels, anchors, gen)) -
                  value(anchored_loss(plain, nullptr, b.embeddings, b.labels, anchors, gen)),
              0.5 * reg, 1e-12);
}

// With a miner: the miner's tuples on the whole batch (same generator
// state), those anchored in the rows kept, through forward: for every tuple
// loss and miner. The margin loss with the distance-weighted miner takes
// the unfused path here.
TEST(AnchoredLoss, MinedTuplesOnTheWholeBatchFilteredByAnchor) {
  const Batch b = make_batch(6);
  const std::vector<int64_t> y = labels_of(b);
  const AnchorRows anchors{4, 9};
  for (const losses::LossEntry& entry : losses::loss_table()) {
    if (entry.kind != losses::LossKind::tuple || !make(entry.name)->takes_anchor_rows()) continue;
    for (const std::string& miner_name : miners::miner_names()) {
      SCOPED_TRACE(entry.name + " / " + miner_name);
      std::unique_ptr<Loss> loss = make(entry.name);
      std::unique_ptr<miners::Miner> miner = make_miner(miner_name);
      Generator reference_gen(9), anchored_gen(9);
      miners::MinedTuples all = miner->mine(b.embeddings.detach(), b.labels, reference_gen);
      miners::MinedTuples kept;
      if (all.kind == miners::MinedTuples::Kind::triplets) {
        const miners::Triplets t = miners::triplets_for(y, &all, "test");
        miners::Triplets k;
        for (size_t i = 0; i < t.size(); ++i)
          if (t.anchor[i] >= anchors.begin && t.anchor[i] < anchors.end)
            k.add(t.anchor[i], t.positive[i], t.negative[i]);
        kept = miners::mined_triplets(k);
      } else {
        const miners::Pairs p = miners::pairs_for(y, &all, "test");
        miners::Pairs k;
        for (size_t i = 0; i < p.pos.size(); ++i)
          if (p.pos.anchor[i] >= anchors.begin && p.pos.anchor[i] < anchors.end)
            k.pos.add(p.pos.anchor[i], p.pos.other[i]);
        for (size_t i = 0; i < p.neg.size(); ++i)
          if (p.neg.anchor[i] >= anchors.begin && p.neg.anchor[i] < anchors.end)
            k.neg.add(p.neg.anchor[i], p.neg.other[i]);
        kept = miners::mined_pairs(k);
      }
      const Tensor want =
          loss->forward_anchored(b.embeddings, b.labels, kept, anchors.begin, anchors.end);
      const Tensor got =
          anchored_loss(*loss, miner.get(), b.embeddings, b.labels, anchors, anchored_gen);
      EXPECT_EQ(value(got), value(want));
    }
  }
}

// Without a miner, the pairs every tuple loss gets are all_pairs' anchored
// in the rows, found without listing the others.
TEST(AnchoredLoss, AnchoredPairsAreAllPairsFilteredByAnchor) {
  const std::vector<int64_t> y{0, 1, 0, 2, 1, 0, 2};
  const miners::Pairs all = miners::all_pairs(y);
  const miners::Pairs some = miners::anchored_pairs(y, 2, 5);
  for (const auto& [whole, part] :
       {std::pair{&all.pos, &some.pos}, std::pair{&all.neg, &some.neg}}) {
    miners::PairList want;
    for (size_t i = 0; i < whole->size(); ++i)
      if (whole->anchor[i] >= 2 && whole->anchor[i] < 5)
        want.add(whole->anchor[i], whole->other[i]);
    EXPECT_EQ(part->anchor, want.anchor);
    EXPECT_EQ(part->other, want.other);
  }
}

// The anchored losses compute their matrices for the anchor rows alone: the
// same values and gradients as the whole matrix on the same tuples (the
// multi-similarity loss divided by the anchor rows rather than the batch,
// the SNR loss without its regulariser), for pairs and triplets.
TEST(AnchoredLoss, AnchorRowsAloneMatchTheWholeMatrixOnTheSameTuples) {
  const AnchorRows anchors{3, 7};
  const std::vector<std::pair<std::string, losses::LossParams>> cases{
      {"contrastive", {}},       {"triplet", {}},
      {"margin", {{"nu", 0.1}}}, {"multi_similarity", {}},
      {"lifted_structure", {}},  {"circle", {}},
      {"histogram", {}},         {"snr_contrastive", {{"zero_mean_reg", 0}}}};
  const Batch b = make_batch(12, DType::f64);
  const std::vector<int64_t> y = labels_of(b);
  miners::Triplets triplets;
  const miners::Triplets all = miners::all_triplets(y);
  for (size_t i = 0; i < all.size(); ++i)
    if (all.anchor[i] >= anchors.begin && all.anchor[i] < anchors.end && i % 3 == 0)
      triplets.add(all.anchor[i], all.positive[i], all.negative[i]);
  const std::vector<miners::MinedTuples> kinds{
      miners::mined_pairs(miners::anchored_pairs(y, anchors.begin, anchors.end)),
      miners::mined_triplets(triplets)};
  for (const auto& [name, params] : cases)
    for (const miners::MinedTuples& tuples : kinds) {
      SCOPED_TRACE(name +
                   (tuples.kind == miners::MinedTuples::Kind::pairs ? " / pairs" : " / triplets"));
      std::unique_ptr<Loss> loss = make(name, params);
      const double scale =
          name == "multi_similarity" ? double(anchors.end - anchors.begin) / double(b.rows()) : 1.0;
      b.embeddings.zero_grad();
      const Tensor whole = loss->forward(b.embeddings, b.labels, &tuples);
      whole.backward();
      const Tensor whole_grad = b.embeddings.grad() * (1 / scale);
      b.embeddings.zero_grad();
      const Tensor block =
          loss->forward_anchored(b.embeddings, b.labels, tuples, anchors.begin, anchors.end);
      block.backward();
      EXPECT_NEAR(value(block), value(whole) / scale, 1e-12);
      expect_tensor_near(b.embeddings.grad(), whole_grad, 1e-12, 1e-10, "gradient");
    }
}

// ---- gradients ----

// Central differences over every row, the candidates outside the anchor
// rows included, for the tuple losses that take anchor rows (not the circle
// loss, whose pair weights are constants of the step by design).
TEST(AnchoredLoss, GradientsMatchCentralDifferencesOnEveryRow) {
  const std::vector<std::pair<std::string, losses::LossParams>> cases{
      {"contrastive", {}},      {"triplet", {}}, {"multi_similarity", {}},
      {"lifted_structure", {}}, {"margin", {}},  {"histogram", {{"num_bins", 4}}},
      {"snr_contrastive", {}}};
  for (const auto& [name, params] : cases) {
    SCOPED_TRACE(name);
    const Batch b = make_batch(7, DType::f64, 8, 3);
    std::unique_ptr<Loss> loss = make(name, params);
    Generator gen(0);
    expect_gradients_match(
        [&] {
          return anchored_loss(*loss, nullptr, b.embeddings, b.labels, {2, 5}, gen);
        },
        {b.embeddings}, name);
    // The candidates outside the rows do receive gradient.
    const std::vector<double> grad = b.embeddings.grad().to_vector<double>();
    const double outside = std::abs(grad[0]) + std::abs(grad[1]) + std::abs(grad[2]);
    EXPECT_GT(outside, 0.0);
  }
}

// With a miner the candidates outside the anchor rows get gradient exactly
// where a kept tuple puts them: rows of no kept tuple get exactly zero.
TEST(AnchoredLoss, MinedCandidatesOutsideTheKeptTuplesGetNoGradient) {
  const Batch b = make_batch(8, DType::f64, 12, 3);
  losses::TripletLoss loss({1.0});
  std::unique_ptr<miners::Miner> miner = miners::make_miner("batch_hard");
  const AnchorRows anchors{0, 2};
  Generator probe(0), gen(0);
  const miners::MinedTuples mined = miner->mine(b.embeddings.detach(), b.labels, probe);
  const miners::Triplets all = miners::triplets_for(labels_of(b), &mined, "test");
  std::set<int64_t> touched;
  for (size_t i = 0; i < all.size(); ++i)
    if (all.anchor[i] >= anchors.begin && all.anchor[i] < anchors.end)
      touched.insert({all.anchor[i], all.positive[i], all.negative[i]});
  ASSERT_LT(touched.size(), size_t(b.rows()));
  expect_gradients_match(
      [&] { return anchored_loss(loss, miner.get(), b.embeddings, b.labels, anchors, gen); },
      {b.embeddings}, "batch-hard triplets");
  const std::vector<double> grad = b.embeddings.grad().to_vector<double>();
  for (int64_t r = 0; r < b.rows(); ++r) {
    if (touched.count(r)) continue;
    for (int64_t k = 0; k < 3; ++k)
      EXPECT_EQ(grad[size_t(r * 3 + k)], 0.0) << "row " << r << " is in no kept tuple";
  }
}

// ---- losses without tuples ----

TEST(AnchoredLoss, ProxyLossesTakeTheAnchorRowsAlone) {
  const Batch b = make_batch(9);
  const AnchorRows anchors{3, 10};
  for (const losses::LossEntry& entry : losses::loss_table()) {
    if (entry.kind != losses::LossKind::proxy) continue;
    SCOPED_TRACE(entry.name);
    std::unique_ptr<Loss> loss = make(entry.name);
    EXPECT_FALSE(loss->uses_tuples());
    Generator gen(0);
    const Tensor narrowed = narrow(b.embeddings, 0, anchors.begin, anchors.end - anchors.begin);
    const Tensor narrowed_labels = narrow(b.labels, 0, anchors.begin, anchors.end - anchors.begin);
    const double want = value(loss->forward(narrowed, narrowed_labels));
    b.embeddings.zero_grad();
    const Tensor got = anchored_loss(*loss, nullptr, b.embeddings, b.labels, anchors, gen);
    EXPECT_EQ(value(got), want);
    got.backward();
    const std::vector<float> grad = b.embeddings.grad().to_vector<float>();
    for (int64_t i = 0; i < b.rows() * 5; ++i)
      if (i / 5 < anchors.begin || i / 5 >= anchors.end) {
        EXPECT_EQ(grad[size_t(i)], 0.0f) << "element " << i;
      }
  }
}

TEST(AnchoredLoss, UsesTuplesAgreesWithTheRegistryKind) {
  for (const losses::LossEntry& entry : losses::loss_table())
    EXPECT_EQ(make(entry.name)->uses_tuples(), entry.kind == losses::LossKind::tuple) << entry.name;
}

// ---- refusals ----

TEST(AnchoredLoss, TheNPairFamilyIsRefusedNamingTheLossAndTheWayOut) {
  const Batch b = make_batch(10);
  for (const std::string name : {"npair", "angular"}) {
    std::unique_ptr<Loss> loss = make(name);
    Generator gen(0);
    // Every row anchoring is plain forward, which it takes.
    EXPECT_NO_THROW(anchored_loss(*loss, nullptr, b.embeddings, b.labels, {0, b.rows()}, gen));
    const std::vector<std::string> fragments{name, "cannot take anchor rows",
                                             "distributed.objective=global", "loss.xbm_size=0"};
    expect_error(
        [&] {
          anchored_loss(*loss, nullptr, b.embeddings, b.labels, {0, 6}, gen);
        },
        fragments);
    expect_error([&] { losses::check_takes_anchor_rows(*loss); }, fragments);
  }
  EXPECT_NO_THROW(losses::check_takes_anchor_rows(*make("contrastive")));
  EXPECT_NO_THROW(losses::check_takes_anchor_rows(*make("proxy_anchor")));
}

TEST(AnchoredLoss, AnchorRowsOutsideTheBatchAreRefused) {
  const Batch b = make_batch(11);
  std::unique_ptr<Loss> loss = make("contrastive");
  Generator gen(0);
  for (AnchorRows bad : {AnchorRows{-1, 3}, AnchorRows{4, 4}, AnchorRows{5, 2}, AnchorRows{0, 13}})
    expect_error([&] { anchored_loss(*loss, nullptr, b.embeddings, b.labels, bad, gen); },
                 {"anchored_loss", "anchor rows [" + std::to_string(bad.begin), "12 rows"});
}

}  // namespace
}  // namespace dml::test
