// The sweep report: the interval charts' geometry (svg_charts), and the page
// rendered from the synthetic summary of tests/fairness/report_fixtures.h:
// every part in its place with the counts the summary implies, nulls as
// "n/a" and as points or bars left out, every string escaped, a malformed
// summary refused naming the key. The page in a real browser is ctest's
// SweepReport.RendersInBrowser (check_report_in_browser.py).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fairness/report/svg_charts.h"
#include "fairness/report/sweep_report.h"
#include "tests/fairness/html_checks.h"
#include "tests/fairness/report_fixtures.h"
#include "tests/support/test_support.h"

namespace {

using dml::Json;
using dml::fairness::Interval;
using dml::fairness::render_sweep_html;
using dml::test::count;
using dml::test::expect_error;
using dml::test::synthetic_sweep;

constexpr double kNaN = NAN;

// The text from the first `begin` to the next `end` after it (inclusive).
std::string part(const std::string& html, const std::string& begin, const std::string& end) {
  const size_t from = html.find(begin);
  if (from == std::string::npos) return "";
  const size_t to = html.find(end, from);
  return html.substr(from, to == std::string::npos ? std::string::npos : to + end.size() - from);
}

// ---- charts --------------------------------------------------------------------

TEST(ReportCharts, IntervalScatterPlacesPointsAndBars) {
  dml::fairness::IntervalScatter chart;
  chart.title = "t";
  chart.id = "ts";
  chart.series = {
      {"a", {{{0, kNaN, kNaN}, {0, kNaN, kNaN}, "p0"}, {{1, 0.8, 1}, {1, 0.9, 1}, "p1"}}, true},
      {"b", {{{kNaN, 0, 1}, {0.5, 0.4, 0.6}, "gone"}, {{0.5}, {0.5}, "<mid>"}}, false}};
  chart.x_reference = 0;
  const std::string svg = dml::fairness::render_interval_scatter(chart);
  EXPECT_TRUE(svg.starts_with("<svg id=\"ts\" class=\"chart\"")) << svg;
  // Both axes span [0, 1] padded by 8%: [-0.08, 1.08] over 520 x 340 pixels at (64, 36).
  EXPECT_NE(svg.find("class=\"point\" cx=\"99.9\" cy=\"352.6\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("class=\"point\" cx=\"548.1\" cy=\"59.4\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"point\" cx=\"324.0\" cy=\"206.0\""), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"point\""), 3);  // the NaN estimate is left out
  // p1's bars only: x from 0.8 to 1 at its y, y from 0.9 to 1 at its x.
  EXPECT_EQ(count(svg, "class=\"errorbar\""), 2);
  EXPECT_NE(svg.find("x1=\"458.5\" y1=\"59.4\" x2=\"548.1\" y2=\"59.4\""), std::string::npos);
  EXPECT_NE(svg.find("x1=\"548.1\" y1=\"88.8\" x2=\"548.1\" y2=\"59.4\""), std::string::npos);
  EXPECT_NE(svg.find("<polyline class=\"join\" points=\"99.9,352.6 548.1,59.4\""),
            std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 1);  // series b is not joined
  EXPECT_NE(svg.find("class=\"reference\" x1=\"99.9\""), std::string::npos);
  EXPECT_NE(svg.find(">0.6</text>"), std::string::npos);  // ticks every 0.2
  EXPECT_NE(svg.find("&lt;mid&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("gone"), std::string::npos);
  chart.x_reference = 2;  // outside the range: no line
  EXPECT_EQ(dml::fairness::render_interval_scatter(chart).find("reference"), std::string::npos);
}

TEST(ReportCharts, BarWhiskersSpanTheirIntervals) {
  dml::fairness::BarChart chart;
  chart.title = "t";
  chart.css_class = "k";
  chart.categories = {"a", "b"};
  chart.series = {{"g0", {0.5, 0.7}, {{kNaN, 0.4, 0.6}, {kNaN, kNaN, 0.8}}}};
  std::string svg = dml::fairness::render_bar_chart(chart);
  EXPECT_TRUE(svg.starts_with("<svg class=\"chart k\"")) << svg;
  // On [0, 1] over 180 pixels from y = 36: 0.4 -> 144, 0.6 -> 108; b's open interval draws nothing.
  EXPECT_EQ(count(svg, "class=\"errorbar\""), 1) << svg;
  EXPECT_NE(svg.find("y1=\"144.0\" x2=\""), std::string::npos);
  EXPECT_NE(svg.find("y2=\"108.0\""), std::string::npos);
  EXPECT_EQ(count(svg, "<rect class=\"bar\""), 2);
  EXPECT_NE(svg.find("0.5000 [0.4000, 0.6000]"), std::string::npos);  // the tooltip
  // A whisker's end beyond 1 takes the axis off [0, 1].
  chart.series[0].whiskers[0].high = 2;
  svg = dml::fairness::render_bar_chart(chart);
  EXPECT_NE(svg.find(">2.00</text>"), std::string::npos) << svg;
  chart.series[0].whiskers.pop_back();
  expect_error([&] { dml::fairness::render_bar_chart(chart); },
               {"series 'g0' has 1 whiskers for 2 categories"});
}

// ---- the page ------------------------------------------------------------------

TEST(SweepReport, RendersEveryPartOfTheSummary) {
  const std::string html = render_sweep_html(synthetic_sweep());
  dml::test::expect_balanced_tags(html);
  dml::test::expect_no_network_references(html);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<h1>finDML sweep on fashion_mnist_tone</h1>"), std::string::npos);
  EXPECT_NE(html.find("Swept <b>parade.rho</b> over 3 cells; seeds 0, 1, 2, 3, 4; sensitive "
                      "attribute <b>tone</b>; metric recall@1"),
            std::string::npos);
  // In order: trade-off, subgroup bars, paired table, audits.
  const size_t tradeoff = html.find("<svg id=\"tradeoff\""), bars = html.find("subgroup-bars"),
               paired = html.find("<table id=\"paired\">"), audits = html.find("Audit documents");
  ASSERT_NE(tradeoff, std::string::npos);
  EXPECT_LT(tradeoff, bars);
  EXPECT_LT(bars, paired);
  EXPECT_LT(paired, audits);
  ASSERT_NE(audits, std::string::npos);

  // 6 points; 12 bars less cell 2 baseline's null gap interval; the PARADE line.
  const std::string chart = part(html, "<svg id=\"tradeoff\"", "</svg>");
  EXPECT_EQ(count(chart, "<circle class=\"point\""), 6);
  EXPECT_EQ(count(chart, "class=\"errorbar\""), 11);
  EXPECT_EQ(count(chart, "<polyline class=\"join\""), 1);
  EXPECT_EQ(count(chart, "class=\"reference\""), 1);  // the gaps straddle 0
  for (const char* label : {">rho=0.25<", ">rho=0.5<", ">rho=1.0<", ">baseline<", ">PARADE<"})
    EXPECT_NE(chart.find(label), std::string::npos) << label;
  const std::string arms = part(html, "<table id=\"arms\">", "</table>");
  EXPECT_EQ(count(arms, "<tr>"), 1 + 6);
  EXPECT_NE(arms.find(">0.7700 [0.7600, 0.7800]<"), std::string::npos) << arms;
  EXPECT_NE(arms.find(">-0.0780<"), std::string::npos);  // no interval: the estimate alone
  EXPECT_NE(arms.find(">n/a<"), std::string::npos);      // cell 1 PARADE's leakage

  // 3 cells x 2 subgroups x 2 arms, a whisker on each but one.
  EXPECT_EQ(count(html, "<svg class=\"chart subgroup-bars\""), 3);
  const std::string subgroups = part(html, "<div class=\"cells\">", "</div>");
  EXPECT_EQ(count(subgroups, "<rect class=\"bar\""), 12);
  EXPECT_EQ(count(subgroups, "class=\"errorbar\""), 11);
  EXPECT_NE(subgroups.find("tone=1 (minority)"), std::string::npos);

  const std::string table = part(html, "<table id=\"paired\">", "</table>");
  EXPECT_EQ(count(table, "<tr>"), 1 + 6);
  EXPECT_NE(table.find("<td class=\"num\">&lt;0.0001</td><td class=\"num\">*</td>"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("[0.0300, 0.0500]"), std::string::npos);
  EXPECT_EQ(count(table, ">*<"), 2);  // p = 0.00002 and 0.03 of 0.06

  // The audit document's own sections, as the audit page renders them.
  EXPECT_EQ(count(html, "<section class=\"doc\">"), 1);
  EXPECT_NE(html.find("<h2>baseline, parade.rho=0.25, seed 0</h2>"), std::string::npos);
  EXPECT_NE(html.find("Embedding map (pca) by tone"), std::string::npos);
}

TEST(SweepReport, NullEstimatesDrawNothingAndPrintNa) {
  Json summary = synthetic_sweep();
  summary["cells"][0]["arms"]["parade"]["overall"]["estimate"] = nullptr;
  summary["cells"][1]["paired"][0]["difference"] = {
      {"estimate", nullptr}, {"low", nullptr}, {"high", nullptr}};
  const std::string html = render_sweep_html(summary);
  const std::string chart = part(html, "<svg id=\"tradeoff\"", "</svg>");
  EXPECT_EQ(count(chart, "<circle class=\"point\""), 5);
  EXPECT_EQ(count(chart, "class=\"errorbar\""), 9);  // the point's two bars went with it
  EXPECT_NE(html.find(">n/a [0.7600, 0.7800]<"), std::string::npos);
  const std::string table = part(html, "<table id=\"paired\">", "</table>");
  EXPECT_NE(table.find("<td class=\"num\">n/a</td><td class=\"num\">n/a</td>"), std::string::npos)
      << table;
}

TEST(SweepReport, OneCellWithNothingSwept) {
  const Json summary = Json::parse(R"({"cells": [{"name": "default", "arms": {"baseline": {
      "overall": {"estimate": 0.8, "low": 0.79, "high": 0.81},
      "gap": {"estimate": -0.05, "low": -0.06, "high": -0.04}}}}]})");
  const std::string html = render_sweep_html(summary);
  dml::test::expect_balanced_tags(html);
  EXPECT_NE(html.find("<h1>finDML sweep</h1>"), std::string::npos);
  EXPECT_NE(html.find("One configuration (nothing swept); metric recall@1"), std::string::npos);
  EXPECT_EQ(count(html, "<circle class=\"point\""), 1);
  EXPECT_NE(html.find(">default</text>"), std::string::npos);  // labelled by its name
  EXPECT_EQ(html.find("<polyline"), std::string::npos);
  EXPECT_EQ(html.find("subgroup-bars"), std::string::npos);
  EXPECT_EQ(html.find("id=\"paired\""), std::string::npos);
  EXPECT_EQ(count(html, "class=\"missing\""), 2);  // no subgroups, no paired differences
  EXPECT_EQ(html.find("Audit documents"), std::string::npos);
}

