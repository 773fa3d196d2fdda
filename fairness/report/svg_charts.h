#pragma once
// The report's charts as inline SVG (no scripts, fonts or external files), so
// the page renders offline in any browser. Every string is escaped here.
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "fairness/uncertainty.h"  // Interval: an estimate and its bounds, NaN where unknown

namespace dml::fairness {

// The colour of series or category i (Tableau 10, repeating after ten).
const char* chart_colour(size_t i);

// "0.7700 [0.7600, 0.7800]"; the bracket only where an end is known, NaN as
// "n/a" (the form of the charts' tooltips, and of tables beside them).
std::string format_interval(const Interval& interval);
// The bracket alone, "[0.7600, 0.7800]"; "n/a" where neither end is known.
std::string format_bounds(const Interval& interval);

// What every chart's <svg> element carries besides its drawing: `id` and
// `css_class` (added to "chart") let a page or a test find one chart.
struct ChartFrame {
  std::string title, id, css_class;
};

// Grouped bars: one group of bars per category (e.g. a metric), one bar per
// series (e.g. a subgroup), each bar titled with its value; a note line under
// each category (e.g. the gap). NaN values draw no bar. The value axis spans
// [0, 1] when every value (and whisker end) lies there, else their range
// with 0. Bars are rect.bar; a series with intervals draws a line.errorbar
// from low to high over each bar where both ends are finite.
struct BarChart : ChartFrame {
  std::vector<std::string> categories;
  std::vector<std::string> notes;  // empty, or one per category
  struct Series {
    std::string name;
    std::vector<double> values;      // one per category
    std::vector<Interval> whiskers;  // empty, or one per category (its estimate unused)
  };
  std::vector<Series> series;
};
std::string render_bar_chart(const BarChart& chart);

// Points coloured by category, equal scale on both axes, with a legend.
// Points are drawn in the order of `draw_order` (all indices when empty), so
// a small category can be drawn last, on top. Non-finite points are skipped.
struct ScatterChart : ChartFrame {
  std::vector<std::array<double, 2>> points;
  std::vector<size_t> category;  // index into category_names, one per point
  std::vector<std::string> category_names;
  std::vector<size_t> draw_order;
};
std::string render_scatter_chart(const ScatterChart& chart);

// Points with horizontal and vertical interval bars on linear axes, one
// colour per series, each point labelled: a trade-off plot. Points whose
// estimates are not both finite are skipped; a bar needs both its ends. Every
// drawn point is a circle.point, every bar a line.errorbar; a `joined`
// series gets a thin line through its drawn points in order. `x_reference`
// (e.g. a gap of 0) is a dashed vertical line when it falls inside the range.
struct IntervalScatter : ChartFrame {
  std::string x_label, y_label;
  struct Point {
    Interval x, y;
    std::string label;
  };
  struct Series {
    std::string name;
    std::vector<Point> points;
    bool joined = false;
  };
  std::vector<Series> series;
  double x_reference = std::numeric_limits<double>::quiet_NaN();
};
std::string render_interval_scatter(const IntervalScatter& chart);

}  // namespace dml::fairness
