#include "tools/config_flag.h"

#include <algorithm>

#include "base/error.h"
#include "dml/train/config.h"

namespace dml::tools {

namespace {

// The type of a key's default as --help names it, and in words.
const char* type_name(const Json& like) {
  if (like.is_boolean()) return "BOOL";
  if (like.is_number_integer()) return "INT";
  if (like.is_number()) return "FLOAT";
  return "TEXT";
}

const char* type_words(const Json& like) {
  if (like.is_boolean()) return "true or false";
  if (like.is_number_integer()) return "an integer";
  return "a number";
}

}  // namespace

CLI::Option* add_config_flag(CLI::App* cmd, const std::string& flag, const std::string& key,
                             const std::string& help, std::string& value) {
  std::string pointer = "/" + key;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  const Json like = train::default_config().at(Json::json_pointer(pointer));
  const CLI::Validator same_type(
      [like](std::string& text) -> std::string {
        try {
          if (train::same_kind(like, train::parse_override_value(text, "value"))) return "";
        } catch (const Error& e) {  // an object repeating a key
          return e.what();
        }
        return "'" + text + "' is not " + type_words(like);
      },
      "", "same type as the config key");
  return cmd->add_option(flag, value, help + " [" + key + "]")
      ->type_name(type_name(like))
      ->default_str(like.is_string() ? like.get<std::string>() : like.dump())
      ->check(same_type);
}

}  // namespace dml::tools
