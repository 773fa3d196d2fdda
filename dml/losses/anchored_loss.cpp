#include "dml/losses/anchored_loss.h"

#include "dml/miners/tuples.h"

namespace dml::losses {

namespace {

constexpr const char* kWho = "anchored_loss";

// The loss of a batch whose every row anchors: what one process computes.
Tensor whole_batch_loss(Loss& loss, miners::Miner* miner, const Tensor& embeddings,
                        const Tensor& labels, Generator& gen) {
  return miner ? loss.forward_mined(embeddings, labels, *miner, gen)
               : loss.forward(embeddings, labels);
}

// The tuples anchored in the rows: the miner's on the whole set (so its
// choices see every candidate), or every valid pair. Pairs serve the triplet
// losses too, which make every (a, p, n) of an anchor's pairs.
miners::MinedTuples anchored_tuples(miners::Miner* miner, const Tensor& embeddings,
                                    const Tensor& labels, AnchorRows anchors, Generator& gen) {
  const miners::Labels y = labels.to_vector<int64_t>();
  if (!miner) return miners::mined_pairs(miners::anchored_pairs(y, anchors.begin, anchors.end));
  return miners::anchored_tuples(y, miner->mine(embeddings.detach(), labels, gen), anchors.begin,
                                 anchors.end, kWho);
}

}  // namespace

void check_takes_anchor_rows(const Loss& loss) {
  DML_CHECK(!loss.uses_tuples() || loss.takes_anchor_rows(), kWho, ": loss ", loss.describe(),
            " cannot take anchor rows (the other rows would not act as its candidates); use "
            "distributed.objective=global and loss.xbm_size=0, or another loss");
}

Tensor anchored_loss(Loss& loss, miners::Miner* miner, const Tensor& embeddings,
                     const Tensor& labels, AnchorRows anchors, Generator& gen) {
  miners::check_batch(embeddings, labels, kWho);
  const int64_t rows = embeddings.size(0);
  DML_CHECK(anchors.begin >= 0 && anchors.begin < anchors.end && anchors.end <= rows, kWho,
            ": the anchor rows [", anchors.begin, ", ", anchors.end,
            ") must be a non-empty range inside the ", rows,
            " rows of the embeddings; the caller's row bookkeeping is wrong");
  if (anchors.begin == 0 && anchors.end == rows)
    return whole_batch_loss(loss, miner, embeddings, labels, gen);
  if (!loss.uses_tuples())
    return whole_batch_loss(loss, miner, embeddings.slice(anchors.begin, anchors.end),
                            labels.slice(anchors.begin, anchors.end), gen);
  check_takes_anchor_rows(loss);
  const miners::MinedTuples tuples = anchored_tuples(miner, embeddings, labels, anchors, gen);
  return loss.forward_anchored(embeddings, labels, tuples, anchors.begin, anchors.end);
}

}  // namespace dml::losses
