#pragma once
// A run's names of class labels and attribute values (dml/data/value_names.h)
// as one JSON object, keyed by the dataset's own codes (the splits as read,
// before training numbers its classes 0 .. C-1):
//   {"classes": {"5": "Sandal", ...},
//    "attributes": {"tone": {"0": "original", "1": "inverted"}, "age": {}}}
// An attribute of integer values has no entries: its values are their own
// names. It is written beside config.json (names.json), into checkpoints' and
// exported models' metadata ("names", so a model file alone carries them) and
// beside `dml embed`'s arrays (<prefix>.names.json), where `dml audit
// --embeddings` finds it.
#include <string>
#include <vector>

#include "dml/data/sample.h"
#include "dml/json.h"

namespace dml::train {

// The names of every split given, merged (the readers code a dataset's
// splits alike).
Json names_json(const std::vector<const data::SampleSet*>& splits);

// Parts of such an object; a missing part is empty, a malformed one throws
// naming `where` (the file it came from).
data::ValueNames class_names_of(const Json& names, const std::string& where);
data::ValueNames attribute_value_names_of(const Json& names, const std::string& attribute,
                                          const std::string& where);

// The file name `dml embed` writes beside <prefix>.embeddings.npy.
std::string embedding_names_path(const std::string& prefix);

// The object in `path`, or an empty object when there is no such file (arrays
// written before names were kept); an unreadable or malformed file throws.
Json read_names_file(const std::string& path);

}  // namespace dml::train
