#include "kernels/cuda_runtime/capture.h"

#include <map>
#include <mutex>

#include "base/error.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/device_memory.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

namespace {

// The captures in progress, by device. The engine queues a device's work
// from one thread, but the device's stream is shared: while it is captured,
// work any thread queued there would be recorded instead of run, so the
// checks below refuse on every thread, not only the capturing one (the
// capture mode itself is thread-local, so other devices and host-only
// threads are unaffected).
struct Capture {
  const uint64_t* counter = nullptr;
};
std::mutex g_mu;
std::map<int, Capture> g_captures;

}  // namespace

bool capturing(int device) {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_captures.count(device) > 0;
}

void check_not_capturing(int device, const char* what) {
  DML_CHECK(!capturing(device), what, " while a CUDA graph is being captured on cuda:", device,
            ": a replay would repeat what the host did at capture time; do it before or after "
            "the captured work");
}

const uint64_t* capture_counter(int device) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_captures.find(device);
  return it == g_captures.end() ? nullptr : it->second.counter;
}

void begin_capture(int device, int pool, const uint64_t* counter) {
  DML_CHECK(!capturing(device), "CUDA graph capture on cuda:", device,
            ": the device is already being captured; captures do not nest");
  cudaStream_t s = use_device(device);
  use_private_pool(device, pool);
  const cudaError_t status = cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  if (status != cudaSuccess) use_private_pool(device, 0);
  DML_CUDA_CHECK(status);
  std::lock_guard<std::mutex> lock(g_mu);
  g_captures[device] = {counter};
}

cudaGraphExec_t end_capture(int device) {
  DML_CHECK(capturing(device), "end_capture: cuda:", device, " is not being captured");
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(use_device(device), &graph);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_captures.erase(device);
  }
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
