#include "fairness/report/sweep_report.h"

#include <algorithm>
#include <vector>

#include "base/error.h"
#include "fairness/report/html_page.h"
#include "fairness/report/html_report.h"
#include "fairness/report/html_text.h"
#include "fairness/report/svg_charts.h"
#include "fairness/report/sweep_summary.h"

namespace dml::fairness {

namespace {

// PARADE is a name (the paper's); other arms show as the summary keys them.
std::string arm_name(const std::string& key) {
  return key == "parade" ? "PARADE" : key;
}

const SummaryArm* find_arm(const SummaryCell& cell, const std::string& key) {
  for (const SummaryArm& a : cell.arms)
    if (a.key == key) return &a;
  return nullptr;
}

// The swept values with each key's last part only ("rho=0.25" for
// parade.rho), so labels stay short beside their points; the cell's name
// where it has none.
std::string short_label(const SummaryCell& cell, const std::vector<std::string>& axes) {
  std::string label;
  for (const std::string& axis : axes) {
    auto v = cell.values.find(axis);
    if (v == cell.values.end()) continue;
    label += (label.empty() ? "" : ", ") + axis.substr(axis.rfind('.') + 1) + "=" +
             (v->is_string() ? v->get<std::string>() : v->dump());
  }
  return label.empty() ? cell.name : label;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string intro(const SweepSummary& s) {
  std::vector<std::string> axes, seeds;
  for (const std::string& a : s.axes) axes.push_back("<b>" + html_escape(a) + "</b>");
  for (int64_t seed : s.seeds) seeds.push_back(std::to_string(seed));
  std::string line = s.axes.empty()
                         ? "One configuration (nothing swept)"
                         : detail::concat("Swept ", join(axes), " over ", s.cells.size(), " cells");
  if (!seeds.empty()) line += "; seeds " + join(seeds);
  if (!s.attribute.empty()) line += "; sensitive attribute <b>" + html_escape(s.attribute) + "</b>";
  return "<p>" + line + "; metric " + html_escape(s.metric) +
         ". Bars show each estimate's interval [low, high] as the summary gives it.</p>\n";
}

std::string tradeoff(const SweepSummary& s) {
  IntervalScatter chart;
  chart.title = "Overall " + s.metric + " against its gap, per cell and arm";
  chart.id = "tradeoff";
  chart.x_label = "gap in " + s.metric + " (minority \u2212 majority)";
  chart.y_label = "overall " + s.metric;
  chart.x_reference = 0;
  std::vector<std::vector<std::string>> rows;
  for (const std::string& key : s.arms) {
    // The PARADE line shows where the swept setting moves the trade-off.
    IntervalScatter::Series series{arm_name(key), {}, key == "parade" && s.cells.size() >= 2};
    for (const SummaryCell& cell : s.cells)
      if (const SummaryArm* arm = find_arm(cell, key)) {
        series.points.push_back({arm->gap, arm->overall, short_label(cell, s.axes)});
        rows.push_back({html_escape(cell.name), html_escape(arm_name(key)),
                        format_interval(arm->overall), format_interval(arm->gap),
                        format_interval(arm->leakage)});
      }
    chart.series.push_back(std::move(series));
  }
  return std::string("<h2>Fairness-accuracy trade-off</h2>\n") +
         "<p class=\"convention\">The gap is minority &minus; majority (the training split's "
         "rarest value of the attribute and its most common other value): below 0 the minority "
         "is worse off.</p>\n" +
         render_interval_scatter(chart) +
         html_table({"cell", "arm", "overall " + html_escape(s.metric),
                     "gap (minority &minus; majority)", "leakage"},
                    rows, true, "arms");
}

std::string subgroup_bars(const SweepSummary& s) {
  std::string charts;
  for (const SummaryCell& cell : s.cells) {
    BarChart chart;
    chart.title = cell.name + ": " + s.metric + " per subgroup";
    chart.css_class = "subgroup-bars";
    for (const SummaryArm& arm : cell.arms)
      for (const SummaryArm::Group& g : arm.per_group)
        if (std::find(chart.categories.begin(), chart.categories.end(), g.name) ==
            chart.categories.end())
          chart.categories.push_back(g.name);
    if (chart.categories.empty()) continue;
    // One series per arm of the whole sweep, so colours match the trade-off.
    for (const std::string& key : s.arms) {
      BarChart::Series series{arm_name(key), {}, {}};
      const SummaryArm* arm = find_arm(cell, key);
      for (const std::string& g : chart.categories) {
        Interval v;  // NaN where this arm has no such group: no bar
        if (arm)
          for (const SummaryArm::Group& group : arm->per_group)
            if (group.name == g) v = group.value;
        series.values.push_back(v.estimate);
        series.whiskers.push_back(v);
      }
      chart.series.push_back(std::move(series));
    }
    charts += render_bar_chart(chart);
  }
  const std::string heading = "<h2>" + html_escape(s.metric) + " per subgroup</h2>\n";
  if (charts.empty()) return heading + "<p class=\"missing\">No per-subgroup values.</p>\n";
  return heading + "<div class=\"cells\">\n" + charts + "</div>\n";
}

std::string p_value(double p) {
  return p > 0 && p < 1e-4 ? "&lt;0.0001" : format_fixed(p, 4);
}

std::string paired_table(const SweepSummary& s) {
  std::vector<std::vector<std::string>> rows;
  for (const SummaryCell& cell : s.cells)
    for (const SummaryPaired& p : cell.paired) {
      rows.push_back({html_escape(cell.name), html_escape(p.metric),
                      format_metric(p.difference.estimate), format_bounds(p.difference),
                      p_value(p.p_value), p.significant ? "*" : ""});
    }
  const std::string heading = "<h2>Paired differences</h2>\n";
  if (rows.empty()) return heading + "<p class=\"missing\">No paired differences.</p>\n";
  return heading +
         html_table({"cell", "metric", "difference", "interval", "p", "significant"}, rows, true,
                    "paired") +
         "<p>* the summary marks the difference as significant.</p>\n";
}

std::string audit_sections(const SweepSummary& s) {
  if (s.audits.empty()) return "";
  try {
    return "<h2>Audit documents</h2>\n" + render_audit_sections(s.audits);
  } catch (const Error& e) {
    throw Error(std::string("sweep summary: audits: ") + e.what());
  }
}

}  // namespace

std::string render_sweep_html(const Json& summary) {
  const SweepSummary s = read_sweep_summary(summary);
  return page_begin(s.title) + intro(s) + tradeoff(s) + subgroup_bars(s) + paired_table(s) +
         audit_sections(s) + page_end();
}

}  // namespace dml::fairness
