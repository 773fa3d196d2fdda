#pragma once
// JSON that users write (config files): parsed with the place of every
// mistake. A syntax error reads "<origin>:<line>:<column>: <what>"; a key
// given twice in one object, at any depth, is an error naming its path and
// both lines (a plain parse keeps the last value and says nothing). One pass,
// linear in the text's size: an object may hold at most 1000 keys (the
// ordered Json's objects insert in linear time).
#include <string>

#include "dml/json.h"

namespace dml::train {

// Throws dml::Error naming `origin` (the file) as above.
Json parse_json_text(const std::string& text, const std::string& origin);

}  // namespace dml::train
