#include "engine/cuda_graph.h"

#include "base/error.h"
#ifdef DML_WITH_CUDA
#include "kernels/cuda_runtime/capture.h"
#include "kernels/cuda_runtime/device_memory.h"
#endif

namespace dml {

#ifdef DML_WITH_CUDA

namespace {

// The generator of the capture this thread runs.
thread_local const Generator* t_draws = nullptr;

}  // namespace

CudaGraph::CudaGraph(Device device) : device_(device) {
  DML_CHECK(device.is_cuda(), "CudaGraph: ", device.str(),
            " is not a CUDA device; graphs capture work on a GPU");
  pool_ = cuda::new_private_pool(device.index);
}

CudaGraph::~CudaGraph() {
  cuda::destroy_graph(static_cast<cudaGraphExec_t>(exec_));
  try {
    cuda::release_private_pool(device_.index, pool_);
  } catch (...) {  // a destructor must not throw; the pool's blocks stay cached
  }
}

void CudaGraph::capture(const std::function<void()>& work, Generator* draws) {
  DML_CHECK(!exec_, "CudaGraph::capture: this graph is already captured; make a new one");
  const int dev = device_.index;
  GeneratorState start;
  if (draws) start = draws->state();
  counter_ = zeros({1}, DType::i64, device_);
  auto* counter = static_cast<uint64_t*>(counter_.raw_data());
  cuda::begin_capture(dev, pool_, draws ? counter : nullptr);
  t_draws = draws;
  try {
    work();
    if (draws) {
      draws_per_replay_ = draws->state().offset - start.offset;
      cuda::add_to_counter(counter, draws_per_replay_, dev);
    }
  } catch (...) {
    t_draws = nullptr;
    if (draws) draws->set_state(start);  // nothing was drawn: nothing ran
    try {
      cuda::destroy_graph(cuda::end_capture(dev));
    } catch (...) {  // the work's error is the one to report
    }
    throw;
  }
  t_draws = nullptr;
  exec_ = cuda::end_capture(dev);
  // Nothing has run yet: the first replay draws what the capture reserved.
  if (draws) draws->set_state(start);
  draws_ = draws;
  next_draw_ = start.offset;
}

void CudaGraph::replay() {
  DML_CHECK(exec_, "CudaGraph::replay: nothing captured yet; call capture() first");
  // The device counter moves by the replays' draws only: a draw from the
  // generator between replays would hand out numbers a later replay draws
  // again.
  DML_CHECK(!draws_ || draws_->state().offset == next_draw_, "CudaGraph::replay: the capture's ",
            "generator was drawn from since the last replay; the replays would repeat those "
            "numbers: draw eager work from another generator");
  cuda::launch_graph(static_cast<cudaGraphExec_t>(exec_), device_.index);
  if (draws_) next_draw_ = draws_->reserve(draws_per_replay_) + draws_per_replay_;
}

bool graph_capturing(Device device) {
  return device.is_cuda() && cuda::capturing(device.index);
}

const uint64_t* captured_draw_base(Device device, const Generator& gen) {
  if (!graph_capturing(device)) return nullptr;
  DML_CHECK(t_draws == &gen, "random draws while a CUDA graph is being captured on ", device.str(),
            " come from a generator the capture was not given; pass it to ",
            "CudaGraph::capture so every replay draws new numbers");
  return cuda::capture_counter(device.index);
}

#else

CudaGraph::CudaGraph(Device device) : device_(device) {
  throw Error("CudaGraph: this build has no CUDA backend (configure with -DDML_CUDA=ON)");
}
CudaGraph::~CudaGraph() = default;
void CudaGraph::capture(const std::function<void()>&, Generator*) {}
void CudaGraph::replay() {}
bool graph_capturing(Device) {
  return false;
}
const uint64_t* captured_draw_base(Device, const Generator&) {
  return nullptr;
}

#endif

}  // namespace dml
