#pragma once
// A reader for MATLAB v5 MAT-files (the format of `save -v7` and of
// scipy.io.savemat), enough for dataset annotations such as Cars196's
// cars_annos.mat: numeric arrays of every class, char arrays, cell arrays and
// struct arrays, stored plain or zlib-compressed (miCOMPRESSED).
//
// The file is treated as hostile: every tag's length is checked against the
// bytes that hold it, counts are checked against the dimensions before
// anything is allocated, decompression stops at kMatMaxBytes and nesting at
// kMatMaxDepth. Not read (each throws saying so): v7.3 files (HDF5), v4
// files, big-endian files, complex, sparse, object and function arrays.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dml::data {

// Refuse files, and compressed variables, larger than this (cars_annos.mat is
// 0.5 MB).
constexpr uint64_t kMatMaxBytes = uint64_t(1) << 30;
// Cells and structs nested deeper than this are refused.
constexpr int kMatMaxDepth = 32;

// MATLAB's array classes (mxClassID).
enum class MatClass : uint8_t {
  cell = 1,
  structure = 2,
  object = 3,
  character = 4,
  sparse = 5,
  f64 = 6,
  f32 = 7,
  i8 = 8,
  u8 = 9,
  i16 = 10,
  u16 = 11,
  i32 = 12,
  u32 = 13,
  i64 = 14,
  u64 = 15,
};

struct MatArray {
  MatClass type = MatClass::f64;
  std::vector<int64_t> dims;  // at least 2, as MATLAB stores them
  bool logical = false;       // a logical array (stored as u8)

  // Numeric classes: the values, column-major. 64-bit integers beyond 2^53
  // lose precision.
  std::vector<double> numbers;
  // character: one entry per MATLAB char (a UTF-16 code unit, or a code point
  // when the file stores UTF-8), column-major.
  std::vector<char32_t> chars;
  // cell: the elements, column-major.
  std::vector<MatArray> cells;
  // structure: the field names, and element e's field f at
  // fields[e * field_names.size() + f] (elements column-major).
  std::vector<std::string> field_names;
  std::vector<MatArray> fields;

  int64_t numel() const;
  bool is_numeric() const;

  // Checked access; `what` names the value in the error ("cars_annos.mat:
  // annotations(3).class").
  double scalar(std::string_view what) const;     // a numeric array with one element
  std::string text(std::string_view what) const;  // a char row vector (or empty), as UTF-8
  const MatArray& field(int64_t element, std::string_view name, std::string_view what) const;
};

struct MatFile {
  std::string path;
  std::vector<std::pair<std::string, MatArray>> variables;  // in file order

  // The named variable; a missing one throws naming the file.
  const MatArray& at(std::string_view name) const;
  bool has(std::string_view name) const;
};

// Reads a whole MAT-file. Throws dml::Error naming the file (and the variable
// being read) on any damage or unsupported content.
MatFile read_mat_file(const std::string& path);

// The same on a file's bytes already in memory; `path` names it in errors.
MatFile parse_mat_file(const std::vector<uint8_t>& bytes, const std::string& path);

}  // namespace dml::data
