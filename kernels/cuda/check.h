#pragma once
// Every CUDA runtime call goes through DML_CUDA_CHECK, which turns a failure
// into a dml::Error naming the call, file and line.
#include <cuda_runtime.h>

#include "engine/error.h"

#define DML_CUDA_CHECK(call)                                                                  \
  do {                                                                                        \
    cudaError_t dml_err_ = (call);                                                            \
    if (dml_err_ != cudaSuccess)                                                              \
      throw ::dml::Error(::dml::detail::concat(#call, " failed at ", __FILE__, ":", __LINE__, \
                                               ": ", cudaGetErrorString(dml_err_)));          \
  } while (0)
