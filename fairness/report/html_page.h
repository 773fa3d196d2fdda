#pragma once
// What the report pages share: one style sheet, the page around a body and
// tables, so the audit page and the sweep page look alike and the audit
// documents' sections can sit inside a sweep page unchanged.
#include <string>
#include <vector>

namespace dml::fairness {

// "<!DOCTYPE html>" up to and including the page's <h1>, with the inline
// style sheet: `title` (escaped here) is both the <title> and the heading.
std::string page_begin(const std::string& title);

// Closes what page_begin opened.
std::string page_end();

// Cells are HTML, already escaped. A table of numbers right-aligns every
// column after the first; an empty header draws no header row; a non-empty
// `id` lets a page or a test find the table.
std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows, bool numbers = true,
                       const std::string& id = "");

}  // namespace dml::fairness
