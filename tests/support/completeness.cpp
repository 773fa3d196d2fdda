#include "tests/support/completeness.h"

#include <algorithm>
#include <regex>
#include <sstream>

namespace dml::test {

std::vector<std::string> uncovered(const std::vector<std::string>& required,
                                   const std::vector<std::string>& cases,
                                   const Exemptions& exempt) {
  std::vector<std::string> out;
  for (const std::string& name : required) {
    const bool covered = std::any_of(cases.begin(), cases.end(), [&](const std::string& c) {
      return c == name || c.rfind(name + "_", 0) == 0;
    });
    if (!covered && !exempt.count(name)) out.push_back(name);
  }
  return out;
}

std::vector<std::string> stale_exemptions(const Exemptions& exempt,
                                          const std::vector<std::string>& required) {
  std::vector<std::string> out;
  for (const auto& [name, why] : exempt)
    if (std::find(required.begin(), required.end(), name) == required.end()) out.push_back(name);
  return out;
}

std::vector<std::string> declared_ops(const std::string& header) {
  static const std::regex declaration(R"(^(?:Tensor|std::pair<Tensor, Tensor>|KnnResult) (\w+)\()");
  std::vector<std::string> out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, declaration) &&
        std::find(out.begin(), out.end(), m[1].str()) == out.end())
      out.push_back(m[1]);
  }
  return out;
}

std::vector<std::string> code_spans_between(const std::string& markdown, const std::string& begin,
                                            const std::string& end) {
  const size_t from = markdown.find(begin);
  if (from == std::string::npos) return {};
  const std::string text = markdown.substr(from, markdown.find(end, from + begin.size()) - from);
  static const std::regex span("`([^`]+)`");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), span); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

}  // namespace dml::test
