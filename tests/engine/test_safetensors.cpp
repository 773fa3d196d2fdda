// The safetensors reader and writer on small files written here: every dtype
// round-trips bit for bit, the writer's bytes are the format's exact layout,
// every kind of damage throws a dml::Error whose message names the file and
// the problem, and a failed write never harms an existing file.
#include "engine/safetensors.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "base/error.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using dml::DType;
using dml::Shape;
using dml::Tensor;
using dml::test::Bytes;
using dml::test::expect_error;
using dml::test::TempDir;
using dml::test::write_plain;

Bytes read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// A file laid out by hand: length field, header text as given, data bytes.
Bytes st_file(const std::string& header, const Bytes& data = {}, uint64_t length_field = 0) {
  const uint64_t n = length_field ? length_field : header.size();
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes tensor_bytes(const Tensor& t) {
  const auto* p = static_cast<const unsigned char*>(t.raw_data());
  return Bytes(p, p + t.nbytes());
}

// A tensor of a 16-bit float type holding the given bit patterns.
template <class T>
Tensor half_tensor(const std::vector<uint16_t>& bits, const Shape& shape) {
  Tensor t = Tensor::empty(shape, dml::dtype_of<T>::value);
  for (size_t i = 0; i < bits.size(); ++i) t.data<T>()[i].bits = bits[i];
  return t;
}

// Runs read_safetensors and returns the dml::Error message; fails if nothing
// throws.
std::string read_error(const std::string& path) {
  try {
    dml::read_safetensors(path);
  } catch (const dml::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_safetensors(" << path << ") did not throw";
  return "";
}

// As read_error, for a file holding `bytes`.
std::string read_error(const TempDir& dir, const Bytes& bytes) {
  const std::string path = dir.file("hostile.safetensors");
  write_plain(path, bytes);
  return read_error(path);
}

std::string write_error(const std::string& path, const dml::NamedTensors& tensors) {
  try {
    dml::write_safetensors(path, tensors);
  } catch (const dml::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "write_safetensors(" << path << ") did not throw";
  return "";
}

// The message starts with the path and contains the fragment.
#define EXPECT_NAMES(message, path, fragment)                                 \
  do {                                                                        \
    const std::string msg_ = (message);                                       \
    EXPECT_EQ(msg_.rfind(path, 0), 0u) << "message: " << msg_;                \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << "message: " << msg_; \
  } while (0)

// A one-tensor header around an entry body.
std::string one_entry(const std::string& body) {
  return "{\"w\":" + body + "}";
}

const std::string kHostile = "hostile.safetensors";

}  // namespace

// --- round trips ------------------------------------------------------------

TEST(Safetensors, EveryDtypeRoundTripsBitForBit) {
  TempDir dir;
  const std::string path = dir.file("all.safetensors");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  dml::NamedTensors in = {
      {"f32", dml::from_vector<float>({1.5f, -0.0f, 3.4e38f, 1e-45f, float(nan), 7}, {2, 3})},
      {"f64", dml::from_vector<double>({3.141592653589793, -1e-310, nan}, {3})},
      // One, inf, quiet NaN, smallest subnormal, negative zero, max.
      {"f16", half_tensor<dml::f16>({0x3c00, 0x7c00, 0x7e00, 0x0001, 0x8000, 0x7bff}, {3, 2})},
      {"bf16", half_tensor<dml::bf16>({0x3f80, 0x7f80, 0x7fc1, 0x0001, 0x8000, 0xff7f}, {6})},
      {"i32", dml::from_vector<int32_t>(
                  {std::numeric_limits<int32_t>::min(), -1, 0, std::numeric_limits<int32_t>::max()},
                  {2, 2})},
      {"i64",
       dml::from_vector<int64_t>(
           {std::numeric_limits<int64_t>::min(), 42, std::numeric_limits<int64_t>::max()}, {3, 1})},
      {"u8", dml::from_vector<uint8_t>({0, 1, 128, 255}, {4})},
  };
  dml::write_safetensors(path, in);
  dml::SafetensorsFile out = dml::read_safetensors(path);
  ASSERT_EQ(out.tensors.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(in[i].first);
    EXPECT_EQ(out.tensors[i].first, in[i].first);  // the given order is the data order
    const Tensor& t = out.tensors[i].second;
    EXPECT_EQ(t.dtype(), in[i].second.dtype());
    EXPECT_EQ(t.shape(), in[i].second.shape());
    EXPECT_TRUE(t.device().is_cpu());
    EXPECT_EQ(tensor_bytes(t), tensor_bytes(in[i].second));
  }
  EXPECT_TRUE(out.metadata.empty());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Safetensors, EmptyTensorsAndScalarsRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("edge.safetensors");
  dml::NamedTensors in = {
      {"empty", Tensor::empty({0}, DType::f32)},
      {"scalar", dml::from_vector<int64_t>({123456789012345}, {})},
      {"empty_3d", Tensor::empty({2, 0, 3}, DType::bf16)},
      {"scalar_f32", dml::from_vector<float>({-2.5f}, {})},
  };
  dml::write_safetensors(path, in);
  dml::SafetensorsFile out = dml::read_safetensors(path);
  ASSERT_EQ(out.tensors.size(), 4u);
  EXPECT_EQ(out.tensors[0].first, "empty");
  EXPECT_EQ(out.tensors[0].second.shape(), (Shape{0}));
  EXPECT_EQ(out.tensors[1].first, "scalar");
  EXPECT_EQ(out.tensors[1].second.shape(), (Shape{}));
  EXPECT_EQ(out.tensors[1].second.to_vector<int64_t>(), (std::vector<int64_t>{123456789012345}));
  EXPECT_EQ(out.tensors[2].second.shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(out.tensors[2].second.dtype(), DType::bf16);
  EXPECT_EQ(out.tensors[3].second.to_vector<float>(), (std::vector<float>{-2.5f}));
}

TEST(Safetensors, NoTensorsRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("none.safetensors");
  dml::write_safetensors(path, {});
  EXPECT_EQ(read_all(path), st_file("{}      "));
  EXPECT_TRUE(dml::read_safetensors(path).tensors.empty());
}

TEST(Safetensors, MetadataRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("meta.safetensors");
  const std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"epoch", "12"}, {"note", "quote \" backslash \\ newline \n ü"}};
  dml::write_safetensors(path, {{"w", dml::from_vector<float>({1, 2}, {2})}}, meta);
  dml::SafetensorsFile out = dml::read_safetensors(path);
  EXPECT_EQ(out.metadata, meta);
  ASSERT_EQ(out.tensors.size(), 1u);
  EXPECT_EQ(out.tensors[0].second.to_vector<float>(), (std::vector<float>{1, 2}));
}

TEST(Safetensors, TensorsOnADeviceOrWithGradAreWrittenByValue) {
  TempDir dir;
  const std::string path = dir.file("grad.safetensors");
  Tensor w = dml::from_vector<float>({1, 2, 3, 4}, {2, 2});
  w.requires_grad_();
  // A view with a byte offset writes only its own elements.
  dml::write_safetensors(path, {{"w", w}, {"row1", w.slice(1, 2)}});
  dml::SafetensorsFile out = dml::read_safetensors(path);
  EXPECT_EQ(out.tensors[0].second.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(out.tensors[1].second.shape(), (Shape{1, 2}));
  EXPECT_EQ(out.tensors[1].second.to_vector<float>(), (std::vector<float>{3, 4}));
}

// --- the exact layout -------------------------------------------------------

TEST(Safetensors, WrittenBytesAreTheFormatsLayout) {
  TempDir dir;
  const std::string path = dir.file("exact.safetensors");
  dml::write_safetensors(path, {{"a", dml::from_vector<float>({1.0f, -2.0f}, {2})}},
                         {{"format", "pt"}});
  // 85 bytes of compact JSON, metadata first, keys in the reference order,
  // padded with 3 spaces to 88 so the data starts 8-byte aligned.
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(json.size(), 85u);
  Bytes expected = {88, 0, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), json.begin(), json.end());
  expected.insert(expected.end(), {' ', ' ', ' '});
  expected.insert(expected.end(), {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0});
  EXPECT_EQ(read_all(path), expected);
}

TEST(Safetensors, WriterKeepsTheGivenOrderAndU8IsWrittenAsU8) {
  TempDir dir;
  const std::string path = dir.file("order.safetensors");
  dml::write_safetensors(path, {{"z", dml::from_vector<uint8_t>({7}, {1})},
                                {"a", dml::from_vector<uint8_t>({8, 9}, {2})}});
  const std::string json = R"({"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                           R"("a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})";
  std::string padded = json + std::string((8 - json.size() % 8) % 8, ' ');
  EXPECT_EQ(read_all(path), st_file(padded, {7, 8, 9}));
}

