// The cross-batch memory (dml/losses/cross_batch_memory.h): a ring of the
// last rows, oldest first after any wrap, a batch longer than the memory,
// the empty memory, its state round trip bit for bit and hostile states; and
// the memory's loss as training composes it (the batch's rows anchoring
// against the batch and the memory) against pairs written out here, with no
// gradient reaching the memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/contrastive.h"
#include "dml/losses/cross_batch_memory.h"
#include "engine/ops.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

using losses::CrossBatchMemory;

constexpr int64_t kDim = 3;

// Rows first..first + n - 1, row r holding (r, r + 0.25, r + 0.5), label 100 + r.
struct Rows {
  Tensor embeddings, labels;
};
Rows rows(int64_t first, int64_t n) {
  std::vector<float> e;
  std::vector<int64_t> y;
  for (int64_t r = first; r < first + n; ++r) {
    for (int64_t k = 0; k < kDim; ++k) e.push_back(float(r) + 0.25f * float(k));
    y.push_back(100 + r);
  }
  return {from_vector(e, {n, kDim}), from_vector(y, {n})};
}

// The row numbers the memory holds, oldest first (checking each row and label).
std::vector<int64_t> held(const CrossBatchMemory& m) {
  const Tensor e = m.embeddings(), y = m.labels();
  EXPECT_EQ(e.shape(), (Shape{m.count(), kDim}));
  EXPECT_EQ(y.shape(), (Shape{m.count()}));
  EXPECT_EQ(e.dtype(), DType::f32);
  EXPECT_EQ(y.dtype(), DType::i64);
  const std::vector<float> values = e.to_vector<float>();
  const std::vector<int64_t> labels = y.to_vector<int64_t>();
  std::vector<int64_t> out;
  for (int64_t i = 0; i < m.count(); ++i) {
    const int64_t r = labels[size_t(i)] - 100;
    for (int64_t k = 0; k < kDim; ++k)
      EXPECT_EQ(values[size_t(i * kDim + k)], float(r) + 0.25f * float(k)) << "row " << i;
    out.push_back(r);
  }
  return out;
}

void enqueue(CrossBatchMemory& m, int64_t first, int64_t n) {
  const Rows r = rows(first, n);
  m.enqueue(r.embeddings, r.labels);
}

TEST(CrossBatchMemory, StartsEmpty) {
  CrossBatchMemory m(4, kDim, Device::cpu());
  EXPECT_EQ(m.count(), 0);
  EXPECT_EQ(m.capacity(), 4);
  EXPECT_EQ(held(m), std::vector<int64_t>{});
  enqueue(m, 0, 0);
  EXPECT_EQ(m.count(), 0);
}

