#pragma once
// Checks on a rendered report page as text: tags balanced, nothing fetched
// from the network. Shared by the audit and the sweep report tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace dml::test {

// How often `what` occurs in `text` (overlaps counted).
inline int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every tag the report emits opens and closes in nesting order (void and
// self-closed elements aside); throws a test failure naming the first misfit.
inline void expect_balanced_tags(const std::string& html) {
  const std::vector<std::string> void_elements = {"meta", "br", "hr", "img", "link"};
  std::vector<std::string> open;
  for (size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    const size_t end = html.find('>', at);
    ASSERT_NE(end, std::string::npos) << "unterminated tag at " << at;
    const std::string tag = html.substr(at + 1, end - at - 1);
    if (tag.starts_with("!")) continue;  // <!DOCTYPE html>
    const bool closing = tag.starts_with("/"), self_closed = tag.ends_with("/");
    const std::string name =
        tag.substr(closing ? 1 : 0, tag.find_first_of(" />", closing ? 1 : 0) - (closing ? 1 : 0));
    if (closing) {
      ASSERT_FALSE(open.empty()) << "</" << name << "> at " << at << " closes nothing";
      ASSERT_EQ(open.back(), name)
          << "</" << name << "> at " << at << " closes <" << open.back() << ">";
      open.pop_back();
    } else if (!self_closed &&
               std::find(void_elements.begin(), void_elements.end(), name) == void_elements.end()) {
      open.push_back(name);
    }
  }
  EXPECT_TRUE(open.empty()) << "<" << open.back() << "> never closed";
}

inline void expect_no_network_references(const std::string& html) {
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  EXPECT_EQ(lower.find("http"), std::string::npos);
  EXPECT_EQ(lower.find("<script"), std::string::npos);
  EXPECT_EQ(lower.find("<link"), std::string::npos);
  EXPECT_EQ(lower.find("url("), std::string::npos);
  EXPECT_EQ(lower.find("@import"), std::string::npos);
}

}  // namespace dml::test
