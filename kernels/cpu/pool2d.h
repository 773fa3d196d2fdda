#pragma once
// Max and average pooling over NCHW planes. Every pooling variant (fixed
// kernel with stride and padding, adaptive) is described by per-axis windows:
// output row oy reads input rows [begin, end) and an average divides by the
// product of the two axes' `divisor` lengths (which counts padding where
// PyTorch's count_include_pad does).
#include <cstdint>
#include <vector>

namespace dml::cpu {

struct PoolWindow {
  int64_t begin, end, divisor;
};

// Windows of a fixed kernel: begin = o * stride - pad, clipped to the input.
std::vector<PoolWindow> fixed_windows(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                      int64_t pad);
// Adaptive windows: [floor(o * in / out), ceil((o + 1) * in / out)).
std::vector<PoolWindow> adaptive_windows(int64_t in, int64_t out);

// planes = N * C. argmax (flat index within the plane) is written for max pooling.
template <class T>
void max_pool2d_forward(const T* x, int64_t planes, int64_t h, int64_t w,
                        const std::vector<PoolWindow>& wy, const std::vector<PoolWindow>& wx, T* y,
                        int64_t* argmax);
template <class T>
void max_pool2d_backward(const T* dy, const int64_t* argmax, int64_t planes, int64_t h, int64_t w,
                         int64_t out_hw, T* dx);
template <class T>
void avg_pool2d_forward(const T* x, int64_t planes, int64_t h, int64_t w,
                        const std::vector<PoolWindow>& wy, const std::vector<PoolWindow>& wx, T* y);
template <class T>
void avg_pool2d_backward(const T* dy, int64_t planes, int64_t h, int64_t w,
                         const std::vector<PoolWindow>& wy, const std::vector<PoolWindow>& wx,
                         T* dx);

}  // namespace dml::cpu
