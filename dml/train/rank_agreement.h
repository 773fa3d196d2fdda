#pragma once
// What must be the same on every rank of a data-parallel run, checked: the
// parameters (every rank applies the same summed gradients to the same
// weights) and the cross-batch memory (every rank enqueues the same gathered
// rows). Each rank hashes the bytes of its tensors and the hashes are
// all-gathered, so a divergence (a collective that summed differently, a
// rank that skipped a step) ends the run naming the ranks, rather than
// training on with rank 0's checkpoint silently unlike the others' state.
// One process: nothing to check.
#include <string>
#include <vector>

#include "engine/distributed/communicator.h"
#include "engine/tensor.h"

namespace dml::train {

// `what` names the tensors in the error ("parameters", "cross-batch memory").
void check_ranks_agree(dist::Communicator& ranks, const std::vector<Tensor>& tensors,
                       const std::string& what);

}  // namespace dml::train
