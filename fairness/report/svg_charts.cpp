#include "fairness/report/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "base/error.h"
#include "fairness/report/html_text.h"

namespace dml::fairness {

namespace {

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

// Shared frame: title line on top, legend column on the right.
constexpr double kTitleHeight = 28, kLegendWidth = 230, kLegendRow = 18;
// A legend label's most characters (longer names are cut, whole in a tooltip).
constexpr size_t kLegendChars = 34;

// SVG coordinates: 1 decimal, enough for screen pixels and short to write.
std::string c(double v) {
  return format_fixed(v, 1);
}

void open_svg(std::ostringstream& os, double width, double height, const ChartFrame& frame) {
  os << "<svg";
  if (!frame.id.empty()) os << " id=\"" << html_escape(frame.id) << '"';
  os << " class=\"chart" << (frame.css_class.empty() ? "" : " ") << html_escape(frame.css_class)
     << "\" width=\"" << c(width) << "\" height=\"" << c(height) << "\" viewBox=\"0 0 " << c(width)
     << ' ' << c(height) << "\" role=\"img\" aria-label=\"" << html_escape(frame.title) << "\">\n"
     << "<text class=\"chart-title\" x=\"8\" y=\"18\">" << html_escape(frame.title) << "</text>\n";
}

// An interval bar from (x1, y1) to (x2, y2).
void errorbar(std::ostringstream& os, double x1, double y1, double x2, double y2,
              const char* colour) {
  os << "<line class=\"errorbar\" x1=\"" << c(x1) << "\" y1=\"" << c(y1) << "\" x2=\"" << c(x2)
     << "\" y2=\"" << c(y2) << "\" stroke=\"" << colour << "\"/>\n";
}

bool finite(const Interval& i) {
  return std::isfinite(i.low) && std::isfinite(i.high);
}

// One legend row per name from (x, top): a colour swatch and the label, cut
// to the legend's width with the whole label as its tooltip.
void legend(std::ostringstream& os, double x, double top, const std::vector<std::string>& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = top + double(i) * kLegendRow;
    os << "<rect x=\"" << c(x) << "\" y=\"" << c(y) << "\" width=\"12\" height=\"12\" fill=\""
       << chart_colour(i) << "\"/><text x=\"" << c(x + 18) << "\" y=\"" << c(y + 10) << "\"><title>"
       << html_escape(labels[i]) << "</title>" << html_escape(shorten(labels[i], kLegendChars))
       << "</text>\n";
  }
}

// The value axis of a bar chart: [0, 1] for rates, else the data's range
// with 0 (bars grow from 0).
std::pair<double, double> value_range(const BarChart& chart) {
  double lo = 0, hi = 0;
  bool unit = true;
  auto cover = [&](double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    unit = unit && v >= 0 && v <= 1;
  };
  for (const auto& s : chart.series) {
    for (double v : s.values) cover(v);
    for (const Interval& w : s.whiskers)
      if (finite(w)) cover(w.low), cover(w.high);
  }
  if (unit) return {0, 1};
  if (hi == lo) hi = lo + 1;
  return {lo, hi};
}

// A linear axis: the data's range padded by 8% a side (a point on the edge
// stays clear of the frame), ticks at the multiples of a 1-2-5 step inside it.
struct Axis {
  double lo, hi, step;
  int decimals;  // enough to tell two ticks apart
};

Axis nice_axis(double lo, double hi) {
  if (!std::isfinite(lo)) lo = 0, hi = 1;  // nothing to draw
  if (!(hi > lo)) {
    const double pad = std::max(0.01, 0.1 * std::abs(lo));
    lo -= pad, hi += pad;
  }
  const double pad = 0.08 * (hi - lo);
  lo -= pad, hi += pad;
  const double raw = (hi - lo) / 5, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * magnitude;
  return {lo, hi, step, std::max(0, -int(std::floor(std::log10(step) + 1e-9)))};
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  for (double k = std::ceil(a.lo / a.step); k * a.step <= a.hi; ++k) out.push_back(k * a.step);
  return out;
}

}  // namespace

const char* chart_colour(size_t i) {
  return kPalette[i % std::size(kPalette)];
}

