#include "fairness/alignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::fairness {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The three statistics as running sums. Uniformity is a log-mean-exp kept as
// (peak, sum of exp(v - peak)) so that far-apart pairs (exp(-t d) below the
// smallest double) do not underflow it to -inf.
class PairSums {
 public:
  explicit PairSums(double t) : t_(t) {}

  void add_intra(double d) {
    intra_sum_ += d;
    ++intra_count_;
  }
  void add_inter(double d) {
    inter_sum_ += d;
    ++inter_count_;
  }
  void add_any(double d) {
    const double v = -t_ * d;
    if (v <= peak_) {
      scaled_sum_ += std::exp(v - peak_);
    } else {
      scaled_sum_ = scaled_sum_ * std::exp(peak_ - v) + 1.0;
      peak_ = v;
    }
    ++any_count_;
  }

  AlignmentStats result(bool sampled) const {
    return {intra_count_ ? intra_sum_ / double(intra_count_) : kNaN,
            inter_count_ ? inter_sum_ / double(inter_count_) : kNaN,
            any_count_ ? std::log(scaled_sum_ / double(any_count_)) + peak_ : kNaN, sampled};
  }

 private:
  double t_;
  double intra_sum_ = 0, inter_sum_ = 0;
  int64_t intra_count_ = 0, inter_count_ = 0;
  double peak_ = -std::numeric_limits<double>::infinity(), scaled_sum_ = 0;
  int64_t any_count_ = 0;
};

// Every pair i < j, tile by tile: rows [a, a + tile) against rows [b, b + tile)
// for b >= a, so each pair is visited once.
AlignmentStats exact_stats(const Tensor& x, const std::vector<int64_t>& labels, double t) {
  NoGradGuard no_grad;
  const int64_t n = x.size(0);
  PairSums sums(t);
  for (int64_t a = 0; a < n; a += kAlignmentTileRows) {
    const int64_t rows_a = std::min(kAlignmentTileRows, n - a);
    const Tensor tile_a = x.slice(a, a + rows_a);
    for (int64_t b = a; b < n; b += kAlignmentTileRows) {
      const int64_t rows_b = std::min(kAlignmentTileRows, n - b);
      const Tensor d2 =
          pairwise_distance(tile_a, x.slice(b, b + rows_b), Distance::squared_euclidean);
      const double* d = d2.data<double>();
      for (int64_t i = 0; i < rows_a; ++i) {
        const int64_t label = labels[size_t(a + i)];
        for (int64_t j = (a == b ? i + 1 : 0); j < rows_b; ++j) {
          const double dist = d[i * rows_b + j];
          if (labels[size_t(b + j)] == label)
            sums.add_intra(dist);
          else
            sums.add_inter(dist);
          sums.add_any(dist);
        }
      }
    }
  }
  return sums.result(/*sampled=*/false);
}

enum class PairKind { same_class, different_class, any };

// The rows sorted by class, so that a class is a contiguous range.
struct ClassRanges {
  std::vector<int64_t> order;        // sorted position -> row
  std::vector<int64_t> start, size;  // per class, in sorted positions
  int64_t partners(PairKind kind, size_t c) const {
    const int64_t n = int64_t(order.size());
    switch (kind) {
      case PairKind::same_class:
        return size[c] - 1;
      case PairKind::different_class:
        return n - size[c];
      case PairKind::any:
        break;
    }
    return n - 1;
  }
};

ClassRanges class_ranges(const std::vector<int64_t>& labels) {
  ClassRanges r;
  r.order.resize(labels.size());
  std::iota(r.order.begin(), r.order.end(), int64_t{0});
  std::stable_sort(r.order.begin(), r.order.end(),
                   [&](int64_t a, int64_t b) { return labels[size_t(a)] < labels[size_t(b)]; });
  for (size_t p = 0; p < r.order.size(); ++p) {
    if (p == 0 || labels[size_t(r.order[p])] != labels[size_t(r.order[p - 1])]) {
      r.start.push_back(int64_t(p));
      r.size.push_back(0);
    }
    ++r.size.back();
  }
  return r;
}

