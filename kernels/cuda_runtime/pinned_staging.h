#pragma once
// Large host<->device transfers go through a small cached pool of pinned
// (page-locked) host buffers, per device, in chunks: the DMA engine reads and
// writes pinned memory directly, so the copy of chunk k on the device's
// stream overlaps the host memcpy of chunk k + 1, and a host-to-device copy
// may return once its source is staged (its DMA still queued, ordered before
// any later work on the stream). Each buffer carries an event recorded after
// the copy that used it last; it is reused only once that event has passed
// (stream-ordered reuse). Buffers are allocated on first need, up to
// kStagingBuffers per device (more only while concurrent transfers hold all of
// them), and kept until empty_pinned_staging().
// kernels/cuda_runtime/device_memory.cpp routes every host-to-device copy here (a
// small one takes a whole buffer until its DMA has run), and device-to-host
// copies of kStagingMinBytes and more.
#include <cstddef>

#include "base/allocator.h"

namespace dml::cuda {

constexpr size_t kStagingChunkBytes = size_t(4) << 20;
constexpr size_t kStagingMinBytes = size_t(256) << 10;
// 32 buffers (128 MiB): a whole ResNet-50 224 px batch of 112 (67 MB, 17
// chunks) is staged without the host waiting for its DMA, which queues behind
// the step already on the stream (the trainer stages the next batch while
// the device runs the current forward; dml/train/trainer.cpp).
constexpr int kStagingBuffers = 32;

// Returns once `src` has been copied into staging buffers; the device copy
// completes in order on the device's stream.
void staged_host_to_device(void* dst, const void* src, size_t bytes, int device);
// Returns with the data in `dst`.
void staged_device_to_host(void* dst, const void* src, size_t bytes, int device);

// Staging buffers of the device, counted as the caching allocator counts its
// blocks: bytes held by transfers now and at most, bytes held idle, and how
// many times a buffer was handed to a transfer.
MemoryStats pinned_staging_stats(int device);
// Frees the idle buffers of every device (after their last copies finish).
void empty_pinned_staging();

}  // namespace dml::cuda
