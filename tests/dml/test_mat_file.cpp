// The MATLAB v5 MAT-file reader: the committed fixtures written by
// scipy.io.savemat (tests/golden/make_mat_fixtures.py) read back with the
// values scipy wrote, plain and compressed; files built here byte by byte
// cover what scipy does not write (UTF-16 chars, damage of every kind); every
// truncation and thousands of random corruptions either read or throw
// dml::Error, never crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dml/data/mat_file.h"
#include "tests/support/test_support.h"

namespace {

using dml::data::MatArray;
using dml::data::MatClass;
using dml::data::MatFile;
using dml::data::parse_mat_file;
using dml::data::read_mat_file;
using dml::test::Bytes;
using dml::test::expect_error;
using dml::test::TempDir;
using dml::test::write_plain;

std::string fixture(const std::string& name) {
  return std::string(DML_SOURCE_DIR) + "/tests/golden/fixtures/" + name;
}

Bytes read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// ---- a tiny MAT-file writer for the cases scipy does not produce ----

void put32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back((unsigned char)(v >> (8 * i)));
}

// A data element: tag, data, padding to 8 bytes.
Bytes element(uint32_t type, const Bytes& data) {
  Bytes out;
  put32(out, type);
  put32(out, uint32_t(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  while (out.size() % 8) out.push_back(0);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// miMATRIX: flags (class | flag bits), dims, name, then `body`.
Bytes matrix(uint32_t cls, const std::vector<int32_t>& dims, const std::string& name,
             const Bytes& body, uint32_t flag_bits = 0) {
  Bytes flags, d;
  put32(flags, cls | flag_bits);
  put32(flags, 0);
  for (int32_t v : dims) put32(d, uint32_t(v));
  return element(14, concat({element(6, flags), element(5, d),
                             element(1, Bytes(name.begin(), name.end())), body}));
}

Bytes header(char e0 = 'I', char e1 = 'M', uint16_t version = 0x0100) {
  Bytes h(128, ' ');
  const char text[] = "MATLAB 5.0 MAT-file, written by test_mat_file";
  std::memcpy(h.data(), text, sizeof text - 1);
  std::fill(h.begin() + 116, h.begin() + 124, 0);
  h[124] = (unsigned char)(version & 0xff);
  h[125] = (unsigned char)(version >> 8);
  h[126] = (unsigned char)e0;
  h[127] = (unsigned char)e1;
  return h;
}

Bytes u16s(const std::vector<uint16_t>& v) {
  Bytes out;
  for (uint16_t x : v) {
    out.push_back((unsigned char)(x & 0xff));
    out.push_back((unsigned char)(x >> 8));
  }
  return out;
}

// Reads `bytes` written to a scratch file.
MatFile read_bytes(const Bytes& bytes) {
  TempDir dir;
  write_plain(dir.file("x.mat"), bytes);
  return read_mat_file(dir.file("x.mat"));
}

void expect_mat_error(const Bytes& bytes, const std::vector<std::string>& fragments) {
  TempDir dir;
  const std::string path = dir.file("bad.mat");
  write_plain(path, bytes);
  std::vector<std::string> all = fragments;
  all.push_back("MAT file " + path);
  expect_error([&] { read_mat_file(path); }, all);
}

// ---- scipy fixtures ----

TEST(MatFile, EveryNumericClassAsScipyWroteIt) {
  const MatFile f = read_mat_file(fixture("mat_types.mat"));
  const MatArray& f64 = f.at("f64");
  EXPECT_EQ(f64.type, MatClass::f64);
  EXPECT_EQ(f64.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f64.numbers, (std::vector<double>{1.5, 4.0, -2.0, 5.0, 3.25, 6.0}));  // column-major
  auto numbers = [&](const char* name, MatClass type) {
    EXPECT_EQ(f.at(name).type, type) << name;
    return f.at(name).numbers;
  };
  EXPECT_EQ(numbers("f32", MatClass::f32), (std::vector<double>{0.5, -1.5}));
  EXPECT_EQ(numbers("i8", MatClass::i8), (std::vector<double>{-128, 127}));
  EXPECT_EQ(numbers("u8", MatClass::u8), (std::vector<double>{0, 255}));
  EXPECT_EQ(numbers("i16", MatClass::i16), (std::vector<double>{-32768, 32767}));
  EXPECT_EQ(numbers("u16", MatClass::u16), (std::vector<double>{0, 65535}));
  EXPECT_EQ(numbers("i32", MatClass::i32), (std::vector<double>{-2147483648.0, 2147483647.0}));
  EXPECT_EQ(numbers("u32", MatClass::u32), (std::vector<double>{0, 4294967295.0}));
  EXPECT_EQ(numbers("i64", MatClass::i64),
            (std::vector<double>{-std::ldexp(1, 40), std::ldexp(1, 40)}));
  EXPECT_EQ(numbers("u64", MatClass::u64), (std::vector<double>{0, std::ldexp(1, 52)}));
  const MatArray& flag = f.at("flag");
  EXPECT_TRUE(flag.logical);
  EXPECT_EQ(flag.numbers, (std::vector<double>{1, 0, 1}));
  EXPECT_FALSE(f.at("u8").logical);
  EXPECT_DOUBLE_EQ(f.at("f64").numbers[4], 3.25);
  expect_error([&] { f.at("f64").scalar("f64"); }, {"f64: expected a numeric scalar"});
  expect_error([&] { f.at("absent"); }, {"has no variable 'absent'"});
}

TEST(MatFile, CharsCellsAndStructs) {
  const MatFile f = read_mat_file(fixture("mat_types.mat"));
  EXPECT_EQ(f.at("word").text("word"), "h\xC3\xA9llo");
  EXPECT_EQ(f.at("word").chars.size(), 5u);
  const MatArray& lines = f.at("lines");
  EXPECT_EQ(lines.dims, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(lines.chars, (std::vector<char32_t>{'a', 'c', 'b', 'd'}));
  expect_error([&] { lines.text("lines"); }, {"lines: expected one line of text", "2 rows"});
  EXPECT_EQ(f.at("empty_text").text("empty_text"), "");

  const MatArray& nested = f.at("nested");
  EXPECT_EQ(nested.type, MatClass::cell);
  ASSERT_EQ(nested.cells.size(), 2u);
  ASSERT_EQ(nested.cells[0].type, MatClass::cell);
  EXPECT_EQ(nested.cells[0].cells.at(0).scalar("inner"), 7.5);
  EXPECT_EQ(nested.cells[1].text("leaf"), "leaf");

  const MatArray& person = f.at("person");
  EXPECT_EQ(person.field_names, (std::vector<std::string>{"name", "scores", "empty"}));
  EXPECT_EQ(person.field(0, "name", "person").text("name"), "ada");
  EXPECT_EQ(person.field(0, "scores", "person").numbers, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(person.field(0, "empty", "person").numel(), 0);
  expect_error([&] { person.field(0, "age", "person"); },
               {"person: the struct has no field 'age'"});
  expect_error([&] { person.field(1, "name", "person"); }, {"element 1 is out of range"});
}

TEST(MatFile, CarsAnnotationsPlainAndCompressedAgree) {
  const MatFile plain = read_mat_file(fixture("cars_annos_plain.mat"));
  const MatFile packed = read_mat_file(fixture("cars_annos_compressed.mat"));
  for (const MatFile* f : {&plain, &packed}) {
    const MatArray& a = f->at("annotations");
    EXPECT_EQ(a.type, MatClass::structure);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{1, 5}));
    EXPECT_EQ(a.field_names, (std::vector<std::string>{"relative_im_path", "bbox_x1", "bbox_y1",
                                                       "bbox_x2", "bbox_y2", "class", "test"}));
    EXPECT_EQ(a.field(3, "relative_im_path", "a").text("p"), "car_ims/000004.jpg");
    EXPECT_EQ(a.field(1, "bbox_x2", "a").type, MatClass::u16);
    EXPECT_EQ(a.field(1, "bbox_x2", "a").scalar("x2"), 300);
    EXPECT_EQ(a.field(4, "class", "a").scalar("class"), 150);
    const MatArray& names = f->at("class_names");
    EXPECT_EQ(names.numel(), 196);
    EXPECT_EQ(names.cells[1].text("name"), "Citro\xC3\xABn C6 Sedan 2008");
    EXPECT_EQ(names.cells[195].text("name"), "Car Model 196");
  }
}

// ---- hostile input ----

TEST(MatFile, EveryTruncationThrowsOrEndsAtAVariable) {
  for (const char* name : {"cars_annos_compressed.mat", "cars_annos_plain.mat"}) {
    SCOPED_TRACE(name);
    const Bytes full = read_all(fixture(name));
    int complete = 0;
    for (size_t cut = 0; cut < full.size(); ++cut) {
      try {
        // Only a cut at the end of the header or between variables reads.
        const MatFile f =
            parse_mat_file(Bytes(full.begin(), full.begin() + std::ptrdiff_t(cut)), name);
        EXPECT_LT(f.variables.size(), 2u) << "cut at " << cut;
        ++complete;
      } catch (const dml::Error& e) {
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      }
    }
    EXPECT_EQ(complete, 2);  // after the header, and after `annotations`
  }
}

TEST(MatFile, RandomCorruptionNeverCrashes) {
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return uint32_t(state >> 33);
  };
  int errors = 0, reads = 0;
  for (const char* name : {"cars_annos_compressed.mat", "cars_annos_plain.mat", "mat_types.mat"}) {
    const Bytes full = read_all(fixture(name));
    for (int round = 0; round < 2000; ++round) {
      Bytes b = full;
      for (uint32_t k = 0, flips = 1 + next() % 3; k < flips; ++k)
        b[128 + next() % (b.size() - 128)] ^= (unsigned char)(1 + next() % 255);
      try {
        parse_mat_file(b, name);
        ++reads;
      } catch (const dml::Error&) {
        ++errors;
      }
    }
  }
  // Most damage is caught (zlib's checksum, length checks); some lands in values.
  EXPECT_GT(errors, 2000);
  EXPECT_GT(reads, 0);
}

TEST(MatFile, HeaderProblemsSayWhatTheFileIs) {
  expect_mat_error(Bytes(40, 'x'), {"only 40 bytes", "128-byte header"});
  expect_mat_error(header('M', 'I'), {"big-endian"});
  expect_mat_error(header('x', 'y'), {"not a MATLAB v5 MAT-file"});
  expect_mat_error(header('I', 'M', 0x0200), {"version 2.0", "v7.3"});
  EXPECT_TRUE(read_bytes(header()).variables.empty());
  expect_error([] { read_mat_file("/nonexistent/cars_annos.mat"); },
               {"cannot open MAT file /nonexistent/cars_annos.mat"});
}

TEST(MatFile, Utf16CharsFromMatlab) {
  // MATLAB writes chars as miUINT16 code units; U+1F697 is a surrogate pair.
  const Bytes var = matrix(4, {1, 4}, "s", element(4, u16s({'c', 'a', 0xD83D, 0xDE97})));
  const MatFile f = read_bytes(concat({header(), var}));
  EXPECT_EQ(f.at("s").text("s"), "ca\xF0\x9F\x9A\x97");
}

TEST(MatFile, LengthsAreCheckedBeforeUse) {
  const Bytes h = header();
  Bytes huge;  // a tag claiming more bytes than the file holds
  put32(huge, 14);
  put32(huge, 0x7FFFFFF0);
  expect_mat_error(concat({h, huge}), {"claims 2147483632 bytes"});

  // A struct array of 100000 x 100000 elements with no data behind it.
  Bytes fields = concat({element(5, {4, 0, 0, 0}), element(1, Bytes{'a', 0, 0, 0})});
  expect_mat_error(concat({h, matrix(2, {100000, 100000}, "s", fields)}),
                   {"variable 's'", "cannot fit"});
  // Numeric data shorter than the dimensions say.
  expect_mat_error(concat({h, matrix(6, {2, 2}, "d", element(9, Bytes(24, 0)))}),
                   {"4 elements holds 24 bytes"});
  // Huge dimensions around a zero: an empty array, counted without overflow.
  const MatFile empty = read_bytes(
      concat({h, matrix(6, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0}, "e", element(9, Bytes()))}));
  EXPECT_EQ(empty.at("e").numel(), 0);
  expect_mat_error(concat({h, matrix(6, {-1, 2}, "d", element(9, Bytes()))}),
                   {"negative dimension -1"});
  expect_mat_error(concat({h, matrix(6, {1, 1}, "z", element(9, Bytes(16, 0)), 0x0800)}),
                   {"variable 'z'", "complex arrays are not supported"});
  expect_mat_error(concat({h, matrix(5, {1, 1}, "sp", Bytes())}), {"sparse"});
  expect_mat_error(concat({h, matrix(4, {1, 3}, "c", element(4, u16s({'a', 'b'})))}),
                   {"char array of 3 chars holds 2"});

  // Cells nested past the limit.
  Bytes inner = matrix(6, {1, 1}, "", element(9, Bytes(8, 0)));
  for (int depth = 0; depth < dml::data::kMatMaxDepth + 2; ++depth)
    inner = matrix(1, {1, 1}, depth == dml::data::kMatMaxDepth + 1 ? "deep" : "", inner);
  expect_mat_error(concat({h, inner}), {"nested deeper than 32 levels"});

  // Compressed data cut short, and compressed garbage.
  const Bytes packed = read_all(fixture("cars_annos_compressed.mat"));
  Bytes garbage = concat({h, element(15, Bytes(64, 0xAB))});
  garbage.resize(h.size() + 8 + 64);  // compressed elements have no padding
  expect_mat_error(garbage, {"corrupt compressed data"});
}

}  // namespace
