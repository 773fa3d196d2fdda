#pragma once
// Reader and writer for safetensors files, the weight format of HuggingFace
// and of PyTorch users who export with it:
//
//   u64 little-endian N | N bytes of JSON header | data buffer
//
// The header is an object mapping each tensor name to
// {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets are
// relative to the start of the data buffer), plus an optional "__metadata__"
// object of string -> string. Tensor data is little-endian and row-major.
// Keys of an entry other than those three are ignored, as other readers do.
//
// The reader treats every file as hostile: the whole header is checked
// against the file size (dtypes, shapes, byte ranges that must tile the data
// buffer exactly, as the reference implementation requires) before any tensor
// is allocated or read. The writer writes a temporary file and renames it, so
// a failure never leaves a half-written file behind.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dml {

struct SafetensorsFile {
  NamedTensors tensors;  // in the order their data lies in the file
  std::map<std::string, std::string> metadata;
};

// Headers longer than this are refused before allocating: real headers are
// kilobytes (one short JSON entry per tensor).
constexpr uint64_t kSafetensorsMaxHeaderBytes = uint64_t(100) << 20;

// Reads every tensor as a CPU tensor of the matching dtype: F32, F64, F16,
// BF16, I32, I64, U8, and BOOL (as u8 holding 0/1). Any other dtype, and any
// malformed or inconsistent file, throws dml::Error whose message starts with
// the path.
SafetensorsFile read_safetensors(const std::string& path);

// Writes the tensors in the order given (u8 is written as U8), moving them to
// the CPU if needed. The JSON header is padded with spaces to a multiple of 8
// bytes so the data buffer starts 8-byte aligned, as the reference writer
// does. Writes `path + ".tmp"` and renames it over `path`; on any failure
// (bad name, unwritable directory, short write) throws dml::Error naming the
// path and leaves an existing file at `path` untouched.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace dml
