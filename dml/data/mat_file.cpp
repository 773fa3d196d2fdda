#include "dml/data/mat_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "base/regular_file.h"

namespace dml::data {

namespace {

// Data element types (miINT8 ...).
enum : uint32_t {
  miINT8 = 1,
  miUINT8 = 2,
  miINT16 = 3,
  miUINT16 = 4,
  miINT32 = 5,
  miUINT32 = 6,
  miSINGLE = 7,
  miDOUBLE = 9,
  miINT64 = 12,
  miUINT64 = 13,
  miMATRIX = 14,
  miCOMPRESSED = 15,
  miUTF8 = 16,
  miUTF16 = 17,
  miUTF32 = 18,
};

constexpr size_t kHeaderBytes = 128;
constexpr uint32_t kComplexFlag = 0x0800, kLogicalFlag = 0x0200;

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // little-endian files on little-endian hosts only
  return v;
}

// Bytes per element of a numeric data type; 0 for the others.
size_t numeric_size(uint32_t type) {
  switch (type) {
    case miINT8:
    case miUINT8:
      return 1;
    case miINT16:
    case miUINT16:
      return 2;
    case miINT32:
    case miUINT32:
    case miSINGLE:
      return 4;
    case miDOUBLE:
    case miINT64:
    case miUINT64:
      return 8;
    default:
      return 0;
  }
}

double numeric_value(uint32_t type, const uint8_t* p) {
  switch (type) {
    case miINT8:
      return load<int8_t>(p);
    case miUINT8:
      return load<uint8_t>(p);
    case miINT16:
      return load<int16_t>(p);
    case miUINT16:
      return load<uint16_t>(p);
    case miINT32:
      return load<int32_t>(p);
    case miUINT32:
      return load<uint32_t>(p);
    case miSINGLE:
      return load<float>(p);
    case miDOUBLE:
      return load<double>(p);
    case miINT64:
      return double(load<int64_t>(p));
    default:
      return double(load<uint64_t>(p));
  }
}

struct Element {
  uint32_t type = 0;
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Reports damage with the file, the variable being read and a remedy.
struct Context {
  const std::string& path;
  std::string variable;

  template <class... Args>
  [[noreturn]] void fail(const Args&... message) const {
    throw Error(detail::concat("MAT file ", path, variable.empty() ? "" : ", variable '", variable,
                               variable.empty() ? "" : "'", ": ", message...));
  }
};

// Walks the data elements in one span of bytes.
class ElementReader {
 public:
  ElementReader(const uint8_t* data, size_t size, const Context& ctx)
      : data_(data), size_(size), ctx_(ctx) {}

  bool done() const { return pos_ >= size_; }
  size_t remaining() const { return done() ? 0 : size_ - pos_; }

  Element next(const char* what) {
    if (remaining() < 8) ctx_.fail("truncated: no room for the tag of ", what);
    const uint32_t first = load<uint32_t>(data_ + pos_);
    Element e;
    if (first >> 16) {  // small data element: type and size share 4 bytes, data the next 4
      e.type = first & 0xffff;
      e.size = first >> 16;
      if (e.size > 4) ctx_.fail("bad small element size ", e.size, " for ", what);
      e.data = data_ + pos_ + 4;
      pos_ += 8;
      return e;
    }
    e.type = first;
    e.size = load<uint32_t>(data_ + pos_ + 4);
    if (e.size > remaining() - 8)
      ctx_.fail("truncated: ", what, " claims ", e.size, " bytes but ", remaining() - 8, " remain");
    e.data = data_ + pos_ + 8;
    // Every element but a compressed one is padded to a multiple of 8 bytes.
    const size_t padded = e.type == miCOMPRESSED ? e.size : (e.size + 7) / 8 * 8;
    pos_ += 8 + padded;
    return e;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const Context& ctx_;
};

std::vector<uint8_t> inflate_element(const Element& e, const Context& ctx) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) ctx.fail("zlib cannot start (out of memory)");
  struct End {
    z_stream& zs;
    ~End() { inflateEnd(&zs); }
  } end{zs};
  std::vector<uint8_t> out(std::min<size_t>(kMatMaxBytes, std::max<size_t>(4096, e.size * 4)));
  zs.next_in = const_cast<Bytef*>(e.data);
  zs.avail_in = uInt(e.size);
  size_t produced = 0;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() >= kMatMaxBytes)
        ctx.fail("compressed variable expands beyond ", kMatMaxBytes, " bytes; refused");
      out.resize(std::min<size_t>(kMatMaxBytes, out.size() * 2));
    }
    const size_t room = std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_out = out.data() + produced;
    zs.avail_out = uInt(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0)
      ctx.fail("truncated compressed data (the file was cut short)");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      ctx.fail("corrupt compressed data (zlib: ", zs.msg ? zs.msg : "error", ")");
  }
  out.resize(produced);
  return out;
}