// A file from another writer: tensors listed in name order but stored in
// another, BOOL, unpadded header, extra whitespace, unknown entry keys.
TEST(Safetensors, ReadsInDataOrderAndAcceptsForeignLayouts) {
  TempDir dir;
  const std::string path = dir.file("foreign.safetensors");
  const std::string header =
      R"( { "a": {"shape": [2], "dtype": "I32", "data_offsets": [1, 9]},)"
      R"("mask": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1], "extra": {"x": 1}},)"
      R"("__metadata__": {"source": "elsewhere"} }  )";
  write_plain(path, st_file(header, {1, 5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));
  dml::SafetensorsFile f = dml::read_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].first, "mask");
  EXPECT_EQ(f.tensors[0].second.dtype(), DType::u8);
  EXPECT_EQ(f.tensors[0].second.to_vector<uint8_t>(), (std::vector<uint8_t>{1}));
  EXPECT_EQ(f.tensors[1].first, "a");
  EXPECT_EQ(f.tensors[1].second.to_vector<int32_t>(), (std::vector<int32_t>{5, -1}));
  EXPECT_EQ(f.metadata.at("source"), "elsewhere");
}

// --- hostile files ----------------------------------------------------------

TEST(SafetensorsHostile, MissingFileOrDirectory) {
  TempDir dir;
  const std::string absent = dir.file("absent.safetensors");
  // Opening goes through base/regular_file.h, whose messages lead with what
  // the file is: "cannot open safetensors file <path>: ...".
  expect_error([&] { dml::read_safetensors(absent); },
               {"cannot open safetensors file " + absent, "No such file"});
  expect_error([&] { dml::read_safetensors(dir.file("")); },
               {"safetensors file " + dir.file(""), "is a directory, not a regular file"});
}