TEST(SweepReport, EscapesEveryString) {
  Json s = synthetic_sweep();
  s["title"] = "<script>alert(1)</script>";
  s["attribute"] = "<i>tone</i>";
  s["metric"] = "R&D@1";
  s["axes"] = {"<b>rho"};
  Json& cell = s["cells"][0];
  cell["name"] = "<img src=x onerror=alert(2)>";
  cell["values"] = {{"<b>rho", "<u>"}};
  cell["arms"]["<em>arm</em>"] = cell["arms"]["parade"];
  cell["arms"]["parade"]["per_group"][0]["name"] = "\"quoted\" 'group'";
  cell["paired"][0]["metric"] = "<sup>m</sup>";
  s["audits"][0]["title"] = "A & B";
  const std::string html = render_sweep_html(s);
  dml::test::expect_balanced_tags(html);
  dml::test::expect_no_network_references(html);
  for (const char* raw : {"<script", "<img", "<i>", "<u>", "<em>", "<sup>", "R&D", "\"quoted\"",
                          "'group'", "A & B", "<b>rho"})
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  for (const char* escaped :
       {"&lt;script&gt;alert(1)&lt;/script&gt;", "<b>&lt;i&gt;tone&lt;/i&gt;</b>", "R&amp;D@1",
        "<b>&lt;b&gt;rho</b>", "&lt;b&gt;rho=&lt;u&gt;", "&lt;img src=x onerror=alert(2)&gt;",
        "&lt;em&gt;arm&lt;/em&gt;", "&quot;quoted&quot; &#39;group&#39;",
        "&lt;sup&gt;m&lt;/sup&gt;", "A &amp; B"})
    EXPECT_NE(html.find(escaped), std::string::npos) << escaped;
}

