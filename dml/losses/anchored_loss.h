#pragma once
// A tuple loss whose anchors are some rows of the batch and whose
// candidates are all of them: the local objective of several ranks (own
// rows against every rank's) and the cross-batch memory (the batch against
// itself and past batches). The miner, if any, mines the whole set and the
// tuples whose anchor lies outside the anchor rows are dropped; without a
// miner every valid tuple with an anchor there is used. A loss without
// tuples (proxy and classification losses) takes the anchor rows alone.
#include <cstdint>

#include "dml/losses/loss.h"

namespace dml::losses {

struct AnchorRows {
  int64_t begin = 0, end = 0;  // [begin, end) of the rows
};

// embeddings [N, D] (rows outside `anchors` may be detached), labels i64 [N].
// With anchors covering every row and no memory this is
// loss.forward_mined / loss.forward exactly.
Tensor anchored_loss(Loss& loss, miners::Miner* miner, const Tensor& embeddings,
                     const Tensor& labels, AnchorRows anchors, Generator& gen);

// Throws, naming the loss and the settings that avoid anchor rows, unless
// anchored_loss takes `loss` with anchor rows short of the whole batch (as
// it refuses at the first such step; a run can check before it starts).
void check_takes_anchor_rows(const Loss& loss);

}  // namespace dml::losses