std::string format_bounds(const Interval& i) {
  if (std::isnan(i.low) && std::isnan(i.high)) return "n/a";
  std::string text = "[";  // appended, not "[" + ...: GCC 12 warns falsely on that (-Wrestrict)
  text += format_metric(i.low);
  text += ", ";
  text += format_metric(i.high);
  return text += "]";
}

std::string format_interval(const Interval& i) {
  if (std::isnan(i.low) && std::isnan(i.high)) return format_metric(i.estimate);
  return format_metric(i.estimate) + " " + format_bounds(i);
}

std::string render_bar_chart(const BarChart& chart) {
  const size_t categories = chart.categories.size(), series = chart.series.size();
  DML_CHECK(chart.notes.empty() || chart.notes.size() == categories, "bar chart '", chart.title,
            "': ", chart.notes.size(), " notes for ", categories, " categories");
  for (const auto& s : chart.series) {
    DML_CHECK(s.values.size() == categories, "bar chart '", chart.title, "': series '", s.name,
              "' has ", s.values.size(), " values for ", categories, " categories");
    DML_CHECK(s.whiskers.empty() || s.whiskers.size() == categories, "bar chart '", chart.title,
              "': series '", s.name, "' has ", s.whiskers.size(), " whiskers for ", categories,
              " categories");
  }
  // Each category's band is wide enough for its bars and its longest label
  // (about 6.5 pixels a character at 11 px).
  size_t longest = 0;
  for (size_t k = 0; k < categories; ++k)
    longest = std::max({longest, chart.categories[k].size(),
                        chart.notes.empty() ? size_t{0} : chart.notes[k].size()});
  const double bar = 16,
               band = std::max({90.0, double(series) * bar + 30, 6.5 * double(longest) + 14});
  const double left = 48, plot_w = std::max(1.0, double(categories)) * band, plot_h = 180;
  const double top = kTitleHeight + 8, bottom = top + plot_h;
  const double width = left + plot_w + 16 + kLegendWidth;
  const double height =
      std::max(bottom + 44, top + double(series) * kLegendRow + 8);  // room for the legend
  const auto [lo, hi] = value_range(chart);
  auto y_of = [&](double v) { return top + plot_h * (hi - v) / (hi - lo); };

  std::ostringstream os;
  open_svg(os, width, height, chart);
  for (int tick = 0; tick <= 4; ++tick) {
    const double v = lo + (hi - lo) * tick / 4, y = y_of(v);
    os << "<line class=\"grid\" x1=\"" << c(left) << "\" x2=\"" << c(left + plot_w) << "\" y1=\""
       << c(y) << "\" y2=\"" << c(y) << "\"/><text class=\"tick\" x=\"" << c(left - 4) << "\" y=\""
       << c(y + 4) << "\">" << format_fixed(v, 2) << "</text>\n";
  }
  for (size_t k = 0; k < categories; ++k) {
    const double x0 = left + double(k) * band + (band - double(series) * bar) / 2;
    for (size_t s = 0; s < series; ++s) {
      const double v = chart.series[s].values[k];
      if (!std::isfinite(v)) continue;
      const double x = x0 + double(s) * bar;
      const double y = std::min(y_of(v), y_of(0)), h = std::abs(y_of(v) - y_of(0));
      const Interval w =
          chart.series[s].whiskers.empty() ? Interval{} : chart.series[s].whiskers[k];
      os << "<rect class=\"bar\" x=\"" << c(x) << "\" y=\"" << c(y) << "\" width=\"" << c(bar - 2)
         << "\" height=\"" << c(h) << "\" fill=\"" << chart_colour(s) << "\"><title>"
         << html_escape(chart.series[s].name) << ", " << html_escape(chart.categories[k]) << ": "
         << format_interval({v, w.low, w.high}) << "</title></rect>\n";
      if (finite(w))
        errorbar(os, x + bar / 2 - 1, y_of(w.low), x + bar / 2 - 1, y_of(w.high), "#333");
    }
    const double centre = left + (double(k) + 0.5) * band;
    os << "<text class=\"category\" x=\"" << c(centre) << "\" y=\"" << c(bottom + 16) << "\">"
       << html_escape(chart.categories[k]) << "</text>\n";
    if (!chart.notes.empty())
      os << "<text class=\"note\" x=\"" << c(centre) << "\" y=\"" << c(bottom + 32) << "\">"
         << html_escape(chart.notes[k]) << "</text>\n";
  }
  os << "<line class=\"axis\" x1=\"" << c(left) << "\" x2=\"" << c(left + plot_w) << "\" y1=\""
     << c(y_of(0)) << "\" y2=\"" << c(y_of(0)) << "\"/>\n";
  std::vector<std::string> names;
  for (const auto& s : chart.series) names.push_back(s.name);
  legend(os, left + plot_w + 16, top, names);
  os << "</svg>\n";
  return os.str();
}

