#include "dml/miners/tuples.h"

#include "base/dtype.h"

namespace dml::miners {

namespace {

// One field of the mined tuples as host indices, each inside the batch.
std::vector<int64_t> read_column(const Tensor& t, const Labels& labels, const char* who,
                                 const char* field) {
  DML_CHECK(t.defined(), who, ": the mined tuples lack '", field,
            "'; a miner must fill every field of the kind it reports");
  DML_CHECK(t.dtype() == DType::i64 && t.dim() == 1, who, ": mined '", field,
            "' must be an i64 [count] tensor, got ", describe(t));
  std::vector<int64_t> v = t.to_vector<int64_t>();
  for (size_t i = 0; i < v.size(); ++i)
    DML_CHECK(v[i] >= 0 && v[i] < int64_t(labels.size()), who, ": mined '", field, "' entry ", i,
              " is ", v[i], ", outside the batch of ", labels.size());
  return v;
}

void check_same_length(const char* who, const char* field, size_t n, const char* other, size_t m) {
  DML_CHECK(n == m, who, ": mined '", field, "' has ", n, " entries but '", other, "' has ", m);
}

void check_pair(const Labels& y, const char* who, bool positive, size_t i, int64_t a, int64_t b) {
  if (positive)
    DML_CHECK(a != b && y[a] == y[b], who, ": mined positive pair ", i, " (", a, ", ", b,
              ") is not two samples of one class (labels ", y[a], ", ", y[b],
              "); the miner is wrong");
  else
    DML_CHECK(y[a] != y[b], who, ": mined negative pair ", i, " (", a, ", ", b,
              ") joins two samples of class ", y[a], "; the miner is wrong");
}

Pairs read_pairs(const Labels& y, const MinedTuples& m, const char* who) {
  Pairs p;
  p.pos.anchor = read_column(m.pos_anchor, y, who, "pos_anchor");
  p.pos.other = read_column(m.positive, y, who, "positive");
  p.neg.anchor = read_column(m.neg_anchor, y, who, "neg_anchor");
  p.neg.other = read_column(m.negative, y, who, "negative");
  check_same_length(who, "positive", p.pos.other.size(), "pos_anchor", p.pos.anchor.size());
  check_same_length(who, "negative", p.neg.other.size(), "neg_anchor", p.neg.anchor.size());
  for (size_t i = 0; i < p.pos.size(); ++i)
    check_pair(y, who, true, i, p.pos.anchor[i], p.pos.other[i]);
  for (size_t i = 0; i < p.neg.size(); ++i)
    check_pair(y, who, false, i, p.neg.anchor[i], p.neg.other[i]);
  return p;
}

Triplets read_triplets(const Labels& y, const MinedTuples& m, const char* who) {
  Triplets t;
  t.anchor = read_column(m.anchor, y, who, "anchor");
  t.positive = read_column(m.triplet_positive, y, who, "triplet_positive");
  t.negative = read_column(m.triplet_negative, y, who, "triplet_negative");
  check_same_length(who, "triplet_positive", t.positive.size(), "anchor", t.anchor.size());
  check_same_length(who, "triplet_negative", t.negative.size(), "anchor", t.anchor.size());
  for (size_t i = 0; i < t.size(); ++i) {
    check_pair(y, who, true, i, t.anchor[i], t.positive[i]);
    check_pair(y, who, false, i, t.anchor[i], t.negative[i]);
  }
  return t;
}

}  // namespace

void check_batch(const Tensor& embeddings, const Tensor& labels, const char* who) {
  DML_CHECK(embeddings.defined() && embeddings.dim() == 2 && is_floating(embeddings.dtype()), who,
            ": embeddings must be a floating [batch, dim] tensor, got ",
            embeddings.defined() ? describe(embeddings) : std::string("an undefined tensor"));
  DML_CHECK(labels.defined() && labels.dtype() == DType::i64 && labels.dim() == 1 &&
                labels.size(0) == embeddings.size(0),
            who, ": labels must be an i64 [", embeddings.size(0),
            "] tensor (one per embedding), got ",
            labels.defined() ? describe(labels) : std::string("an undefined tensor"));
}

Labels batch_labels(const Tensor& embeddings, const Tensor& labels, const char* who) {
  check_batch(embeddings, labels, who);
  return labels.to_vector<int64_t>();
}

Pairs all_pairs(const Labels& y) {
  return anchored_pairs(y, 0, int64_t(y.size()));
}

Pairs anchored_pairs(const Labels& y, int64_t begin, int64_t end) {
  Pairs p;
  const int64_t b = int64_t(y.size());
  for (int64_t i = begin; i < end; ++i)
    for (int64_t j = 0; j < b; ++j) {
      if (i == j) continue;
      (y[i] == y[j] ? p.pos : p.neg).add(i, j);
    }
  return p;
}

Triplets all_triplets(const Labels& y) {
  Triplets t;
  const int64_t b = int64_t(y.size());
  for (int64_t a = 0; a < b; ++a)
    for (int64_t p = 0; p < b; ++p) {
      if (p == a || y[p] != y[a]) continue;
      for (int64_t n = 0; n < b; ++n)
        if (y[n] != y[a]) t.add(a, p, n);
    }
  return t;
}

Pairs pairs_for(const Labels& y, const MinedTuples* mined, const char* who) {
  if (!mined) return all_pairs(y);
  if (mined->kind == MinedTuples::Kind::pairs) return read_pairs(y, *mined, who);
  Triplets t = read_triplets(y, *mined, who);
  Pairs p;
  for (size_t i = 0; i < t.size(); ++i) {
    p.pos.add(t.anchor[i], t.positive[i]);
    p.neg.add(t.anchor[i], t.negative[i]);
  }
  return p;
}

Triplets triplets_for(const Labels& y, const MinedTuples* mined, const char* who) {
  if (!mined) return all_triplets(y);
  if (mined->kind == MinedTuples::Kind::triplets) return read_triplets(y, *mined, who);
  Pairs p = read_pairs(y, *mined, who);
  std::vector<std::vector<int64_t>> negatives_of(y.size());
  for (size_t j = 0; j < p.neg.size(); ++j)
    negatives_of[size_t(p.neg.anchor[j])].push_back(p.neg.other[j]);
  Triplets t;
  for (size_t i = 0; i < p.pos.size(); ++i)
    for (int64_t n : negatives_of[size_t(p.pos.anchor[i])])
      t.add(p.pos.anchor[i], p.pos.other[i], n);
  return t;
}

MinedTuples anchored_tuples(const Labels& y, const MinedTuples& mined, int64_t begin, int64_t end,
                            const char* who) {
  const auto anchored = [&](int64_t a) { return a >= begin && a < end; };
  if (mined.kind == MinedTuples::Kind::triplets) {
    const Triplets all = read_triplets(y, mined, who);
    Triplets kept;
    for (size_t i = 0; i < all.size(); ++i)
      if (anchored(all.anchor[i])) kept.add(all.anchor[i], all.positive[i], all.negative[i]);
    return mined_triplets(kept);
  }
  const Pairs all = read_pairs(y, mined, who);
  const auto keep = [&](const PairList& list) {
    PairList kept;
    for (size_t i = 0; i < list.size(); ++i)
      if (anchored(list.anchor[i])) kept.add(list.anchor[i], list.other[i]);
    return kept;
  };
  return mined_pairs(Pairs{keep(all.pos), keep(all.neg)});
}

Tensor index_tensor(const std::vector<int64_t>& v, Device device) {
  return from_vector(v, {int64_t(v.size())}, device);
}

MinedTuples mined_pairs(const Pairs& pairs) {
  MinedTuples m;
  m.kind = MinedTuples::Kind::pairs;
  m.pos_anchor = index_tensor(pairs.pos.anchor);
  m.positive = index_tensor(pairs.pos.other);
  m.neg_anchor = index_tensor(pairs.neg.anchor);
  m.negative = index_tensor(pairs.neg.other);
  return m;
}

MinedTuples mined_triplets(const Triplets& t) {
  MinedTuples m;
  m.kind = MinedTuples::Kind::triplets;
  m.anchor = index_tensor(t.anchor);
  m.triplet_positive = index_tensor(t.positive);
  m.triplet_negative = index_tensor(t.negative);
  return m;
}

}  // namespace dml::miners