// Reads miMATRIX contents.
class MatrixParser {
 public:
  explicit MatrixParser(Context& ctx) : ctx_(ctx) {}

  // Parses the contents of one miMATRIX element; `name` receives the array's
  // name (empty inside cells and structs).
  MatArray parse(const Element& e, int depth, std::string* name) {
    if (e.type != miMATRIX) ctx_.fail("expected an array (miMATRIX), found data type ", e.type);
    if (depth > kMatMaxDepth) ctx_.fail("arrays nested deeper than ", kMatMaxDepth, " levels");
    MatArray a;
    if (e.size == 0) {  // an empty placeholder, as MATLAB writes [] inside cells and structs
      a.dims = {0, 0};
      return a;
    }
    ElementReader r(e.data, e.size, ctx_);
    const uint32_t flags = read_flags(r.next("array flags"), a);
    const int64_t n = read_dims(r.next("dimensions"), a);
    const Element name_el = r.next("array name");
    if (name_el.type != miINT8 && name_el.type != miUINT8)
      ctx_.fail("array name has data type ", name_el.type, ", expected miINT8");
    if (name) {
      name->assign(reinterpret_cast<const char*>(name_el.data), name_el.size);
      ctx_.variable = *name;
    }
    if (flags & kComplexFlag) ctx_.fail("complex arrays are not supported");
    switch (a.type) {
      case MatClass::cell:
        read_cells(r, n, a, depth);
        break;
      case MatClass::structure:
        read_struct(r, n, a, depth);
        break;
      case MatClass::character:
        read_chars(r.next("char data"), n, a);
        break;
      case MatClass::object:
      case MatClass::sparse:
        ctx_.fail("array class ", int(a.type), " (object or sparse) is not supported");
      default:
        read_numbers(r.next("numeric data"), n, a);
    }
    return a;
  }

 private:
  uint32_t read_flags(const Element& e, MatArray& a) {
    if (e.type != miUINT32 || e.size != 8) ctx_.fail("bad array flags element");
    const uint32_t flags = load<uint32_t>(e.data);
    const uint32_t type = flags & 0xff;
    if (type < 1 || type > 15)
      ctx_.fail("array class ", type, " is not supported (function handle or unknown)");
    a.type = MatClass(type);
    a.logical = flags & kLogicalFlag;
    return flags;
  }

  // Returns the element count, capped so that it cannot overflow; counts are
  // checked against the bytes that hold them before anything is allocated.
  int64_t read_dims(const Element& e, MatArray& a) {
    if (e.type != miINT32 || e.size % 4 != 0 || e.size < 8)
      ctx_.fail("bad dimensions element (", e.size, " bytes of type ", e.type, ")");
    int64_t numel = 1;
    for (size_t i = 0; i < e.size / 4; ++i) {
      const int32_t d = load<int32_t>(e.data + 4 * i);
      if (d < 0) ctx_.fail("negative dimension ", d);
      a.dims.push_back(d);
      // No array of more than kMatMaxBytes elements fits in a file: capping
      // there keeps the product from overflowing.
      numel = std::min<int64_t>(numel * d, int64_t(kMatMaxBytes) + 1);
    }
    return numel;
  }

  // Refuses a count of sub-elements the span cannot hold (each takes 8+ bytes).
  void require_room(const ElementReader& r, int64_t count, const char* what) {
    if (uint64_t(count) > r.remaining() / 8)
      ctx_.fail("truncated: ", count, " ", what, " cannot fit in ", r.remaining(), " bytes");
  }

