#include "engine/npy.h"

#include <charconv>
#include <optional>
#include <sstream>

#include "base/error.h"
#include "base/regular_file.h"
#include "engine/atomic_file.h"

namespace dml {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string descr_of(DType t, const std::string& path) {
  switch (t) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::u8:
      return "|u1";
    default:
      throw Error(path + ": .npy output supports f32, f64, i32, i64 and u8 tensors");
  }
}

DType dtype_of_descr(const std::string& descr, const std::string& path) {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8})
    if (descr_of(t, path) == descr) return t;
  throw Error(path + ": .npy dtype '" + descr + "' is not one of <f4 <f8 <i4 <i8 |u1");
}

// Where the value of a header entry ('key': value) starts, or npos. Plain
// searches, linear in the header: a backtracking regex ran out of stack on a
// long hostile header.
size_t value_at(const std::string& header, const std::string& key) {
  const size_t at = header.find("'" + key + "':");
  return at == std::string::npos ? at : header.find_first_not_of(" ", at + key.size() + 3);
}

// The value of an entry written between `open` and `close`, or nullopt.
std::optional<std::string> enclosed_value(const std::string& header, const std::string& key,
                                          char open, char close) {
  const size_t at = value_at(header, key);
  if (at == std::string::npos || header[at] != open) return std::nullopt;
  const size_t end = header.find(close, at + 1);
  if (end == std::string::npos) return std::nullopt;
  return header.substr(at + 1, end - at - 1);
}

}  // namespace

void write_npy_to(AtomicFile& out, const std::string& path, const Tensor& tensor) {
  Tensor t = tensor.detach().to(Device::cpu());
  std::ostringstream header;
  header << "{'descr': '" << descr_of(t.dtype(), path) << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape().size(); ++i) header << (i ? ", " : "") << t.shape()[i];
  header << (t.shape().size() == 1 ? ",), }" : "), }");  // numpy's spelling: (5,) and (2, 3)
  std::string text = header.str();
  // Magic (6) + version (2) + length (2) + header, padded with spaces and a
  // newline to a multiple of 64 bytes.
  const size_t unpadded = 10 + text.size() + 1;
  text.append((64 - unpadded % 64) % 64, ' ');
  text += '\n';
  out.write(kMagic, 6);
  const unsigned char version_and_length[4] = {1, 0, static_cast<unsigned char>(text.size()),
                                               static_cast<unsigned char>(text.size() >> 8)};
  out.write(version_and_length, 4);
  out.write(text);
  out.write(t.raw_data(), t.nbytes());
}

void write_npy(const std::string& path, const Tensor& t) {
  AtomicFile out(path);
  write_npy_to(out, path, t);
  out.commit();
}

Tensor read_npy(const std::string& path) {
  const std::string bytes = read_regular_file(path, ".npy file");
  DML_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, kMagic, 6) == 0 && bytes[6] == 1, path,
            ": not a version 1.0 .npy file");
  const size_t header_len = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
  DML_CHECK(10 + header_len <= bytes.size(), path, ": .npy header runs past the end of the file");
  const std::string header = bytes.substr(10, header_len);
  const std::optional<std::string> descr = enclosed_value(header, "descr", '\'', '\''),
                                   dims_text = enclosed_value(header, "shape", '(', ')');
  const size_t order = value_at(header, "fortran_order");
  DML_CHECK(
      descr && dims_text && order != std::string::npos && header.compare(order, 5, "False") == 0 &&
          dims_text->find_first_not_of("0123456789, \t\r\n") == std::string::npos,
      path, ": .npy header '", header.substr(0, 200), "' is not C-ordered with a dtype and shape");
  const DType dtype = dtype_of_descr(*descr, path);
  // The header is only a claim: its size is checked against the data before
  // anything is allocated for it (a product past 64 bits is "more").
  const uint64_t data_bytes = bytes.size() - 10 - header_len;
  Shape shape;
  uint64_t need = dtype_size(dtype);
  bool zero = false, overflow = false;
  std::stringstream dims(*dims_text);
  for (std::string d; std::getline(dims, d, ',');) {
    const size_t first = d.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    const size_t last = d.find_last_not_of(" \t\r\n") + 1;
    int64_t size = 0;
    const auto [end, error] = std::from_chars(d.data() + first, d.data() + last, size);
    DML_CHECK(error == std::errc() && end == d.data() + last, path, ": .npy shape dimension '",
              d.substr(first, last - first), "' is not a 64-bit integer");
    shape.push_back(size);
    zero = zero || size == 0;
    overflow = overflow || __builtin_mul_overflow(need, uint64_t(size), &need);
  }
  if (zero) need = 0;
  DML_CHECK(need == data_bytes && (zero || !overflow), path, ": .npy data holds ", data_bytes,
            " bytes, but its shape and dtype need ",
            overflow && !zero ? "more than 2^64" : std::to_string(need));
  Tensor t = zeros(shape, dtype);
  std::copy(bytes.begin() + std::ptrdiff_t(10 + header_len), bytes.end(),
            static_cast<char*>(t.raw_data()));
  return t;
}

}  // namespace dml