TEST(SafetensorsHostile, ShorterThanTheLengthField) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  EXPECT_NAMES(read_error(dir, {}), path, "file is 0 bytes, too short");
  EXPECT_NAMES(read_error(dir, {1, 0, 0, 0, 0}), path, "file is 5 bytes, too short");
}

TEST(SafetensorsHostile, HeaderLengthPastTheEndOfTheFile) {
  TempDir dir;
  EXPECT_NAMES(read_error(dir, st_file("{}", {}, 1000)), dir.file(kHostile),
               "header length 1000 runs past the end of the file (10 bytes)");
}

TEST(SafetensorsHostile, AbsurdHeaderLength) {
  TempDir dir;
  EXPECT_NAMES(read_error(dir, st_file("{}", {}, uint64_t(1) << 63)), dir.file(kHostile),
               "is absurd");
  EXPECT_NAMES(read_error(dir, st_file("{}", {}, (uint64_t(100) << 20) + 1)), dir.file(kHostile),
               "is absurd");
}

TEST(SafetensorsHostile, HeaderNotValidJson) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  EXPECT_NAMES(read_error(dir, st_file(R"({"w": {"dtype": )")), path, "header is not valid JSON");
  EXPECT_NAMES(read_error(dir, st_file("")), path, "header is not valid JSON");
  // nlohmann would stop at the NUL and accept "{}".
  std::string nul_padded = std::string("{}") + '\0' + "garbage";
  EXPECT_NAMES(read_error(dir, st_file(nul_padded)), path,
               "header is not valid JSON (a NUL byte at offset 2)");
  // Invalid UTF-8; the parser's message quotes the bytes, escaped.
  const std::string msg = read_error(dir, st_file("{\"\xff\xfe\": 1}"));
  EXPECT_NAMES(msg, path, "header is not valid JSON");
  EXPECT_NE(msg.find("\\xff"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\xff'), std::string::npos) << msg;
}

TEST(SafetensorsHostile, HeaderNotAnObject) {
  TempDir dir;
  EXPECT_NAMES(read_error(dir, st_file("[1, 2]")), dir.file(kHostile),
               "header is a JSON array, expected an object");
  EXPECT_NAMES(read_error(dir, st_file("\"w\"")), dir.file(kHostile),
               "header is a JSON string, expected an object");
}

TEST(SafetensorsHostile, DeeplyNestedHeaderStopsEarly) {
  TempDir dir;
  const std::string header = one_entry(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_NAMES(read_error(dir, st_file(header)), dir.file(kHostile), "nests deeper");
}

TEST(SafetensorsHostile, DuplicateTensorNames) {
  TempDir dir;
  const std::string entry = R"({"dtype": "U8", "shape": [1], "data_offsets": [0, 1]})";
  EXPECT_NAMES(read_error(dir, st_file("{\"w\": " + entry + ", \"w\": " + entry + "}", {1})),
               dir.file(kHostile), "header names 'w' twice");
}

TEST(SafetensorsHostile, EntryNotAnObject) {
  TempDir dir;
  EXPECT_NAMES(read_error(dir, st_file(one_entry("[0, 4]"))), dir.file(kHostile),
               "tensor 'w' is a JSON array, expected an object");
}

TEST(SafetensorsHostile, EntryMissingAField) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  EXPECT_NAMES(read_error(dir, st_file(one_entry(R"({"shape": [1], "data_offsets": [0, 1]})"))),
               path, "tensor 'w' has no \"dtype\"");
  EXPECT_NAMES(read_error(dir, st_file(one_entry(R"({"dtype": "U8", "data_offsets": [0, 1]})"))),
               path, "tensor 'w' has no \"shape\"");
  EXPECT_NAMES(read_error(dir, st_file(one_entry(R"({"dtype": "U8", "shape": [1]})"))), path,
               "tensor 'w' has no \"data_offsets\"");
}

TEST(SafetensorsHostile, EntryFieldsOfTheWrongJsonType) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return st_file(one_entry("{\"dtype\": " + dtype + ", \"shape\": " + shape +
                             ", \"data_offsets\": " + offsets + "}"),
                   {0, 0, 0, 0});
  };
  EXPECT_NAMES(read_error(dir, entry("32", "[1]", "[0, 4]")), path,
               "\"dtype\" is a JSON number, expected a string");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "\"1\"", "[0, 4]")), path,
               "\"shape\" is a JSON string, expected an array");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "[1]", "[0]")), path,
               "\"data_offsets\" is [0], expected [begin, end]");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "[1]", "[0, 4, 8]")), path,
               "\"data_offsets\" is [0,4,8], expected [begin, end]");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "[1]", "{\"begin\": 0}")), path,
               "\"data_offsets\" is {\"begin\":0}, expected [begin, end]");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "[1]", "[0, -4]")), path,
               "\"data_offsets\" is [0,-4], expected [begin, end]");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "[1]", "[0, 4.0]")), path,
               "\"data_offsets\" is [0,4.0], expected [begin, end]");
  EXPECT_NAMES(read_error(dir, entry("\"F32\"", "[1]", "[0, 18446744073709551616]")), path,
               "expected [begin, end] with two non-negative integers");
}

