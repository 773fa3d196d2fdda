#pragma once
// CUDA graph capture of a device's stream: begin_capture makes the work the
// thread then queues on the stream a recording instead of running it (the
// caching allocator hands out blocks of a private pool meanwhile, which stay
// the graph's between replays), end_capture turns it into an executable
// graph that replay launches with one call. engine/cuda_graph.h is the API
// above it.
//
// What a replay cannot repeat is refused while capturing, by
// check_not_capturing: host<->device copies (a read's data and an upload's
// source are the host's at capture time only) and random fills drawn with
// host-side counters. Draws that must change per replay read a device
// counter the graph advances (capture_counter).
#include <cuda_runtime.h>

#include <cstdint>

namespace dml::cuda {

// True while the device's stream is being captured (by any thread).
bool capturing(int device);

// Throws "<what> while a CUDA graph is being captured on cuda:N: ..." when
// capturing; `what` names the operation and why it cannot be replayed.
void check_not_capturing(int device, const char* what);

// The counter the random draws of the current capture add to their own (0
// at the first replay, advanced by every replay); null when not capturing
// or when the capture has none.
const uint64_t* capture_counter(int device);

// Starts capturing the device's stream for this thread, its allocations
// going to the private pool `pool` (an id from new_private_pool; other
// threads' allocations on the device are refused meanwhile); `counter`, when
// not null, is what capture_counter returns meanwhile.
void begin_capture(int device, int pool, const uint64_t* counter);
// Ends the capture and returns the instantiated graph (the graph itself is
// destroyed once instantiated). On failure the capture is ended and the
// error names its cause.
cudaGraphExec_t end_capture(int device);
// Launches the graph on the device's stream.
void launch_graph(cudaGraphExec_t exec, int device);
void destroy_graph(cudaGraphExec_t exec);

// Queues counter += amount on the device's stream (captured: every replay adds).
void add_to_counter(uint64_t* counter, uint64_t amount, int device);

}  // namespace dml::cuda