double squared_distance(const double* u, const double* v, int64_t dim) {
  double s = 0;
  for (int64_t k = 0; k < dim; ++k) s += (u[k] - v[k]) * (u[k] - v[k]);
  return s;
}

// Draws `count` ordered pairs (i, j) of one kind uniformly: i's class c with
// probability proportional to size(c) * partners(c), i uniform in c, j
// uniform among i's partners. Uniform over ordered pairs is uniform over
// unordered ones. Each draw takes one Philox block: 64 bits pick the class,
// 32 bits each pick i and j (modulo bias below n / 2^32). Calls add(d) per
// draw; nothing when the kind has no pair.
template <class Add>
void sample_pairs(const ClassRanges& ranges, const double* x, int64_t dim, PairKind kind,
                  int64_t count, Generator& gen, Add add) {
  std::vector<double> cumulative;
  size_t last_drawable = 0;
  double total = 0;
  for (size_t c = 0; c < ranges.size.size(); ++c) {
    const double weight = double(ranges.size[c]) * double(ranges.partners(kind, c));
    if (weight > 0) last_drawable = c;
    total += weight;
    cumulative.push_back(total);
  }
  if (total == 0) return;
  const uint64_t first = gen.reserve(uint64_t(count));
  for (int64_t s = 0; s < count; ++s) {
    const PhiloxBlock r = philox4x32_10(first + uint64_t(s), gen.seed());
    const double u = uniform_f64(r[0], r[1]) * total;
    const size_t c = std::min(
        size_t(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin()),
        last_drawable);
    const int64_t start = ranges.start[c], size = ranges.size[c];
    const int64_t i = start + int64_t(r[2] % uint64_t(size));
    const int64_t p = int64_t(r[3] % uint64_t(ranges.partners(kind, c)));
    int64_t j = 0;
    switch (kind) {
      case PairKind::same_class:
        j = start + p >= i ? start + p + 1 : start + p;
        break;
      case PairKind::different_class:
        j = p < start ? p : p + size;
        break;
      case PairKind::any:
        j = p >= i ? p + 1 : p;
        break;
    }
    add(squared_distance(x + ranges.order[size_t(i)] * dim, x + ranges.order[size_t(j)] * dim,
                         dim));
  }
}

AlignmentStats sampled_stats(const Tensor& x, const std::vector<int64_t>& labels, double t,
                             int64_t max_pairs, Generator& gen) {
  const ClassRanges ranges = class_ranges(labels);
  const double* data = x.data<double>();
  const int64_t dim = x.size(1);
  PairSums sums(t);
  sample_pairs(ranges, data, dim, PairKind::same_class, max_pairs, gen,
               [&](double d) { sums.add_intra(d); });
  sample_pairs(ranges, data, dim, PairKind::different_class, max_pairs, gen,
               [&](double d) { sums.add_inter(d); });
  sample_pairs(ranges, data, dim, PairKind::any, max_pairs, gen,
               [&](double d) { sums.add_any(d); });
  return sums.result(/*sampled=*/true);
}

}  // namespace

AlignmentStats alignment_stats(const Tensor& embeddings, const std::vector<int64_t>& labels,
                               double t, int64_t max_pairs, Generator& gen) {
  DML_CHECK(
      embeddings.dim() == 2 && embeddings.dtype() == DType::f64 && embeddings.device().is_cpu(),
      "alignment_stats: embeddings must be f64 [n, D] on the CPU, got ", describe(embeddings));
  DML_CHECK(int64_t(labels.size()) == embeddings.size(0), "alignment_stats: ", labels.size(),
            " labels for ", embeddings.size(0), " rows; pass one label per row");
  DML_CHECK(max_pairs >= 1, "alignment_stats: max_pairs = ", max_pairs, " must be >= 1");
  const int64_t n = embeddings.size(0);
  const double pairs = double(n) * double(n - 1) / 2;
  if (pairs <= double(max_pairs)) return exact_stats(embeddings, labels, t);
  return sampled_stats(embeddings, labels, t, max_pairs, gen);
}

}  // namespace dml::fairness
