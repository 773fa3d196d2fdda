#pragma once
// cuDNN, the library behind the CUDA convolutions. For now: which library the
// process loaded, so a mismatch between the headers built against and the
// shared library found at run time (cuDNN installed twice: the toolkit's and
// PyTorch's wheel) shows up before any convolution runs.
#include <cstddef>

namespace dml::cuda {

// Version of the loaded libcudnn, as major * 10000 + minor * 100 + patch.
size_t cudnn_version();
// Version of the cudnn.h this build was compiled with, in the same form.
size_t cudnn_header_version();

}  // namespace dml::cuda