  void read_cells(ElementReader& r, int64_t n, MatArray& a, int depth) {
    require_room(r, n, "cell elements");
    a.cells.reserve(size_t(n));
    for (int64_t i = 0; i < n; ++i)
      a.cells.push_back(parse(r.next("cell element"), depth + 1, nullptr));
  }

  void read_struct(ElementReader& r, int64_t n, MatArray& a, int depth) {
    const Element len_el = r.next("field name length");
    if (len_el.type != miINT32 || len_el.size != 4) ctx_.fail("bad field name length element");
    const int32_t len = load<int32_t>(len_el.data);
    const Element names = r.next("field names");
    if (len <= 0 || len > 64 || names.type != miINT8 || names.size % size_t(len) != 0)
      ctx_.fail("bad field names (", names.size, " bytes for names of ", len, " bytes)");
    for (size_t off = 0; off < names.size; off += size_t(len)) {
      const char* s = reinterpret_cast<const char*>(names.data + off);
      a.field_names.emplace_back(s, strnlen(s, size_t(len)));
    }
    const int64_t count = n * int64_t(a.field_names.size());
    require_room(r, count, "struct fields");
    a.fields.reserve(size_t(count));
    for (int64_t i = 0; i < count; ++i)
      a.fields.push_back(parse(r.next("struct field"), depth + 1, nullptr));
  }

  void read_numbers(const Element& e, int64_t n, MatArray& a) {
    const size_t size = numeric_size(e.type);
    if (size == 0) ctx_.fail("numeric array stored with non-numeric data type ", e.type);
    if (e.size != uint64_t(n) * size)
      ctx_.fail("numeric array of ", n, " elements holds ", e.size, " bytes of ", size,
                "-byte values");
    a.numbers.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) a.numbers[size_t(i)] = numeric_value(e.type, e.data + i * size);
  }

  void read_chars(const Element& e, int64_t n, MatArray& a) {
    switch (e.type) {
      case miUTF8:
        decode_utf8(e, a);
        break;
      case miUINT16:
      case miUTF16:
        if (e.size % 2) ctx_.fail("UTF-16 char data of odd length ", e.size);
        for (size_t i = 0; i < e.size; i += 2) a.chars.push_back(load<uint16_t>(e.data + i));
        break;
      case miINT8:
      case miUINT8:  // one byte per char (Latin-1)
        a.chars.assign(e.data, e.data + e.size);
        break;
      default:
        ctx_.fail("char array stored with data type ", e.type);
    }
    if (int64_t(a.chars.size()) != n)
      ctx_.fail("char array of ", n, " chars holds ", a.chars.size());
  }

  void decode_utf8(const Element& e, MatArray& a) {
    for (size_t i = 0; i < e.size;) {
      const uint8_t lead = e.data[i];
      const size_t len = lead < 0x80       ? 1
                         : lead >> 5 == 6  ? 2
                         : lead >> 4 == 14 ? 3
                         : lead >> 3 == 30 ? 4
                                           : 0;
      if (len == 0 || i + len > e.size) ctx_.fail("invalid UTF-8 in char data");
      char32_t c = len == 1 ? lead : lead & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) {
        if ((e.data[i + k] & 0xc0) != 0x80) ctx_.fail("invalid UTF-8 in char data");
        c = (c << 6) | (e.data[i + k] & 0x3f);
      }
      a.chars.push_back(c);
      i += len;
    }
  }

  Context& ctx_;
};

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xc0 | (c >> 6));
    out += char(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += char(0xe0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3f));
    out += char(0x80 | (c & 0x3f));
  } else {
    out += char(0xf0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3f));
    out += char(0x80 | ((c >> 6) & 0x3f));
    out += char(0x80 | (c & 0x3f));
  }
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  const std::string bytes =
      read_regular_file(path, "MAT file", " (check the dataset root)", kMatMaxBytes);
  return {bytes.begin(), bytes.end()};
}

