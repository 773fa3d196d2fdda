// .npy output: the exact bytes numpy writes, round trips, and refusals.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "engine/npy.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::expect_error;
using test::TempDir;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Npy, HeaderIsNumpysOwn) {
  TempDir dir;
  const std::string path = dir.file("a.npy");
  write_npy(path, from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  const std::string bytes = file_bytes(path);
  // numpy.save(np.arange(1, 7, dtype='<f4').reshape(2, 3)): 128-byte header.
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(uint8_t(bytes[8]) + 256 * uint8_t(bytes[9]), 118);
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes[127], '\n');
  write_npy(path, from_vector<int64_t>({7, 8}, {2}));
  EXPECT_NE(file_bytes(path).find("'shape': (2,), }"), std::string::npos);
}

TEST(Npy, RoundTripsEveryDtype) {
  TempDir dir;
  const std::string path = dir.file("x.npy");
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8}) {
    Tensor x = from_vector<double>({0, 1, 2, 250, 4, 5}, {3, 1, 2}).to(t);
    write_npy(path, x);
    Tensor y = read_npy(path);
    EXPECT_EQ(y.dtype(), t);
    EXPECT_EQ(y.shape(), x.shape());
    EXPECT_EQ(y.to(DType::f64).to_vector<double>(), x.to(DType::f64).to_vector<double>());
  }
}

TEST(Npy, RefusesWhatItCannotWriteOrRead) {
  TempDir dir;
  expect_error([&] { write_npy(dir.file("h.npy"), zeros({2}, DType::f16)); },
               {"h.npy", "supports f32, f64"});
  expect_error([&] { write_npy(dir.file("missing/dir.npy"), zeros({2})); },
               {"cannot create", "missing/dir.npy.tmp"});
  const std::string path = dir.file("t.npy");
  write_npy(path, zeros({4}));
  std::string bytes = file_bytes(path);
  test::write_plain(path, test::Bytes(bytes.begin(), bytes.end() - 1));
  expect_error([&] { read_npy(path); }, {"t.npy", "data holds 15 bytes", "need 16"});
  test::write_plain(path, test::Bytes{'n', 'o'});
  expect_error([&] { read_npy(path); }, {"not a version 1.0 .npy file"});
}

}  // namespace
}  // namespace dml
