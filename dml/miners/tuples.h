#pragma once
// The tuples of a batch as host index lists: every valid pair or triplet that
// the labels allow, the tuples a miner found (checked against the labels),
// and conversions between the two kinds. Losses and miners both start here,
// so "valid" means the same thing everywhere: a positive pair joins two
// different samples of one class, a negative pair two samples of different
// classes, a triplet (a, p, n) a positive pair (a, p) and a negative pair
// (a, n).
#include <cstdint>
#include <vector>

#include "dml/miners/miner.h"
#include "engine/tensor.h"

namespace dml::miners {

using Labels = std::vector<int64_t>;

// Checks that embeddings is a floating [B, D] tensor and labels an i64 [B]
// one; `who` names the caller in errors.
void check_batch(const Tensor& embeddings, const Tensor& labels, const char* who);
// The labels as a host vector, after check_batch.
Labels batch_labels(const Tensor& embeddings, const Tensor& labels, const char* who);

struct PairList {
  std::vector<int64_t> anchor, other;
  size_t size() const { return anchor.size(); }
  void add(int64_t a, int64_t b) {
    anchor.push_back(a);
    other.push_back(b);
  }
};

struct Pairs {
  PairList pos, neg;
};

struct Triplets {
  std::vector<int64_t> anchor, positive, negative;
  size_t size() const { return anchor.size(); }
  void add(int64_t a, int64_t p, int64_t n) {
    anchor.push_back(a);
    positive.push_back(p);
    negative.push_back(n);
  }
};

// Every ordered valid pair (a, b), a != b, in row-major order of (a, b).
Pairs all_pairs(const Labels& labels);
// The pairs of all_pairs whose anchor a lies in rows [begin, end), found in
// O((end - begin) B) without listing the others.
Pairs anchored_pairs(const Labels& labels, int64_t begin, int64_t end);
// Every valid triplet, in lexicographic order of (a, p, n).
Triplets all_triplets(const Labels& labels);

// The pairs a pair-based loss uses: all of them when `mined` is null, else
// the mined pairs; mined triplets give their (a, p) and (a, n) pairs, one of
// each per triplet (repeats kept, as the miner weighted them).
Pairs pairs_for(const Labels& labels, const MinedTuples* mined, const char* who);
// The triplets a triplet-based loss uses: all of them when `mined` is null,
// else the mined triplets; mined pairs give every (a, p, n) whose (a, p) and
// (a, n) were both mined.
Triplets triplets_for(const Labels& labels, const MinedTuples* mined, const char* who);

// The tuples of `mined` (checked against the labels as pairs_for and
// triplets_for check them) whose anchor lies in rows [begin, end): pairs by
// pos_anchor and neg_anchor, triplets by anchor. Same kind, order kept.
MinedTuples anchored_tuples(const Labels& labels, const MinedTuples& mined, int64_t begin,
                            int64_t end, const char* who);

// i64 [count] index tensor on `device`.
Tensor index_tensor(const std::vector<int64_t>& v, Device device = Device::cpu());

// A miner's result from host lists.
MinedTuples mined_pairs(const Pairs& pairs);
MinedTuples mined_triplets(const Triplets& triplets);

}  // namespace dml::miners
