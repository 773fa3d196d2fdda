#pragma once
// Data-parallel gradients: the sum over ranks of every parameter's
// gradient, in buckets started during backward, the way PyTorch's DDP
// overlaps communication with computation. Parameters are bucketed in
// reverse order (the order backward finishes them) up to bucket_mb each;
// a bucket's all-reduce starts as soon as all of its gradients are final
// (autograd's LeafGradReady), and finish() waits for the rest and writes
// the sums back. Every rank builds the same buckets from the same list.
#include <memory>
#include <vector>

#include "engine/autograd.h"
#include "engine/distributed/communicator.h"

namespace dml::dist {

class GradientReducer {
 public:
  GradientReducer(Communicator& comm, std::vector<Tensor> params, double bucket_mb);
  ~GradientReducer();

  // Root's parameter values on every rank (the start of a run, a resume).
  void broadcast_parameters(int root = 0);

  // Starts buckets as their gradients become final during backward calls
  // on this thread while the returned scope lives.
  std::unique_ptr<LeafGradReadyScope> watch();
  // Waits for every bucket (starting those backward left), then each
  // parameter's gradient is the sum over ranks. A parameter with no
  // gradient on some rank counts as zeros there and gets the sum.
  void finish();

  int64_t buckets() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dml::dist