TEST(SweepReport, RejectsABadSummaryNamingTheKey) {
  struct Case {
    const char* what;
    void (*spoil)(Json&);
    std::vector<std::string> message;
  };
  const std::vector<Case> cases = {
      {"not an object", [](Json& s) { s = Json::array(); }, {"the summary must be a JSON object"}},
      {"no cells", [](Json& s) { s.erase("cells"); }, {"sweep summary: cells is missing"}},
      {"empty cells", [](Json& s) { s["cells"] = Json::array(); }, {"cells must hold at least"}},
      {"a string for a number",
       [](Json& s) { s["cells"][1]["arms"]["parade"]["gap"]["low"] = "wide"; },
       {"cells[1].arms.parade.gap.low must be a number or null", "\"wide\""}},
      {"no overall",
       [](Json& s) { s["cells"][0]["arms"]["baseline"].erase("overall"); },
       {"cells[0].arms.baseline.overall is missing"}},
      {"an interval that is a number",
       [](Json& s) { s["cells"][2]["arms"]["baseline"]["leakage"] = 0.9; },
       {"cells[2].arms.baseline.leakage must be an object, got 0.9"}},
      {"a group without a name",
       [](Json& s) { s["cells"][2]["arms"]["parade"]["per_group"][1]["name"] = 3; },
       {"cells[2].arms.parade.per_group[1].name must be a string"}},
      {"no arms",
       [](Json& s) { s["cells"][1]["arms"] = Json::object(); },
       {"cells[1].arms must name at least one arm"}},
      {"a flag that is text",
       [](Json& s) { s["cells"][0]["paired"][1]["significant"] = "yes"; },
       {"cells[0].paired[1].significant must be true or false"}},
      {"a seed that is text",
       [](Json& s) { s["seeds"][2] = "two"; },
       {"seeds[2] must be an integer"}},
      {"a number for the title",
       [](Json& s) { s["title"] = 5; },
       {"title must be a string, got 5"}},
      {"an audit without its document",
       [](Json& s) { s["audits"][0].erase("audit"); },
       {"audits[0].audit is missing"}},
      {"a malformed audit document",
       [](Json& s) { s["audits"][0]["audit"]["schema"] = "dml-audit-0"; },
       {"sweep summary: audits: audit document 'baseline, parade.rho=0.25, seed 0'",
        "schema is 'dml-audit-0'"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Json summary = synthetic_sweep();
    c.spoil(summary);
    expect_error([&] { render_sweep_html(summary); }, c.message);
  }
}

}  // namespace