std::string render_scatter_chart(const ScatterChart& chart) {
  const size_t n = chart.points.size();
  DML_CHECK(chart.category.size() == n, "scatter chart '", chart.title,
            "': ", chart.category.size(), " categories for ", n, " points");
  for (size_t i = 0; i < n; ++i)
    DML_CHECK(chart.category[i] < chart.category_names.size(), "scatter chart '", chart.title,
              "': point ", i, " has category ", chart.category[i], " of ",
              chart.category_names.size());
  std::vector<size_t> order = chart.draw_order;
  if (order.empty()) {
    order.resize(n);
    std::iota(order.begin(), order.end(), size_t{0});
  }
  for (size_t i : order)
    DML_CHECK(i < n, "scatter chart '", chart.title, "': draw order names point ", i, " of ", n);

  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  std::vector<size_t> count(chart.category_names.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    const auto [x, y] = chart.points[i];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    ++count[chart.category[i]];
  }
  const double side = 360, margin = 10, left = margin, top = kTitleHeight + 4;
  const double width = left + side + margin + kLegendWidth;
  const double height =
      std::max(top + side + margin, top + double(count.size()) * kLegendRow + margin);
  // One scale for both axes, so distances on the page are distances in the map.
  const double span = std::max(x_hi - x_lo, y_hi - y_lo);
  const double scale = span > 0 && std::isfinite(span) ? 0.94 * side / span : 1;
  const double x_mid = (x_lo + x_hi) / 2, y_mid = (y_lo + y_hi) / 2;

  std::ostringstream os;
  open_svg(os, width, height, chart);
  os << "<rect class=\"frame\" x=\"" << c(left) << "\" y=\"" << c(top) << "\" width=\"" << c(side)
     << "\" height=\"" << c(side) << "\"/>\n";
  for (size_t i : order) {
    const auto [x, y] = chart.points[i];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    os << "<circle cx=\"" << c(left + side / 2 + (x - x_mid) * scale) << "\" cy=\""
       << c(top + side / 2 - (y - y_mid) * scale) << "\" r=\"2.2\" fill=\""
       << chart_colour(chart.category[i]) << "\"/>\n";
  }
  std::vector<std::string> labels;
  for (size_t k = 0; k < count.size(); ++k)
    labels.push_back(detail::concat(chart.category_names[k], " (", count[k], ")"));
  legend(os, left + side + margin + 8, top, labels);
  os << "</svg>\n";
  return os.str();
}