TEST(SafetensorsHostile, UnknownDtype) {
  TempDir dir;
  for (const std::string code : {"I16", "F8_E4M3", "f32", ""}) {
    std::string msg = read_error(
        dir,
        st_file(one_entry(R"({"dtype": ")" + code + R"(", "shape": [2], "data_offsets": [0, 4]})"),
                {0, 0, 0, 0}));
    EXPECT_NAMES(msg, dir.file(kHostile),
                 "tensor 'w' has dtype '" + code + "', which is not supported");
    EXPECT_NE(msg.find("BF16"), std::string::npos) << msg;  // lists what is supported
  }
}

TEST(SafetensorsHostile, NegativeOrNonIntegerDims) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  auto shape = [](const std::string& s) {
    return st_file(one_entry(R"({"dtype": "U8", "shape": )" + s + R"(, "data_offsets": [0, 2]})"),
                   {0, 0});
  };
  EXPECT_NAMES(read_error(dir, shape("[2, -1]")), path,
               "dimension 1 of \"shape\" is -1, expected a non-negative integer");
  EXPECT_NAMES(read_error(dir, shape("[2.0]")), path,
               "dimension 0 of \"shape\" is 2.0, expected a non-negative integer");
  EXPECT_NAMES(read_error(dir, shape("[\"2\"]")), path,
               "dimension 0 of \"shape\" is \"2\", expected a non-negative integer");
  EXPECT_NAMES(read_error(dir, shape("[9223372036854775808]")), path,
               "dimension 0 of \"shape\" is 9223372036854775808");
}

