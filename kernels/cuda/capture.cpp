#include "kernels/cuda/capture.h"

#include "engine/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda {

namespace {

// The capture this thread runs (the engine queues a device's work from one
// thread; the capture mode is thread-local, so loader threads are unaffected).
struct Capture {
  int device = -1;
  const uint64_t* counter = nullptr;
};
thread_local Capture t_capture;

}  // namespace

bool capturing(int device) {
  return t_capture.device == device;
}

void check_not_capturing(int device, const char* what) {
  DML_CHECK(!capturing(device), what, " while a CUDA graph is being captured on cuda:", device,
            ": a replay would repeat what the host did at capture time; do it before or after "
            "the captured work");
}

const uint64_t* capture_counter(int device) {
  return capturing(device) ? t_capture.counter : nullptr;
}

void begin_capture(int device, int pool, const uint64_t* counter) {
  DML_CHECK(t_capture.device < 0, "CUDA graph capture on cuda:", device,
            ": this thread is already capturing cuda:", t_capture.device, "; captures do not nest");
  cudaStream_t s = use_device(device);
  use_private_pool(device, pool);
  const cudaError_t status = cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  if (status != cudaSuccess) use_private_pool(device, 0);
  DML_CUDA_CHECK(status);
  t_capture = {device, counter};
}

cudaGraphExec_t end_capture(int device) {
  DML_CHECK(capturing(device), "end_capture: cuda:", device, " is not being captured");
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(use_device(device), &graph);
  t_capture = {};
  use_private_pool(device, 0);
  DML_CUDA_CHECK(ended);
  cudaGraphExec_t exec = nullptr;
  const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  DML_CUDA_CHECK(made);
  return exec;
}

void launch_graph(cudaGraphExec_t exec, int device) {
  DML_CUDA_CHECK(cudaGraphLaunch(exec, use_device(device)));
}

void destroy_graph(cudaGraphExec_t exec) {
  if (exec) cudaGraphExecDestroy(exec);
}

}  // namespace dml::cuda