TEST(CrossBatchMemory, KeepsTheLastRowsOldestFirstAcrossTheWrap) {
  CrossBatchMemory m(5, kDim, Device::cpu());
  enqueue(m, 0, 3);
  EXPECT_EQ(held(m), (std::vector<int64_t>{0, 1, 2}));
  enqueue(m, 3, 2);  // exactly full
  EXPECT_EQ(held(m), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  enqueue(m, 5, 3);  // wraps
  EXPECT_EQ(held(m), (std::vector<int64_t>{3, 4, 5, 6, 7}));
  enqueue(m, 8, 4);  // wraps again, across the ring's end
  EXPECT_EQ(held(m), (std::vector<int64_t>{7, 8, 9, 10, 11}));
}

TEST(CrossBatchMemory, ABatchLongerThanTheMemoryKeepsItsLastRows) {
  CrossBatchMemory m(4, kDim, Device::cpu());
  enqueue(m, 0, 3);
  enqueue(m, 10, 9);
  EXPECT_EQ(held(m), (std::vector<int64_t>{15, 16, 17, 18}));
  enqueue(m, 30, 2);
  EXPECT_EQ(held(m), (std::vector<int64_t>{17, 18, 30, 31}));
}

// Rows of any floating type land as f32; the memory keeps no autograd history.
TEST(CrossBatchMemory, StoresDetachedF32Rows) {
  CrossBatchMemory m(4, kDim, Device::cpu());
  Rows r = rows(0, 2);
  Tensor e = r.embeddings.to(DType::f64);
  e.requires_grad_();
  m.enqueue(e * 1.0, r.labels);
  EXPECT_EQ(held(m), (std::vector<int64_t>{0, 1}));
  EXPECT_FALSE(m.embeddings().requires_grad());
}

TEST(CrossBatchMemory, RefusesRowsOfTheWrongShapeOrType) {
  CrossBatchMemory m(4, kDim, Device::cpu());
  const Rows r = rows(0, 2);
  expect_error(
      [&] {
        m.enqueue(zeros({2, kDim + 1}), r.labels);
      },
      {"CrossBatchMemory::enqueue", "f32[2, 4]", "embedding size 3"});
  expect_error([&] { m.enqueue(r.embeddings, r.labels.to(DType::f64)); },
               {"CrossBatchMemory::enqueue", "labels must be an i64 [2]"});
  expect_error([&] { m.enqueue(r.embeddings, rows(0, 3).labels); },
               {"CrossBatchMemory::enqueue", "labels must be an i64 [2]"});
  expect_error(
      [&] {
        m.enqueue(zeros({2, kDim}, DType::i64), r.labels);
      },
      {"CrossBatchMemory::enqueue", "floating"});
  EXPECT_EQ(m.count(), 0);
  expect_error([] { CrossBatchMemory(0, kDim, Device::cpu()); },
               {"CrossBatchMemory", "capacity 0", "loss.xbm_size"});
}

// ---- state ----

TEST(CrossBatchMemory, StateRoundTripsBitForBitAndContinuesTheRing) {
  CrossBatchMemory m(5, kDim, Device::cpu());
  enqueue(m, 0, 4);
  enqueue(m, 4, 3);  // wrapped: rows 2..6
  const NamedTensors state = m.state_dict();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "xbm.embeddings");
  EXPECT_EQ(state[1].first, "xbm.labels");
  CrossBatchMemory resumed(5, kDim, Device::cpu());
  resumed.load_state_dict(state);
  EXPECT_EQ(held(resumed), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  const Tensor saved = state[0].second;
  EXPECT_EQ(0, std::memcmp(resumed.embeddings().raw_data(), saved.raw_data(), saved.nbytes()));
  // Both continue alike: the resumed ring drops its oldest rows next.
  enqueue(m, 7, 2);
  enqueue(resumed, 7, 2);
  EXPECT_EQ(held(resumed), (std::vector<int64_t>{4, 5, 6, 7, 8}));
  EXPECT_EQ(held(resumed), held(m));
  // The state was a snapshot: the enqueues left it alone.
  EXPECT_EQ(state[1].second.to_vector<int64_t>(), (std::vector<int64_t>{102, 103, 104, 105, 106}));

  // A partly filled memory and an empty one round trip too.
  CrossBatchMemory partial(5, kDim, Device::cpu()), empty(5, kDim, Device::cpu());
  enqueue(partial, 0, 2);
  CrossBatchMemory into(5, kDim, Device::cpu());
  into.load_state_dict(partial.state_dict());
  enqueue(into, 2, 4);
  EXPECT_EQ(held(into), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  into.load_state_dict(empty.state_dict());
  EXPECT_EQ(into.count(), 0);
}

TEST(CrossBatchMemory, HostileStatesAreRefusedNamingTheTensorAndChangeNothing) {
  CrossBatchMemory source(6, kDim, Device::cpu());
  enqueue(source, 0, 6);
  const NamedTensors good = source.state_dict();
  const Tensor e = good[0].second, y = good[1].second;
  struct Case {
    std::string what;
    NamedTensors state;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases{
      {"missing labels", {{"xbm.embeddings", e}}, {"lacks 'xbm.labels'"}},
      {"missing embeddings", {{"xbm.labels", y}}, {"lacks 'xbm.embeddings'"}},
      {"unknown name", {good[0], good[1], {"xbm.extra", y}}, {"unexpected tensor 'xbm.extra'"}},
      {"twice", {good[0], good[1], good[1]}, {"'xbm.labels' appears twice"}},
      {"f64 rows", {{"xbm.embeddings", e.to(DType::f64)}, good[1]}, {"'xbm.embeddings'", "f32"}},
      {"other size", {{"xbm.embeddings", zeros({6, kDim + 1})}, good[1]}, {"'xbm.embeddings'"}},
      {"one-dimensional", {{"xbm.embeddings", zeros({6})}, good[1]}, {"'xbm.embeddings'"}},
      {"too many rows", {good[0], good[1]}, {"'xbm.embeddings'", "6 rows", "capacity 4"}},
      {"f32 labels", {good[0], {"xbm.labels", y.to(DType::f32)}}, {"'xbm.labels'", "i64 [6]"}},
      {"short labels", {good[0], {"xbm.labels", y.slice(0, 5)}}, {"'xbm.labels'", "i64 [6]"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const int64_t capacity = c.what == "too many rows" ? 4 : 8;
    CrossBatchMemory m(capacity, kDim, Device::cpu());
    enqueue(m, 40, 3);
    std::vector<std::string> fragments{"CrossBatchMemory::load_state_dict"};
    fragments.insert(fragments.end(), c.fragments.begin(), c.fragments.end());
    expect_error([&] { m.load_state_dict(c.state); }, fragments);
    EXPECT_EQ(held(m), (std::vector<int64_t>{40, 41, 42}));
  }
}

// ---- the memory's loss ----

// Training's composition: the batch's rows anchor against the batch and the
// memory's rows (oldest after the batch), here with the contrastive loss,
// against its two hinge means over the explicit pairs (an anchor of the
// batch, any other row); no gradient reaches the rows of past batches.
TEST(CrossBatchMemory, ContrastiveLossOfTheBatchAgainstTheMemory) {
  const int64_t batch = 6, dim = 4;
  const losses::ContrastiveParams p{0.2, 0.9};
  losses::ContrastiveLoss loss(p);
  CrossBatchMemory memory(10, dim, Device::cpu());
  Generator data(3), gen(0);
  std::vector<Tensor> past;
  const auto labels_of = [](int64_t step) {
    std::vector<int64_t> y;
    for (int64_t i = 0; i < batch; ++i) y.push_back((i + step) % 4);
    return from_vector(y, {batch});
  };
  for (int64_t step = 0; step < 3; ++step) {
    Tensor e = randn({batch, dim}, DType::f32, &data);
    e.requires_grad_();
    const Tensor y = labels_of(step);
    const Tensor all = concat({e, memory.embeddings()}, 0);
    const Tensor all_labels = concat({y, memory.labels()}, 0);
    const Tensor value = losses::anchored_loss(loss, nullptr, all, all_labels, {0, batch}, gen);

    // The reference over explicit pairs, in f64.
    const int64_t n = all.size(0);
    const std::vector<float> v = all.detach().to_vector<float>();
    const std::vector<int64_t> labels = all_labels.to_vector<int64_t>();
    const auto unit = [&](int64_t r, int64_t k) {
      double norm = 0;
      for (int64_t j = 0; j < dim; ++j)
        norm += double(v[size_t(r * dim + j)]) * v[size_t(r * dim + j)];
      return double(v[size_t(r * dim + k)]) / std::sqrt(norm);
    };
    double pos_sum = 0, neg_sum = 0;
    int64_t pos_active = 0, neg_active = 0;
    for (int64_t a = 0; a < batch; ++a)
      for (int64_t c = 0; c < n; ++c) {
        if (c == a) continue;
        double d2 = 0;
        for (int64_t k = 0; k < dim; ++k) d2 += std::pow(unit(a, k) - unit(c, k), 2);
        const double d = std::sqrt(d2);
        if (labels[size_t(a)] == labels[size_t(c)]) {
          const double t = std::max(d - p.pos_margin, 0.0);
          pos_sum += t;
          pos_active += t > 0;
        } else {
          const double t = std::max(p.neg_margin - d, 0.0);
          neg_sum += t;
          neg_active += t > 0;
        }
      }
    const double want = pos_sum / double(std::max<int64_t>(pos_active, 1)) +
                        neg_sum / double(std::max<int64_t>(neg_active, 1));
    EXPECT_NEAR(value.item(), want, 1e-5) << "step " << step;

    value.backward();
    ASSERT_TRUE(e.grad().defined()) << "step " << step;
    for (const Tensor& old : past) EXPECT_FALSE(old.grad().defined()) << "step " << step;
    memory.enqueue(e, y);
    e.zero_grad();
    past.push_back(e);
  }
  EXPECT_EQ(memory.count(), 10);
}

}  // namespace
}  // namespace dml::test
