#pragma once
// The report's charts as inline SVG (no scripts, fonts or external files), so
// the page renders offline in any browser. Every string is escaped here.
#include <array>
#include <string>
#include <vector>

namespace dml::fairness {

// The colour of series or category i (Tableau 10, repeating after ten).
const char* chart_colour(size_t i);

// Grouped bars: one group of bars per category (e.g. a metric), one bar per
// series (e.g. a subgroup), each bar titled with its value; a note line under
// each category (e.g. the gap). NaN values draw no bar. The value axis spans
// [0, 1] when every value lies there, else the values' range with 0.
struct BarChart {
  std::string title;
  std::vector<std::string> categories;
  std::vector<std::string> notes;  // empty, or one per category
  struct Series {
    std::string name;
    std::vector<double> values;  // one per category
  };
  std::vector<Series> series;
};
std::string render_bar_chart(const BarChart& chart);

// Points coloured by category, equal scale on both axes, with a legend.
// Points are drawn in the order of `draw_order` (all indices when empty), so
// a small category can be drawn last, on top. Non-finite points are skipped.
struct ScatterChart {
  std::string title;
  std::vector<std::array<double, 2>> points;
  std::vector<size_t> category;  // index into category_names, one per point
  std::vector<std::string> category_names;
  std::vector<size_t> draw_order;
};
std::string render_scatter_chart(const ScatterChart& chart);

}  // namespace dml::fairness
