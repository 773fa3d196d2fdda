#include "engine/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/regular_file.h"
#include "engine/atomic_file.h"

namespace dml {

// Tensor bytes go to and from the file as they lie in memory; the format is
// little-endian.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

using json = nlohmann::json;

// Every message past the open (base/regular_file.h) starts with the path, so
// a tool can print it as the whole error.
template <class... Args>
[[noreturn]] void fail(const std::string& path, const Args&... args) {
  throw Error(detail::concat(path, ": ", args...));
}

// --- dtypes -------------------------------------------------------------------

struct DTypeCode {
  const char* code;  // as spelled in the header
  DType dtype;
};
// BOOL is PyTorch's one-byte bool; it reads as u8 0/1, the engine's mask type.
// u8 is written back as U8, so the table is searched front to back.
constexpr DTypeCode kDTypeCodes[] = {
    {"F32", DType::f32}, {"F64", DType::f64}, {"F16", DType::f16}, {"BF16", DType::bf16},
    {"I32", DType::i32}, {"I64", DType::i64}, {"U8", DType::u8},   {"BOOL", DType::u8},
};

std::optional<DType> dtype_from_code(const std::string& code) {
  for (const DTypeCode& c : kDTypeCodes)
    if (code == c.code) return c.dtype;
  return std::nullopt;
}

const char* code_of(DType t) {
  for (const DTypeCode& c : kDTypeCodes)
    if (c.dtype == t) return c.code;
  throw Error(detail::concat("safetensors: no code for dtype ", dtype_name(t)));
}

std::string supported_codes() {
  std::string s;
  for (const DTypeCode& c : kDTypeCodes) s += (s.empty() ? "" : ", ") + std::string(c.code);
  return s;
}

// --- message helpers --------------------------------------------------------

// Text from a hostile file made fit for a one-line message: control bytes
// (and, unless the text is known to be UTF-8, all non-ASCII bytes) escaped,
// long text cut.
std::string printable(const std::string& text, bool utf8) {
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (text.size() > kMax) out += "...";
  return out;
}

// A name from the header (valid UTF-8: the JSON parser checked it), quoted.
std::string quote_name(const std::string& name) {
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "'" + string&&.
  std::string out = "'";
  out += printable(name, true);
  out += '\'';
  return out;
}

// A short rendering of a JSON value for a message.
std::string snippet(const json& j) {
  constexpr size_t kMax = 80;
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

std::string range_str(uint64_t begin, uint64_t end) {
  return detail::concat("[", begin, ", ", end, ")");
}

// --- reading ----------------------------------------------------------------

// An open input file (a regular one: a directory or device would report a
// size that means nothing) with its size; closed on scope exit.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : file_(path, "safetensors file") {}
  uint64_t size() const { return file_.size(); }

  // Reads exactly n bytes; the sizes were checked against the file size, so
  // a short read means the file changed.
  void read(void* dst, uint64_t n, const char* what) {
    if (file_.read_some(dst, size_t(n)) != n)
      fail(file_.path(), "read failed in the ", what, " (file shorter than when opened)");
  }

 private:
  RegularFile file_;
};

uint64_t read_header_length(InputFile& in, const std::string& path) {
  if (in.size() < 8)
    fail(path, "file is ", in.size(),
         " bytes, too short for the 8-byte header length; not a safetensors file");
  unsigned char b[8];
  in.read(b, 8, "header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
  if (n > kSafetensorsMaxHeaderBytes)
    fail(path, "header length ", n, " is absurd (over ", kSafetensorsMaxHeaderBytes,
         " bytes); not a safetensors file or a corrupt one");
  if (n > in.size() - 8)
    fail(path, "header length ", n, " runs past the end of the file (", in.size(),
         " bytes); the file is truncated or corrupt");
  return n;
}

// Parses the header text. A valid header nests no deeper than
// object -> entry -> shape array; deeper nesting is refused while parsing so
// a header of brackets cannot exhaust memory. Duplicate keys, which JSON
// parsers silently resolve, are refused too.
json parse_header(const std::string& path, const std::string& text) {
  constexpr int kMaxDepth = 8;
  std::set<std::string> names;
  auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxDepth)
      fail(path, "header JSON nests deeper than ", kMaxDepth,
           " levels; no safetensors header does");
    if (event == json::parse_event_t::key && depth == 1 &&
        !names.insert(parsed.get<std::string>()).second)
      fail(path, "header names ", quote_name(parsed.get<std::string>()), " twice");
    return true;
  };
  // nlohmann stops at a NUL byte as if the input ended there, which would
  // hide whatever follows; JSON text never holds a raw NUL.
  if (size_t nul = text.find('\0'); nul != std::string::npos)
    fail(path, "header is not valid JSON (a NUL byte at offset ", nul, ")");
  json header;
  try {
    header = json::parse(text, check);
  } catch (const json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    std::string what = e.what();
    size_t tag_end = what.find("] ");
    if (tag_end != std::string::npos) what.erase(0, tag_end + 2);
    // The message quotes the bytes last read, which may be anything.
    fail(path, "header is not valid JSON (", printable(what, false), ")");
  }
  if (!header.is_object())
    fail(path, "header is a JSON ", header.type_name(), ", expected an object of tensors");
  return header;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& j) {
  if (!j.is_object())
    fail(path, "\"__metadata__\" is a JSON ", j.type_name(),
         ", expected an object of string to string");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string())
      fail(path, "\"__metadata__\" entry ", quote_name(key), " is a JSON ", value.type_name(),
           ", expected a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

// One header entry, checked on its own.
struct Entry {
  std::string name;
  std::string code;  // the dtype as spelled in the file
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

const json& field(const std::string& path, const std::string& name, const json& entry,
                  const char* key) {
  auto it = entry.find(key);
  if (it == entry.end())
    fail(path, "tensor ", quote_name(name), " has no \"", key,
         "\" (each tensor needs dtype, shape and data_offsets)");
  return *it;
}

// A JSON integer in [0, max], or nullopt (a float, a negative, a huge value).
std::optional<uint64_t> non_negative_integer(const json& j, uint64_t max) {
  // nlohmann stores a non-negative literal as unsigned, except "-0".
  if (j.is_number_integer() && !j.is_number_unsigned() && j.get<int64_t>() == 0) return 0;
  if (j.is_number_unsigned() && j.get<uint64_t>() <= max) return j.get<uint64_t>();
  return std::nullopt;
}

Shape parse_shape(const std::string& path, const std::string& name, const json& j) {
  if (!j.is_array())
    fail(path, "tensor ", quote_name(name), ": \"shape\" is a JSON ", j.type_name(),
         ", expected an array of non-negative integers");
  Shape shape;
  for (size_t d = 0; d < j.size(); ++d) {
    auto size = non_negative_integer(j[d], uint64_t(std::numeric_limits<int64_t>::max()));
    if (!size)
      fail(path, "tensor ", quote_name(name), ": dimension ", d, " of \"shape\" is ", snippet(j[d]),
           ", expected a non-negative integer");
    shape.push_back(int64_t(*size));
  }
  return shape;
}

Entry parse_entry(const std::string& path, const std::string& name, const json& j) {
  if (!j.is_object())
    fail(path, "tensor ", quote_name(name), " is a JSON ", j.type_name(),
         ", expected an object with dtype, shape and data_offsets");
  Entry e;
  e.name = name;

  const json& dtype = field(path, name, j, "dtype");
  if (!dtype.is_string())
    fail(path, "tensor ", quote_name(name), ": \"dtype\" is a JSON ", dtype.type_name(),
         ", expected a string");
  e.code = dtype.get<std::string>();
  auto t = dtype_from_code(e.code);
  if (!t)
    fail(path, "tensor ", quote_name(name), " has dtype ", quote_name(e.code),
         ", which is not supported (supported: ", supported_codes(), ")");
  e.dtype = *t;

  e.shape = parse_shape(path, name, field(path, name, j, "shape"));

  const json& offsets = field(path, name, j, "data_offsets");
  std::optional<uint64_t> begin, end;
  if (offsets.is_array() && offsets.size() == 2) {
    begin = non_negative_integer(offsets[0], std::numeric_limits<uint64_t>::max());
    end = non_negative_integer(offsets[1], std::numeric_limits<uint64_t>::max());
  }
  if (!begin || !end)
    fail(path, "tensor ", quote_name(name), ": \"data_offsets\" is ", snippet(offsets),
         ", expected [begin, end] with two non-negative integers");
  e.begin = *begin;
  e.end = *end;
  return e;
}

// Bytes the entry's shape and dtype need. Shapes whose element count (of the
// non-zero dims, so no partial product anywhere overflows) or byte count does
// not fit int64 are refused.
uint64_t shape_bytes(const std::string& path, const Entry& e) {
  constexpr uint64_t kMax = uint64_t(std::numeric_limits<int64_t>::max());
  const uint64_t elem = dtype_size(e.dtype);
  uint64_t count = 1;
  bool empty = false;
  for (int64_t d : e.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (count > kMax / uint64_t(d) || count * uint64_t(d) > kMax / elem)
      fail(path, "tensor ", quote_name(e.name), ": shape ", shape_str(e.shape), " of ", e.code,
           " has too many elements (its byte size overflows int64)");
    count *= uint64_t(d);
  }
  return empty ? 0 : count * elem;
}

void check_entry_range(const std::string& path, const Entry& e, uint64_t buffer_bytes) {
  if (e.begin > e.end)
    fail(path, "tensor ", quote_name(e.name), " has data_offsets ", range_str(e.begin, e.end),
         " with begin after end");
  const uint64_t bytes = shape_bytes(path, e);
  if (e.end - e.begin != bytes)
    fail(path, "tensor ", quote_name(e.name), " data_offsets ", range_str(e.begin, e.end),
         " do not match its shape ", shape_str(e.shape), " of ", e.code, " (", bytes, " bytes)");
  if (e.end > buffer_bytes)
    fail(path, "tensor ", quote_name(e.name), " data_offsets ", range_str(e.begin, e.end),
         " run past the end of the data buffer (", buffer_bytes, " bytes)");
}

// Sorts the entries by offset and checks that their ranges tile the data
// buffer exactly: no overlap (one tensor's bytes read as another's), no gap
// and no trailing bytes (data no tensor accounts for).
void check_layout(const std::string& path, std::vector<Entry>& entries, uint64_t buffer_bytes) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;  // the data buffer is tiled up to here
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      fail(path, "tensor ", quote_name(e.name), " data_offsets ", range_str(e.begin, e.end),
           " overlap tensor ", quote_name(previous->name), " at ",
           range_str(previous->begin, previous->end));
    if (e.begin > covered)
      fail(path, "bytes ", range_str(covered, e.begin), " of the data buffer belong to no tensor",
           " (a gap before tensor ", quote_name(e.name),
           "); the tensors must cover the buffer exactly");
    covered = e.end;
    previous = &e;
  }
  if (covered < buffer_bytes)
    fail(path, "the data buffer has ", buffer_bytes - covered, " trailing bytes ",
         range_str(covered, buffer_bytes),
         " that belong to no tensor; the tensors must cover the buffer exactly");
}

