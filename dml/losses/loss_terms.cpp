#include "dml/losses/loss_terms.h"

#include <algorithm>
#include <limits>

#include "engine/ops.h"

namespace dml::losses {

void check_class_labels(const miners::Labels& labels, int64_t num_classes, const char* who) {
  for (size_t i = 0; i < labels.size(); ++i)
    DML_CHECK(labels[i] >= 0 && labels[i] < num_classes, who, ": label ", labels[i],
              " at batch index ", i, " is outside [0, ", num_classes,
              "); labels must be training-class indices (num_classes = ", num_classes, ")");
}

Tensor upper_triangle(int64_t n, int64_t offset, DType dtype, Device device) {
  std::vector<double> ones(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = std::max<int64_t>(i + offset, 0); j < n; ++j) ones[size_t(i * n + j)] = 1;
  return from_vector(ones, {n, n}, device).to(dtype);
}

Tensor sphere_distances(const Tensor& e, AnchorRows rows) {
  if (rows.begin == 0 && rows.end == e.size(0)) return sphere_distances(e);
  Tensor x = l2_normalize(e, 1);
  return pairwise_distance(x.slice(rows.begin, rows.end), x, Distance::euclidean);
}

Tensor sphere_similarities(const Tensor& e, AnchorRows rows) {
  if (rows.begin == 0 && rows.end == e.size(0)) return sphere_similarities(e);
  return cosine_similarities(e.slice(rows.begin, rows.end), e);
}

Tensor pick(const Tensor& m, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols,
            int64_t first_row) {
  const int64_t n = m.size(1);
  std::vector<int64_t> flat(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) flat[i] = (rows[i] - first_row) * n + cols[i];
  return index_select(m.reshape({m.numel()}), 0, index_tensor(flat, m.device()));
}

Tensor zero_loss(const Tensor& embeddings, const Loss& loss) {
  Tensor z = mul(sum(embeddings), 0.0);
  for (const Tensor& p : loss.parameters()) z = add(z, mul(sum(p).to(z.dtype()), 0.0));
  return z;
}

Tensor count_positive(const Tensor& v) {
  if (v.numel() == 0) return zeros({}, DType::f64, v.device());
  return sum(gt(v, zeros({}, v.dtype(), v.device())).to(DType::f64));
}

Tensor inverse_count(const Tensor& count, DType dtype) {
  return div(ones({}, DType::f64, count.device()), clamp(count, 1.0, std::nullopt)).to(dtype);
}

Tensor mean_of_positive(const Tensor& v) {
  if (v.numel() == 0) return zeros({}, v.dtype(), v.device());
  return sum(v) * inverse_count(count_positive(v), v.dtype());
}

Tensor log1p_exp(const Tensor& z) {
  return logsumexp(stack({z, zeros_like(z)}, 0), {0});
}

AnchorMasks anchor_masks(const miners::Pairs& pairs, AnchorRows rows, int64_t batch,
                         Device device) {
  const int64_t anchors = rows.end - rows.begin;
  std::vector<uint8_t> pos(size_t(anchors * batch), 0), neg(pos.size(), 0);
  std::vector<uint8_t> has_pos(size_t(anchors), 0), has_neg(size_t(anchors), 0);
  for (size_t i = 0; i < pairs.pos.size(); ++i) {
    const int64_t a = pairs.pos.anchor[i] - rows.begin;
    pos[size_t(a * batch + pairs.pos.other[i])] = 1;
    has_pos[size_t(a)] = 1;
  }
  for (size_t i = 0; i < pairs.neg.size(); ++i) {
    const int64_t a = pairs.neg.anchor[i] - rows.begin;
    neg[size_t(a * batch + pairs.neg.other[i])] = 1;
    has_neg[size_t(a)] = 1;
  }
  std::vector<uint8_t> valid(static_cast<size_t>(anchors), 0);
  AnchorMasks m;
  for (size_t a = 0; a < valid.size(); ++a) {
    valid[a] = has_pos[a] && has_neg[a];
    m.num_valid += valid[a];
  }
  m.pos = from_vector(pos, {anchors, batch}, device);
  m.neg = from_vector(neg, {anchors, batch}, device);
  m.valid = from_vector(valid, {anchors}, device);
  return m;
}

Tensor masked_logsumexp(const Tensor& x, const Tensor& mask, bool add_one) {
  const int64_t rows = x.size(0), cols = x.size(1);
  // A row with no entry would be log(0) = -inf, and its backward 0 * inf =
  // NaN; such rows take every entry instead (the caller ignores them).
  std::vector<uint8_t> keep = mask.to_vector<uint8_t>();
  if (!add_one)
    for (int64_t r = 0; r < rows; ++r) {
      auto row = keep.begin() + r * cols;
      if (std::find(row, row + cols, uint8_t(1)) == row + cols) std::fill(row, row + cols, 1);
    }
  Tensor minus_inf = full({}, -std::numeric_limits<double>::infinity(), x.dtype(), x.device());
  Tensor terms = where(from_vector(keep, {rows, cols}, x.device()), x, minus_inf);
  if (add_one) terms = concat({terms, zeros({rows, 1}, x.dtype(), x.device())}, 1);
  return logsumexp(terms, {1});
}

Tensor sum_over_valid(const Tensor& per_anchor, const AnchorMasks& masks) {
  return sum(where(masks.valid, per_anchor, zeros({}, per_anchor.dtype(), per_anchor.device())));
}

}  // namespace dml::losses