TEST(SafetensorsHostile, ElementCountOverflowsInt64) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  auto shape = [](const std::string& s) {
    return st_file(one_entry(R"({"dtype": "F32", "shape": )" + s + R"(, "data_offsets": [0, 0]})"));
  };
  // 2^32 * 2^32 elements, and 2^62 elements of 4 bytes each.
  EXPECT_NAMES(read_error(dir, shape("[4294967296, 4294967296]")), path, "too many elements");
  EXPECT_NAMES(read_error(dir, shape("[4611686018427387904]")), path, "too many elements");
  // A zero dim does not excuse the others: code that walks the shape would overflow.
  EXPECT_NAMES(read_error(dir, shape("[4294967296, 4294967296, 0]")), path, "too many elements");
}

TEST(SafetensorsHostile, ByteSizeDoesNotMatchTheShape) {
  TempDir dir;
  const std::string path = dir.file("x.safetensors");
  write_plain(path, st_file(R"({"conv1.weight": {"dtype": "F32", "shape": [64, 3, 7, 7],)"
                            R"( "data_offsets": [0, 100]}})",
                            Bytes(100)));
  EXPECT_EQ(read_error(path), path +
                                  ": tensor 'conv1.weight' data_offsets [0, 100) do not match its"
                                  " shape [64, 3, 7, 7] of F32 (37632 bytes)");
}

TEST(SafetensorsHostile, BeginAfterEnd) {
  TempDir dir;
  EXPECT_NAMES(
      read_error(dir, st_file(one_entry(R"({"dtype": "U8", "shape": [4], "data_offsets": [8, 4]})"),
                              Bytes(8))),
      dir.file(kHostile), "tensor 'w' has data_offsets [8, 4) with begin after end");
}

TEST(SafetensorsHostile, EndBeyondTheDataBuffer) {
  TempDir dir;
  EXPECT_NAMES(
      read_error(dir,
                 st_file(one_entry(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})"),
                         Bytes(8))),
      dir.file(kHostile), "data_offsets [0, 16) run past the end of the data buffer (8 bytes)");
}

TEST(SafetensorsHostile, TruncatedGoodFile) {
  TempDir dir;
  const std::string path = dir.file("cut.safetensors");
  dml::write_safetensors(path, {{"a", dml::from_vector<float>({1, 2, 3}, {3})},
                                {"b", dml::from_vector<int64_t>({4, 5}, {2})}});
  Bytes bytes = read_all(path);
  bytes.pop_back();
  write_plain(path, bytes);
  EXPECT_NAMES(read_error(path), path,
               "tensor 'b' data_offsets [12, 28) run past the end of the data buffer (27 bytes)");
}

TEST(SafetensorsHostile, OverlappingTensors) {
  TempDir dir;
  const std::string header = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                             R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  EXPECT_NAMES(read_error(dir, st_file(header, Bytes(12))), dir.file(kHostile),
               "tensor 'b' data_offsets [4, 12) overlap tensor 'a' at [0, 8)");
  // The same range twice.
  const std::string twice = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                            R"( "b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}})";
  EXPECT_NAMES(read_error(dir, st_file(twice, Bytes(8))), dir.file(kHostile), "overlap");
  // An empty tensor inside another's bytes.
  const std::string inside = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                             R"( "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})";
  EXPECT_NAMES(read_error(dir, st_file(inside, Bytes(8))), dir.file(kHostile),
               "tensor 'e' data_offsets [4, 4) overlap tensor 'a'");
}

TEST(SafetensorsHostile, GapBetweenTensors) {
  TempDir dir;
  const std::string header = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                             R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})";
  EXPECT_NAMES(read_error(dir, st_file(header, Bytes(12))), dir.file(kHostile),
               "bytes [4, 8) of the data buffer belong to no tensor (a gap before tensor 'b')");
  const std::string leading = one_entry(R"({"dtype": "U8", "shape": [2], "data_offsets": [1, 3]})");
  EXPECT_NAMES(read_error(dir, st_file(leading, Bytes(3))), dir.file(kHostile),
               "bytes [0, 1) of the data buffer belong to no tensor");
}

TEST(SafetensorsHostile, TrailingBytesAfterTheLastTensor) {
  TempDir dir;
  const std::string header = one_entry(R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})");
  EXPECT_NAMES(read_error(dir, st_file(header, Bytes(6))), dir.file(kHostile),
               "the data buffer has 2 trailing bytes [4, 6) that belong to no tensor");
  EXPECT_NAMES(read_error(dir, st_file("{}", Bytes(3))), dir.file(kHostile),
               "the data buffer has 3 trailing bytes");
}