void check_header(const std::vector<uint8_t>& bytes, const Context& ctx) {
  if (bytes.size() < kHeaderBytes)
    ctx.fail("only ", bytes.size(), " bytes; a MATLAB v5 MAT-file starts with a 128-byte header");
  if (bytes[126] == 'M' && bytes[127] == 'I')
    ctx.fail("big-endian MAT-files are not supported (re-save on a little-endian machine)");
  if (bytes[126] != 'I' || bytes[127] != 'M')
    ctx.fail("not a MATLAB v5 MAT-file (no 'IM' endian mark; v4 files are not supported)");
  const uint16_t version = load<uint16_t>(bytes.data() + 124);
  if (version != 0x0100)
    ctx.fail("MAT-file version ", version >> 8, ".", version & 0xff,
             " is not supported (v7.3 files are HDF5: re-save with save -v7)");
}

}  // namespace

int64_t MatArray::numel() const {
  // A parsed array with no zero dimension has at most kMatMaxBytes elements;
  // one with a zero may have huge other dimensions, so check for zero first.
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

bool MatArray::is_numeric() const {
  return type >= MatClass::f64 && type <= MatClass::u64;
}

double MatArray::scalar(std::string_view what) const {
  DML_CHECK(is_numeric() && numbers.size() == 1, what, ": expected a numeric scalar, got ",
            is_numeric() ? "a numeric array" : "a non-numeric array", " of ", numel(), " elements");
  return numbers[0];
}

std::string MatArray::text(std::string_view what) const {
  DML_CHECK(type == MatClass::character, what, ": expected a char array (a string), got class ",
            int(type));
  DML_CHECK(dims.size() == 2 && (dims[0] <= 1 || numel() == 0), what,
            ": expected one line of text, got a char array of ", dims[0], " rows");
  std::string out;
  for (size_t i = 0; i < chars.size(); ++i) {
    char32_t c = chars[i];
    // A UTF-16 surrogate pair stands for one code point.
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < chars.size() && chars[i + 1] >= 0xdc00 &&
        chars[i + 1] < 0xe000)
      c = 0x10000 + ((c - 0xd800) << 10) + (chars[++i] - 0xdc00);
    append_utf8(out, c);
  }
  return out;
}

const MatArray& MatArray::field(int64_t element, std::string_view name,
                                std::string_view what) const {
  DML_CHECK(type == MatClass::structure, what, ": expected a struct array, got class ", int(type));
  DML_CHECK(element >= 0 && element < numel(), what, ": element ", element,
            " is out of range for a struct array of ", numel());
  auto it = std::find(field_names.begin(), field_names.end(), name);
  DML_CHECK(it != field_names.end(), what, ": the struct has no field '", name, "'");
  return fields[size_t(element) * field_names.size() + size_t(it - field_names.begin())];
}

const MatArray& MatFile::at(std::string_view name) const {
  for (const auto& [n, a] : variables)
    if (n == name) return a;
  throw Error(
      detail::concat("MAT file ", path, " has no variable '", name, "' (is this the right file?)"));
}

bool MatFile::has(std::string_view name) const {
  return std::any_of(variables.begin(), variables.end(),
                     [&](const auto& v) { return v.first == name; });
}

MatFile read_mat_file(const std::string& path) {
  return parse_mat_file(read_bytes(path), path);
}

MatFile parse_mat_file(const std::vector<uint8_t>& bytes, const std::string& path) {
  DML_CHECK(bytes.size() <= kMatMaxBytes, "MAT file ", path, " is larger than ", kMatMaxBytes,
            " bytes; refused");
  Context ctx{path, ""};
  check_header(bytes, ctx);
  MatFile file;
  file.path = path;
  ElementReader top(bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes, ctx);
  while (!top.done()) {
    ctx.variable.clear();
    const Element e = top.next("a variable");
    MatrixParser parser(ctx);
    std::string name;
    MatArray array;
    if (e.type == miCOMPRESSED) {
      const std::vector<uint8_t> plain = inflate_element(e, ctx);
      ElementReader inner(plain.data(), plain.size(), ctx);
      array = parser.parse(inner.next("a compressed variable"), 0, &name);
    } else {
      array = parser.parse(e, 0, &name);
    }
    file.variables.emplace_back(std::move(name), std::move(array));
  }
  return file;
}

}  // namespace dml::data
