#include "dml/train/json_text.h"

#include <iterator>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace dml::train {

namespace {

constexpr size_t kMaxKeysPerObject = 1000;

// A character iterator that publishes how far the parser has read, so the
// SAX events below know where in the text they are.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* at, const char** read_up_to) : at_(at), read_up_to_(read_up_to) {}
  const char& operator*() const { return *at_; }
  TrackingIterator& operator++() {
    *read_up_to_ = ++at_;
    return *this;
  }
  bool operator==(const TrackingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  const char** read_up_to_;
};

// Line and column (both from 1) of byte offsets asked for in increasing
// order, counting each newline once.
class LineCounter {
 public:
  explicit LineCounter(const std::string& text) : text_(text) {}
  std::pair<size_t, size_t> at(size_t offset) {
    for (; scanned_ < offset && scanned_ < text_.size(); ++scanned_)
      if (text_[scanned_] == '\n') {
        ++line_;
        line_start_ = scanned_ + 1;
      }
    return {line_, offset - line_start_ + 1};
  }

 private:
  const std::string& text_;
  size_t scanned_ = 0, line_ = 1, line_start_ = 0;
};

// nlohmann's DOM builder, plus the path of the value being read and the keys
// of every open object, so a repeated key is caught where it appears.
class CheckedDomParser : public nlohmann::detail::json_sax_dom_parser<Json> {
  using Base = nlohmann::detail::json_sax_dom_parser<Json>;

 public:
  CheckedDomParser(Json& out, const std::string& text, const std::string& origin,
                   const char** read_up_to)
      : Base(out), text_(text), origin_(origin), read_up_to_(read_up_to), lines_(text) {}

  bool null() { return value() && Base::null(); }
  bool boolean(bool v) { return value() && Base::boolean(v); }
  bool number_integer(number_integer_t v) { return value() && Base::number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return value() && Base::number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) {
    return value() && Base::number_float(v, s);
  }
  bool string(string_t& v) { return value() && Base::string(v); }
  bool binary(binary_t& v) { return value() && Base::binary(v); }
  bool start_object(size_t n) {
    value();
    frames_.push_back({});
    return Base::start_object(n);
  }
  bool end_object() {
    frames_.pop_back();
    return Base::end_object();
  }
  bool start_array(size_t n) {
    value();
    frames_.emplace_back().array = true;
    return Base::start_array(n);
  }
  bool end_array() {
    frames_.pop_back();
    return Base::end_array();
  }
  bool key(string_t& k) {
    // The parser has just read the key's closing quote.
    const size_t after = size_t(*read_up_to_ - text_.data());
    const auto [line, column] = lines_.at(key_start(after));
    Frame& f = frames_.back();
    f.key = k;
    // nlohmann's ordered objects find a key by linear search, so an object
    // of n keys builds in O(n^2); no config comes near this bound.
    DML_CHECK(f.line_of_key.size() < kMaxKeysPerObject, origin_, ":", line, ":", column,
              ": an object holds more than ", kMaxKeysPerObject,
              " keys; no config needs that many");
    const auto [first, inserted] = f.line_of_key.emplace(k, line);
    DML_CHECK(inserted, origin_, ":", line, ":", column, ": duplicate key '", path(),
              "' (first at line ", first->second,
              "); a repeated key would silently replace the "
              "first value, so keep one");
    return Base::key(k);
  }
  template <class Exception>
  bool parse_error(size_t byte, const std::string&, const Exception& e) {
    // nlohmann: "[json.exception.parse_error.101] parse error at line 1,
    // column 5: syntax error ..."; its byte counts from 1.
    std::string what = e.what();
    if (const size_t colon = what.find(": ", what.find("parse error")); colon != std::string::npos)
      what = what.substr(colon + 2);
    const auto [line, column] = lines_.at(byte == 0 ? 0 : byte - 1);
    throw Error(origin_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
  }

 private:
  struct Frame {
    bool array = false;
    int64_t index = -1;  // arrays: of the element being read
    std::string key;     // objects: of the value being read
    std::unordered_map<std::string, size_t> line_of_key;
  };

  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }

  // Where the key ending at `after` (past its closing quote) opens: the
  // first unescaped quote before that one.
  size_t key_start(size_t after) const {
    size_t at = after >= 2 ? after - 2 : 0;
    while (at > 0 && !(text_[at] == '"' && text_[at - 1] != '\\')) --at;
    return at;
  }

  std::string path() const {
    std::string out;
    for (const Frame& f : frames_) {
      if (f.array) {
        out.append("[").append(std::to_string(f.index)).append("]");
        continue;
      }
      if (!out.empty()) out.append(".");
      out.append(f.key);
    }
    return out;
  }

  const std::string& text_;
  const std::string& origin_;
  const char** read_up_to_;
  LineCounter lines_;
  std::vector<Frame> frames_;
};

}  // namespace

Json parse_json_text(const std::string& text, const std::string& origin) {
  Json out;
  const char* read_up_to = text.data();
  CheckedDomParser sax(out, text, origin, &read_up_to);
  Json::sax_parse(TrackingIterator(text.data(), &read_up_to),
                  TrackingIterator(text.data() + text.size(), &read_up_to), &sax);
  return out;
}

}  // namespace dml::train
