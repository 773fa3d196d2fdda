#pragma once
// Text for the self-contained HTML report: escaping (every string that comes
// from a document, a dataset or a user goes through it) and the one number
// format the report uses.
#include <string>
#include <string_view>

namespace dml::fairness {

// & < > " ' as character references: safe in element content and in quoted
// attribute values, in HTML and in inline SVG.
std::string html_escape(std::string_view text);

// `text` cut to at most `max_chars` characters (UTF-8 code points, never
// inside one), the last of them an ellipsis when cut: long names in a chart's
// fixed-width legend. Escape the result like any other text.
std::string shorten(std::string_view text, size_t max_chars);

// `value` with a fixed number of decimals; NaN (a null in the document) as
// "n/a", infinities as "inf" / "-inf", and never "-0.00".
std::string format_fixed(double value, int decimals);

// Metric values: fixed 4 decimals ("0.8200", "-2.1000").
inline std::string format_metric(double value) {
  return format_fixed(value, 4);
}

}  // namespace dml::fairness
