#pragma once
// NumPy's .npy format (version 1.0): a magic, a Python-dict header with
// dtype, order and shape, then the raw little-endian elements. `dml embed`
// writes embeddings and labels this way so numpy.load reads them directly.
#include <string>

#include "engine/atomic_file.h"
#include "engine/tensor.h"

namespace dml {

// f32, f64, i32, i64 or u8; written atomically (see atomic_file.h).
void write_npy(const std::string& path, const Tensor& t);
// The same bytes into an open AtomicFile for `path` (one of several files
// written together, write_files_atomically); the caller commits it.
void write_npy_to(AtomicFile& out, const std::string& path, const Tensor& t);

// Reads what write_npy writes (C order, little-endian, those dtypes). A
// malformed header or a size that disagrees with the file is an error naming
// the file.
Tensor read_npy(const std::string& path);

}  // namespace dml