TEST(SafetensorsHostile, BadMetadata) {
  TempDir dir;
  const std::string path = dir.file(kHostile);
  EXPECT_NAMES(read_error(dir, st_file(R"({"__metadata__": {"epoch": 3}})")), path,
               "\"__metadata__\" entry 'epoch' is a JSON number, expected a string");
  EXPECT_NAMES(read_error(dir, st_file(R"({"__metadata__": ["pt"]})")), path,
               "\"__metadata__\" is a JSON array, expected an object of string to string");
}

TEST(SafetensorsHostile, NamesInMessagesStayOnOneLine) {
  TempDir dir;
  std::string msg = read_error(
      dir, st_file(R"({"bad\nname": {"dtype": "Q", "shape": [], "data_offsets": [0, 1]}})", {0}));
  EXPECT_NAMES(msg, dir.file(kHostile), "tensor 'bad\\x0aname' has dtype 'Q'");
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

// --- writer failures --------------------------------------------------------

TEST(SafetensorsWrite, BadNamesThrowAndWriteNothing) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  Tensor t = dml::from_vector<float>({1}, {1});
  EXPECT_NAMES(write_error(path, {{"w", t}, {"v", t}, {"w", t}}), path,
               "tensor name 'w' appears twice");
  EXPECT_NAMES(write_error(path, {{"__metadata__", t}}), path, "reserved");
  EXPECT_NAMES(write_error(path, {{"w", Tensor()}}), path, "tensor 'w' is undefined");
  EXPECT_NAMES(write_error(path, {{"\xff", t}}), path, "not valid UTF-8");
  EXPECT_TRUE(fs::is_empty(dir.file("")));
}

TEST(SafetensorsWrite, MissingDirectoryThrowsAndLeavesNothing) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/w.safetensors");
  EXPECT_NAMES(write_error(path, {{"w", dml::from_vector<float>({1}, {1})}}), path,
               "cannot create " + path + ".tmp: No such file or directory");
  EXPECT_TRUE(fs::is_empty(dir.file("")));
}

TEST(SafetensorsWrite, FailureBeforeWritingKeepsTheOldFile) {
  TempDir dir;
  const std::string path = dir.file("keep.safetensors");
  dml::write_safetensors(path, {{"old", dml::from_vector<float>({1, 2}, {2})}});
  const Bytes old = read_all(path);
  fs::create_directory(path + ".tmp");  // the temporary file cannot be created
  EXPECT_NAMES(write_error(path, {{"new", dml::from_vector<float>({3}, {1})}}), path,
               "cannot create " + path + ".tmp");
  EXPECT_EQ(read_all(path), old);
  EXPECT_TRUE(fs::is_directory(path + ".tmp"));  // not ours: left alone
}

// Restores a resource limit and a signal disposition on scope exit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    // Past the limit write() fails with EFBIG instead of killing the process.
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit lim = saved_;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t old_handler_;
};

TEST(SafetensorsWrite, ShortWriteThrowsKeepsTheOldFileAndRemovesTheTemporary) {
  TempDir dir;
  const std::string path = dir.file("short.safetensors");
  dml::write_safetensors(path, {{"old", dml::from_vector<float>({1, 2}, {2})}});
  const Bytes old = read_all(path);
  std::string msg;
  {
    FileSizeLimit limit(4096);
    msg = write_error(path, {{"big", dml::zeros({100000})}});
  }
  EXPECT_NAMES(msg, path, "write to " + path + ".tmp failed: File too large");
  EXPECT_EQ(read_all(path), old);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(SafetensorsWrite, RenameFailureThrowsAndRemovesTheTemporary) {
  TempDir dir;
  const std::string path = dir.file("occupied");
  fs::create_directories(path + "/child");  // a non-empty directory cannot be renamed over
  EXPECT_NAMES(write_error(path, {{"w", dml::from_vector<float>({1}, {1})}}), path,
               "cannot rename " + path + ".tmp to it");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(fs::is_directory(path + "/child"));
}

TEST(SafetensorsWrite, OverwritesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  dml::write_safetensors(path, {{"old", dml::from_vector<float>({1, 2}, {2})}});
  dml::write_safetensors(path, {{"new", dml::from_vector<int64_t>({3}, {1})}});
  dml::SafetensorsFile f = dml::read_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].first, "new");
  EXPECT_EQ(f.tensors[0].second.to_vector<int64_t>(), (std::vector<int64_t>{3}));
}