std::string render_interval_scatter(const IntervalScatter& chart) {
  auto drawn = [](const IntervalScatter::Point& p) {
    return std::isfinite(p.x.estimate) && std::isfinite(p.y.estimate);
  };
  // The range covers every drawn point with its bars.
  const double inf = std::numeric_limits<double>::infinity();
  double x_lo = inf, x_hi = -inf, y_lo = inf, y_hi = -inf;
  auto cover = [](double& lo, double& hi, const Interval& i) {
    lo = std::min(lo, i.estimate), hi = std::max(hi, i.estimate);
    if (finite(i)) lo = std::min({lo, i.low, i.high}), hi = std::max({hi, i.low, i.high});
  };
  for (const auto& s : chart.series)
    for (const auto& p : s.points)
      if (drawn(p)) cover(x_lo, x_hi, p.x), cover(y_lo, y_hi, p.y);
  const Axis xa = nice_axis(x_lo, x_hi), ya = nice_axis(y_lo, y_hi);
  const double left = 64, plot_w = 520, plot_h = 340, top = kTitleHeight + 8;
  const double bottom = top + plot_h, width = left + plot_w + 16 + kLegendWidth;
  auto x_of = [&](double v) { return left + plot_w * (v - xa.lo) / (xa.hi - xa.lo); };
  auto y_of = [&](double v) { return top + plot_h * (ya.hi - v) / (ya.hi - ya.lo); };

  std::ostringstream os;
  open_svg(os, width, bottom + 48, chart);
  os << "<rect class=\"frame\" x=\"" << c(left) << "\" y=\"" << c(top) << "\" width=\"" << c(plot_w)
     << "\" height=\"" << c(plot_h) << "\"/>\n";
  for (double t : ticks(xa))
    os << "<line class=\"grid\" x1=\"" << c(x_of(t)) << "\" x2=\"" << c(x_of(t)) << "\" y1=\""
       << c(top) << "\" y2=\"" << c(bottom) << "\"/><text class=\"category\" x=\"" << c(x_of(t))
       << "\" y=\"" << c(bottom + 14) << "\">" << format_fixed(t, xa.decimals) << "</text>\n";
  for (double t : ticks(ya))
    os << "<line class=\"grid\" x1=\"" << c(left) << "\" x2=\"" << c(left + plot_w) << "\" y1=\""
       << c(y_of(t)) << "\" y2=\"" << c(y_of(t)) << "\"/><text class=\"tick\" x=\"" << c(left - 4)
       << "\" y=\"" << c(y_of(t) + 4) << "\">" << format_fixed(t, ya.decimals) << "</text>\n";
  os << "<text class=\"category\" x=\"" << c(left + plot_w / 2) << "\" y=\"" << c(bottom + 34)
     << "\">" << html_escape(chart.x_label) << "</text>\n<text class=\"category\" x=\"0\" y=\"0\" "
     << "transform=\"translate(14 " << c(top + plot_h / 2) << ") rotate(-90)\">"
     << html_escape(chart.y_label) << "</text>\n";
  if (chart.x_reference > xa.lo && chart.x_reference < xa.hi)
    os << "<line class=\"reference\" x1=\"" << c(x_of(chart.x_reference)) << "\" x2=\""
       << c(x_of(chart.x_reference)) << "\" y1=\"" << c(top) << "\" y2=\"" << c(bottom) << "\"/>\n";
  // Lines and bars first, so every point sits on top of them.
  for (size_t s = 0; s < chart.series.size(); ++s) {
    std::ostringstream joined;
    size_t in_line = 0;
    for (const auto& p : chart.series[s].points) {
      if (!drawn(p)) continue;
      const double x = x_of(p.x.estimate), y = y_of(p.y.estimate);
      joined << (in_line++ ? " " : "") << c(x) << ',' << c(y);
      if (finite(p.x)) errorbar(os, x_of(p.x.low), y, x_of(p.x.high), y, chart_colour(s));
      if (finite(p.y)) errorbar(os, x, y_of(p.y.low), x, y_of(p.y.high), chart_colour(s));
    }
    if (chart.series[s].joined && in_line >= 2)
      os << "<polyline class=\"join\" points=\"" << joined.str() << "\" stroke=\""
         << chart_colour(s) << "\"/>\n";
  }
  for (size_t s = 0; s < chart.series.size(); ++s)
    for (const auto& p : chart.series[s].points) {
      if (!drawn(p)) continue;
      const double x = x_of(p.x.estimate), y = y_of(p.y.estimate);
      os << "<circle class=\"point\" cx=\"" << c(x) << "\" cy=\"" << c(y) << "\" r=\"4.5\" fill=\""
         << chart_colour(s) << "\"><title>" << html_escape(chart.series[s].name) << ", "
         << html_escape(p.label) << ": x " << format_interval(p.x) << ", y " << format_interval(p.y)
         << "</title></circle>\n<text class=\"point-label\" x=\"" << c(x + 6) << "\" y=\""
         << c(y - 6) << "\">" << html_escape(p.label) << "</text>\n";
    }
  std::vector<std::string> names;
  for (const auto& s : chart.series) names.push_back(s.name);
  legend(os, left + plot_w + 16, top, names);
  os << "</svg>\n";
  return os.str();
}

}  // namespace dml::fairness
