#include "fairness/report/html_page.h"

#include <sstream>

#include "fairness/report/html_text.h"

namespace dml::fairness {

namespace {

const char* const kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 0; } h3 { font-size: 1.05em; }
.docs { display: flex; flex-wrap: wrap; gap: 32px; align-items: flex-start; }
.doc { flex: 1 1 600px; min-width: 0; }
.cells { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.missing { color: #888; font-style: italic; }
svg.chart { display: block; margin: 8px 0 16px; max-width: 100%; height: auto; }
svg.chart text { font-size: 11px; fill: #222; }
svg.chart .chart-title { font-size: 13px; font-weight: bold; }
svg.chart .tick { text-anchor: end; }
svg.chart .category, svg.chart .note { text-anchor: middle; }
svg.chart .note { fill: #555; }
svg.chart .grid { stroke: #e4e4e4; }
svg.chart .axis { stroke: #444; }
svg.chart .frame { fill: none; stroke: #ccc; }
svg.chart .errorbar { stroke-width: 1.5; stroke-opacity: 0.65; }
svg.chart .reference { stroke: #777; stroke-dasharray: 5 4; }
svg.chart .join { fill: none; stroke-width: 1; stroke-opacity: 0.7; }
svg.chart .point { stroke: #fff; stroke-width: 1; }
svg.chart .point-label { font-size: 10px; fill: #444; }
)";

}  // namespace

std::string page_begin(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" +
         html_escape(title) + "</h1>\n";
}

std::string page_end() {
  return "</body>\n</html>\n";
}

std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows, bool numbers,
                       const std::string& id) {
  std::ostringstream os;
  os << "<table" << (id.empty() ? "" : " id=\"" + html_escape(id) + "\"") << ">\n";
  if (!header.empty()) {
    os << "<tr>";
    for (const std::string& h : header) os << "<th>" << h << "</th>";
    os << "</tr>\n";
  }
  for (const auto& row : rows) {
    os << "<tr>";
    for (size_t i = 0; i < row.size(); ++i)
      os << (i == 0 || !numbers ? "<td>" : "<td class=\"num\">") << row[i] << "</td>";
    os << "</tr>\n";
  }
  os << "</table>\n";
  return os.str();
}

}  // namespace dml::fairness
