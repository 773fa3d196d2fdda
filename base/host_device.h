#pragma once
// Marks a function that both the host and CUDA kernels call, so the CPU and
// the GPU compute an element with the same code. Empty outside nvcc.
#ifdef __CUDACC__
#define DML_HOST_DEVICE __host__ __device__
#else
#define DML_HOST_DEVICE
#endif
