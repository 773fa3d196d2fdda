#include "dml/train/run_names.h"

#include <charconv>
#include <filesystem>

#include "dml/data/list_file.h"
#include "engine/atomic_file.h"

namespace dml::train {

namespace {

Json value_names_json(const data::ValueNames& names) {
  Json out = Json::object();
  for (const auto& [value, name] : names) out[std::to_string(value)] = name;
  return out;
}

data::ValueNames value_names_from(const Json& object, const std::string& where,
                                  const std::string& key) {
  data::ValueNames out;
  if (object.is_null()) return out;
  DML_CHECK(object.is_object(), where, ": '", key, "' must be an object of code -> name, got ",
            object.dump());
  for (const auto& [code, name] : object.items()) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
    DML_CHECK(ec == std::errc() && end == code.data() + code.size() && name.is_string(), where,
              ": '", key, "' entry \"", code, "\": ", name.dump(),
              " must map an integer code to a name string");
    out[value] = name.get<std::string>();
  }
  return out;
}

const Json& part(const Json& names, const std::string& key) {
  static const Json none;
  return names.is_object() && names.contains(key) ? names[key] : none;
}

}  // namespace

Json names_json(const std::vector<const data::SampleSet*>& splits) {
  data::ValueNames classes;
  Json attributes = Json::object();
  for (const data::SampleSet* set : splits) {
    classes.insert(set->class_names.begin(), set->class_names.end());
    for (size_t a = 0; a < set->attribute_names.size(); ++a) {
      Json& entry = attributes[set->attribute_names[a]];
      if (entry.is_null()) entry = Json::object();
      entry.update(value_names_json(data::attribute_value_names(*set, a)));
    }
  }
  return {{"classes", value_names_json(classes)}, {"attributes", attributes}};
}

data::ValueNames class_names_of(const Json& names, const std::string& where) {
  return value_names_from(part(names, "classes"), where, "classes");
}

data::ValueNames attribute_value_names_of(const Json& names, const std::string& attribute,
                                          const std::string& where) {
  return value_names_from(part(part(names, "attributes"), attribute), where,
                          "attributes." + attribute);
}

std::string embedding_names_path(const std::string& prefix) {
  return prefix + ".names.json";
}

Json read_names_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Json::object();
  Json names = Json::parse(data::read_text_file(path, "names file"), nullptr, false);
  DML_CHECK(!names.is_discarded() && names.is_object(), "names file ", path,
            " is not a JSON object; write it again with dml embed, or delete it to show codes");
  return names;
}

}  // namespace dml::train
