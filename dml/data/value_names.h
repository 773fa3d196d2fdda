#pragma once
// What a column's integer codes mean. Readers code class labels and attribute
// values as integers (samplers, losses and metrics index by them); where the
// source names them (a CSV string column, a class folder, CelebA's -1 / 1,
// the tone benchmark's transforms, Fashion-MNIST's classes) the names travel
// beside the codes, so reports can say "tone=inverted" rather than "tone=1".
// A code without a name is shown as its number.
//
// Names end up in JSON (names.json, audit documents, checkpoint metadata),
// which must be valid UTF-8: readers refuse a name that is not, naming the
// file and line, rather than guess its encoding.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace dml::data {

using ValueNames = std::map<int64_t, std::string>;

// The name of `value`, or the value as a decimal number when it has none.
std::string value_name(const ValueNames& names, int64_t value);

// The names of a present / absent attribute (CelebA's 1 / -1, CUB's
// is_present): 0 "no", 1 "yes", so reports read "Male=yes".
const ValueNames& yes_no_names();

// `text` without spaces and tabs at either end: two names equal after this
// would read as one in a report, so readers refuse such pairs.
std::string_view trim_spaces(std::string_view text);

// Whether `text` holds a control character (a line break, a tab, ...): a
// name is shown on one line of a table or log, so readers refuse one.
bool has_control_character(std::string_view text);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code
// points past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every byte outside printable ASCII written as \xNN: shows a
// name that is not UTF-8 in an error message without passing its bytes on.
std::string escape_bytes(std::string_view text);

}  // namespace dml::data