// --- writing ----------------------------------------------------------------

// The header text, padded with spaces to a multiple of 8 bytes.
std::string header_text(const std::string& path, const NamedTensors& tensors,
                        const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the tensors in the order given, and each entry's keys
  // in the order the reference writer uses.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    nlohmann::ordered_json entry;
    entry["dtype"] = code_of(t.dtype());
    entry["shape"] = t.shape();
    entry["data_offsets"] = {offset, offset + t.nbytes()};
    offset += t.nbytes();
    header[name] = std::move(entry);
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::ordered_json::exception&) {
    fail(path, "a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void check_names(const std::string& path, const NamedTensors& tensors) {
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__")
      fail(path, "cannot write a tensor named \"__metadata__\"; the name is reserved");
    if (!seen.insert(name).second) fail(path, "tensor name ", quote_name(name), " appears twice");
    if (!t.defined()) fail(path, "tensor ", quote_name(name), " is undefined");
  }
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
  InputFile in(path);
  const uint64_t header_bytes = read_header_length(in, path);
  std::string text(header_bytes, '\0');
  in.read(text.data(), header_bytes, "header");
  const json header = parse_header(path, text);
  const uint64_t buffer_bytes = in.size() - 8 - header_bytes;

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      out.metadata = parse_metadata(path, value);
      continue;
    }
    entries.push_back(parse_entry(path, name, value));
    check_entry_range(path, entries.back(), buffer_bytes);
  }
  check_layout(path, entries, buffer_bytes);

  // The ranges tile the buffer in this order, so the data reads straight
  // through; every allocation is bounded by the file size.
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    in.read(t.raw_data(), e.end - e.begin, "tensor data");
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  check_names(path, tensors);
  NamedTensors cpu;
  cpu.reserve(tensors.size());
  for (const auto& [name, t] : tensors) cpu.emplace_back(name, t.detach().to(Device::cpu()));
  const std::string header = header_text(path, cpu, metadata);

  AtomicFile out(path);
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(header.size() >> (8 * i));
  out.write(length, 8);
  out.write(header.data(), header.size());
  for (const auto& [name, t] : cpu) out.write(t.raw_data(), t.nbytes());
  out.commit();
}

}  // namespace dml
