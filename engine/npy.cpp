#include "engine/npy.h"

#include <regex>
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

}  // namespace

void write_npy(const std::string& path, const Tensor& tensor) {
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
  AtomicFile out(path);
  out.write(kMagic, 6);
  const unsigned char version_and_length[4] = {1, 0, static_cast<unsigned char>(text.size()),
                                               static_cast<unsigned char>(text.size() >> 8)};
  out.write(version_and_length, 4);
  out.write(text);
  out.write(t.raw_data(), t.nbytes());
  out.commit();
}

Tensor read_npy(const std::string& path) {
  const std::string bytes = read_regular_file(path, ".npy file");
  DML_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, kMagic, 6) == 0 && bytes[6] == 1, path,
            ": not a version 1.0 .npy file");
  const size_t header_len = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
  DML_CHECK(10 + header_len <= bytes.size(), path, ": .npy header runs past the end of the file");
  const std::string header = bytes.substr(10, header_len);
  std::smatch m;
  DML_CHECK(std::regex_search(header, m,
                              std::regex(R"('descr':\s*'([^']*)'.*'fortran_order':\s*False.*)"
                                         R"('shape':\s*\(([0-9,\s]*)\))")),
            path, ": .npy header '", header, "' is not C-ordered with a dtype and shape");
  const DType dtype = dtype_of_descr(m[1].str(), path);
  Shape shape;
  std::stringstream dims(m[2].str());
  for (std::string d; std::getline(dims, d, ',');)
    if (d.find_first_not_of(" ") != std::string::npos) shape.push_back(std::stoll(d));
  Tensor t = zeros(shape, dtype);
  DML_CHECK(bytes.size() - 10 - header_len == t.nbytes(), path, ": .npy data holds ",
            bytes.size() - 10 - header_len, " bytes, but its shape and dtype need ", t.nbytes());
  std::copy(bytes.begin() + std::ptrdiff_t(10 + header_len), bytes.end(),
            static_cast<char*>(t.raw_data()));
  return t;
}

}  // namespace dml
