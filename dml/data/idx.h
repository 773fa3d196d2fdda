#pragma once
// Reader for IDX files, the format of MNIST and Fashion-MNIST: a big-endian
// magic (two zero bytes, a type code, a dimension count), one big-endian u32
// per dimension, then the elements in row-major order. Only the unsigned-byte
// type is read, as 1-D label files and 3-D image files. Files may be plain or
// gzip-compressed. The input is treated as hostile: every header field is
// checked and the file must hold exactly the bytes the header promises.
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace dml::data {

// Magic numbers of the two IDX variants the datasets use.
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // u8 [n]
constexpr uint32_t kIdxImagesMagic = 0x00000803;  // u8 [n, rows, cols]

// Refuse headers promising more than this, before allocating: far above any
// dataset read this way (Fashion-MNIST's training images are 47 MB).
constexpr uint64_t kIdxMaxBytes = uint64_t(1) << 31;

struct IdxArray {
  std::string path;
  Tensor values;  // u8, shaped as the header says: [n] or [n, rows, cols]
};

// Reads a u8 IDX file with 1 or 3 dimensions. Throws dml::Error naming the
// file on an open or gzip error, a bad magic or size, or a length mismatch.
IdxArray read_idx(const std::string& path);

// As read_idx, and also checks the kind of file.
IdxArray read_idx_images(const std::string& path);  // [n, rows, cols]
IdxArray read_idx_labels(const std::string& path);  // [n]

}  // namespace dml::data
