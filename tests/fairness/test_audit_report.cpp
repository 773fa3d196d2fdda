// The audit report: pca_2d against hand-made cases and PyTorch's eigh
// (tests/golden/make_pca_golden.py); the text helpers and the SVG charts'
// geometry; the HTML page rendered from a synthetic document that follows
// fairness/AUDIT_SCHEMA.md (well-formed, holds every number and group name,
// one <svg> per chart, nothing fetched from the network, hostile strings
// escaped); and, where Debian's chromium is installed, the page as a real
// browser parses it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fairness/report/html_report.h"
#include "fairness/report/html_text.h"
#include "fairness/report/pca.h"
#include "fairness/report/svg_charts.h"
#include "tests/fairness/html_checks.h"
#include "tests/fairness/report_fixtures.h"
#include "tests/support/fixture.h"
#include "tests/support/test_support.h"

namespace {

using dml::Tensor;
using dml::fairness::pca_2d;
using dml::test::count;
using dml::test::expect_balanced_tags;
using dml::test::expect_error;
using dml::test::expect_no_network_references;
using dml::test::synthetic_audit;
using json = nlohmann::ordered_json;

// ---- PCA ---------------------------------------------------------------------

Tensor rows(const std::vector<std::vector<double>>& values) {
  std::vector<double> flat;
  for (const auto& r : values) flat.insert(flat.end(), r.begin(), r.end());
  return dml::from_vector(flat, {int64_t(values.size()), int64_t(values[0].size())});
}

void expect_map(const Tensor& got, const std::vector<std::array<double, 2>>& expected,
                double tol = 1e-10) {
  ASSERT_EQ(got.shape(), (dml::Shape{int64_t(expected.size()), 2}));
  const std::vector<double> v = got.to_vector<double>();
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(v[2 * i], expected[i][0], tol) << "row " << i << " x";
    EXPECT_NEAR(v[2 * i + 1], expected[i][1], tol) << "row " << i << " y";
  }
}

// Points spread 3, 2 and 1 along three orthonormal directions u1, u2, u3
// around `offset`: their principal directions are u1 and u2.
Tensor spread_along(const std::array<std::array<double, 3>, 3>& u,
                    const std::array<double, 3>& offset) {
  const std::vector<std::array<double, 3>> coords = {{3, 0, 0},  {-3, 0, 0}, {0, 2, 0},
                                                     {0, -2, 0}, {0, 0, 1},  {0, 0, -1}};
  std::vector<std::vector<double>> points;
  for (const auto& p : coords) {
    std::vector<double> x(offset.begin(), offset.end());
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 3; ++j) x[size_t(j)] += p[size_t(k)] * u[size_t(k)][size_t(j)];
    points.push_back(x);
  }
  return rows(points);
}

TEST(Pca2d, AxisAlignedSpreadMapsToItsFirstTwoCoordinates) {
  const Tensor x = spread_along({{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}, {10, -5, 7});
  expect_map(pca_2d(x), {{3, 0}, {-3, 0}, {0, 2}, {0, -2}, {0, 0}, {0, 0}});
}

TEST(Pca2d, RotatedSpreadFollowsTheSignRule) {
  // u1 = (0.6, 0.8, 0): largest component positive, kept. u2 = (-0.8, 0.6, 0):
  // largest component negative, so the second direction is -u2 and y flips.
  const Tensor x = spread_along({{{0.6, 0.8, 0}, {-0.8, 0.6, 0}, {0, 0, 1}}}, {1, 2, 3});
  expect_map(pca_2d(x), {{3, 0}, {-3, 0}, {0, -2}, {0, 2}, {0, 0}, {0, 0}});
}

TEST(Pca2d, DegenerateInputs) {
  // One dimension: the centred values, second column zero.
  expect_map(pca_2d(rows({{1}, {2}, {6}})), {{-2, 0}, {-1, 0}, {3, 0}});
  // Identical rows: all zeros.
  expect_map(pca_2d(rows({{1, 2, 3}, {1, 2, 3}})), {{0, 0}, {0, 0}});
  expect_map(pca_2d(rows({{4, 4}})), {{0, 0}});
  // All variance along (1, 2, 2) / 3: the centred positions along it, and a
  // second coordinate of (numerically) zero.
  expect_map(pca_2d(rows({{-1, -2, -2}, {0, 0, 0}, {2, 4, 4}, {3, 6, 6}})),
             {{-6, 0}, {-3, 0}, {3, 0}, {6, 0}}, 1e-9);
}

TEST(Pca2d, KeepsTheInputDtypeAndRejectsBadInput) {
  const Tensor x = spread_along({{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}, {0, 0, 0}).to(dml::DType::f32);
  const Tensor m = pca_2d(x);
  EXPECT_EQ(m.dtype(), dml::DType::f32);
  EXPECT_FLOAT_EQ(m.to_vector<float>()[0], 3.0f);
  expect_error([] { pca_2d(dml::zeros({3})); }, {"pca_2d", "[n, d]", "f32[3]"});
  expect_error([] { pca_2d(dml::zeros({0, 3})); }, {"n >= 1"});
  expect_error([] { pca_2d(dml::zeros({2, 3}, dml::DType::i64)); }, {"f32 or f64"});
}

TEST(Pca2d, MatchesTorchEigh) {
  const auto fixture = dml::test::load_fixture("pca.json");
  for (const auto& c : fixture.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor x = dml::from_vector(c.at("embeddings").get<std::vector<double>>(),
                                      c.at("shape").get<dml::Shape>());
    const std::vector<double> got = pca_2d(x).to_vector<double>();
    const std::vector<double> want = c.at("projected").get<std::vector<double>>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9) << "element " << i;
  }
}

// ---- text and charts -----------------------------------------------------------

TEST(ReportText, EscapesAndFormats) {
  using dml::fairness::format_fixed;
  EXPECT_EQ(dml::fairness::html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(dml::fairness::format_metric(0.82), "0.8200");
  EXPECT_EQ(dml::fairness::format_metric(-2.1), "-2.1000");
  EXPECT_EQ(dml::fairness::format_metric(-0.00001), "0.0000");
  EXPECT_EQ(dml::fairness::format_metric(std::nan("")), "n/a");
  EXPECT_EQ(format_fixed(-INFINITY, 1), "-inf");
  EXPECT_EQ(format_fixed(12.25, 1), "12.2");  // round half to even, as printf
}

TEST(ReportCharts, BarHeightsAreProportionalOnTheUnitAxis) {
  dml::fairness::BarChart chart;
  chart.title = "t";
  chart.categories = {"a", "b"};
  chart.series = {{"g0", {0.5, std::nan("")}, {}}, {"g1", {0.25, 1.0}, {}}};
  const std::string svg = dml::fairness::render_bar_chart(chart);
  // The plot is 180 high for [0, 1]: 0.5 -> 90, 0.25 -> 45, 1 -> 180; NaN draws nothing.
  EXPECT_NE(svg.find("height=\"90.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("height=\"45.0\""), std::string::npos);
  EXPECT_NE(svg.find("height=\"180.0\""), std::string::npos);
  EXPECT_EQ(count(svg, "<rect"), 3 + 2);  // three bars and two legend swatches
  chart.series[0].values.pop_back();
  expect_error([&] { dml::fairness::render_bar_chart(chart); },
               {"series 'g0' has 1 values for 2 categories"});
}

TEST(ReportCharts, ScatterUsesOneScaleOnBothAxes) {
  dml::fairness::ScatterChart chart;
  chart.title = "t";
  chart.points = {{0, 0}, {1, 1}, {NAN, 0}};
  chart.category = {0, 1, 1};
  chart.category_names = {"a", "b"};
  const std::string svg = dml::fairness::render_scatter_chart(chart);
  // The 360-pixel square at (10, 32) holds the unit square scaled by 0.94 * 360,
  // centred; y grows upwards. The NaN point is skipped.
  EXPECT_NE(svg.find("cx=\"20.8\" cy=\"381.2\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("cx=\"359.2\" cy=\"42.8\""), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 2);
  EXPECT_NE(svg.find("b (1)"), std::string::npos);  // legend counts drawn points
  chart.category[0] = 5;
  expect_error([&] { dml::fairness::render_scatter_chart(chart); },
               {"point 0 has category 5 of 2"});
}

// ---- the page ------------------------------------------------------------------

// The numbers of the synthetic document as the page prints them.
const std::vector<std::string> kNumbers = {
    "0.8011", "0.8211", "0.7411", "0.0800",  "-0.0800", "0.9022", "0.3033", "0.4044",
    "0.5123", "0.4456", "1.6123", "-2.1123", "-2.3456", "0.2333", "0.9345", "0.5000",
    "0.9201", "0.8501", "0.0700", "-0.0700", "0.8904",  "n/a"};

TEST(AuditReport, RendersEverySectionOfADocument) {
  const std::string html = dml::fairness::render_audit_html(synthetic_audit());
  expect_balanced_tags(html);
  expect_no_network_references(html);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  // Retrieval bars, downstream bars, the map by class and by attribute.
  EXPECT_EQ(count(html, "<svg"), 4);
  EXPECT_EQ(count(html, "<circle"), 2 * 40);
  for (const char* s :
       {"tone=0", "tone=1 (minority)", "class 5", "class 7", "runs/x/model.safetensors", "recall@1",
        "r_precision", "intra_class", "uniformity", "logistic_imbalanced", "knn_balanced",
        "logistic regression, 50/50 split", "sampled, at most 2000000 pairs",
        "tone=0 (majority): 30", "Embedding map (pca) by tone"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  for (const std::string& number : kNumbers)
    EXPECT_NE(html.find(">" + number + "<"), std::string::npos) << number;
  // The minority's points are drawn last, on top of the majority's.
  const std::string by_group = html.substr(html.rfind("<svg"));
  const auto point = [](size_t group) {
    return std::string("r=\"2.2\" fill=\"") + dml::fairness::chart_colour(group) + "\"";
  };
  EXPECT_GT(by_group.find(point(1)), by_group.rfind(point(0)));
}

TEST(AuditReport, EscapesHostileStrings) {
  json doc = synthetic_audit("<script>alert(1)</script>");
  doc["groups"][1]["name"] = "<img src=x onerror=alert(2)>";
  doc["retrieval"]["overall"]["<b>@1"] = 0.5;
  const std::string html = dml::fairness::render_audits_html({{"A & \"B\"", doc}});
  expect_balanced_tags(html);
  expect_no_network_references(html);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt; (minority)"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;@1"), std::string::npos);
  EXPECT_NE(html.find("A &amp; &quot;B&quot;"), std::string::npos);
}

// The overview's row of `label`, from its cell to the end of the row.
std::string overview_row(const std::string& html, const std::string& label) {
  const size_t at = html.find(">" + label + "<");
  EXPECT_NE(at, std::string::npos) << label;
  return at == std::string::npos ? "" : html.substr(at, html.find("</tr>", at) - at);
}

// The training minority can be the larger held-out group: the majority is
// the document's (the training split's), never the largest held-out group.
TEST(AuditReport, MinorityAndMajorityAreTheDocumentsNotTheHeldOutSizes) {
  json doc = synthetic_audit();
  doc["groups"][0]["count"] = 10;  // tone=0, the training majority
  doc["groups"][1]["count"] = 30;  // tone=1, the training minority, larger here
  doc["majority"] = 0;
  std::string html = dml::fairness::render_audit_html(doc);
  EXPECT_NE(
      overview_row(html, "majority (most common other in training)").find("tone=0 (majority)"),
      std::string::npos);
  EXPECT_NE(overview_row(html, "minority (rarest in training)").find("tone=1 (minority)"),
            std::string::npos);
  // A document from before "majority" was written: the largest group other
  // than the minority, as its gaps were computed.
  doc.erase("majority");
  html = dml::fairness::render_audit_html(doc);
  EXPECT_NE(
      overview_row(html, "majority (most common other in training)").find("tone=0 (majority)"),
      std::string::npos);
}

TEST(AuditReport, StatesTheGapConventionAndShowsTheSignedGap) {
  const std::string html = dml::fairness::render_audit_html(synthetic_audit());
  EXPECT_NE(html.find("Gaps are minority &minus; majority"), std::string::npos);
  EXPECT_NE(html.find("a negative gap means the minority is worse off"), std::string::npos);
  // Under each retrieval bar group: the signed gap, not the unsigned spread.
  EXPECT_NE(html.find("min. \u2212 maj. -0.0800"), std::string::npos);
}

TEST(AuditReport, NamesClassesAndCutsLongNamesInLegendsOnly) {
  json doc = synthetic_audit();
  doc["embedding_map"]["class_names"] = {{"5", "Sandal <script>x</script> & co"},
                                         {"6", "T-shirt/top"}};
  const std::string long_name = "tone=" + std::string(200, 'w') + "\u00e9";
  doc["groups"][0]["name"] = long_name;
  const std::string html = dml::fairness::render_audit_html(doc);
  expect_balanced_tags(html);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("Sandal &lt;script&gt;x&lt;/script&gt; &amp; co ("), std::string::npos);
  EXPECT_NE(html.find("T-shirt/top ("), std::string::npos);
  EXPECT_NE(html.find("class 7"), std::string::npos);  // no name: the number
  // Tables keep the whole name; legends cut it, with the whole as a tooltip.
  EXPECT_NE(html.find("<th>" + long_name + " (majority)</th>"), std::string::npos);
  EXPECT_NE(html.find("<title>" + long_name + " (majority)</title>tone=www"), std::string::npos);
  EXPECT_NE(html.find("ww\u2026</text>"), std::string::npos);
  EXPECT_EQ(dml::fairness::shorten("ab\u00e9\u00e9", 3), "ab\u2026");
  EXPECT_EQ(dml::fairness::shorten("ab\u00e9", 3), "ab\u00e9");
}

TEST(AuditReport, PutsSeveralDocumentsSideBySideWithAComparison) {
  json parade = synthetic_audit();
  parade["retrieval"]["gap_max_min"]["recall@1"] = 0.0123;
  parade["leakage"]["balanced_accuracy"] = 0.6123;
  const std::string html = dml::fairness::render_audits_html(
      {{"baseline", synthetic_audit()}, {"PARADE", parade}}, "Baseline vs PARADE");
  expect_balanced_tags(html);
  EXPECT_EQ(count(html, "<svg"), 8);
  EXPECT_EQ(count(html, "<section"), 2);
  EXPECT_NE(html.find("<title>Baseline vs PARADE</title>"), std::string::npos);
  EXPECT_NE(html.find("<h2>Comparison</h2>"), std::string::npos);
  // The comparison row lists both documents' values.
  const size_t row = html.find("recall@1 gap (max - min)");
  ASSERT_NE(row, std::string::npos);
  const std::string line = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_NE(line.find(">0.0800<"), std::string::npos) << line;
  EXPECT_NE(line.find(">0.0123<"), std::string::npos) << line;
  EXPECT_NE(html.find(">0.6123<"), std::string::npos);
}

TEST(AuditReport, AbsentSectionsBecomeNotes) {
  json doc = synthetic_audit();
  for (const char* key : {"retrieval", "alignment", "leakage", "downstream", "embedding_map"})
    doc.erase(key);
  const std::string html = dml::fairness::render_audit_html(doc);
  expect_balanced_tags(html);
  EXPECT_EQ(count(html, "<svg"), 0);
  EXPECT_EQ(count(html, "class=\"missing\""), 5);
}

TEST(AuditReport, MalformedDocumentsThrowNamingTheKey) {
  using dml::fairness::render_audits_html;
  json doc = synthetic_audit();
  doc["schema"] = "dml-audit-0";
  expect_error(
      [&] {
        render_audits_html({{"m", doc}});
      },
      {"audit document 'm'", "schema is 'dml-audit-0'", "dml-audit-1"});
  doc = synthetic_audit();
  doc["retrieval"]["per_group"]["1"]["map@r"] = "high";
  expect_error(
      [&] {
        render_audits_html({{"m", doc}});
      },
      {"retrieval.per_group.1.map@r must be a number or null", "\"high\""});
  doc = synthetic_audit();
  doc["embedding_map"]["points"][3] = {1, 2, 3};
  expect_error(
      [&] {
        render_audits_html({{"m", doc}});
      },
      {"embedding_map.points[3] must be [x, y]"});
  doc = synthetic_audit();
  doc["embedding_map"]["groups"][2] = 7;
  expect_error(
      [&] {
        render_audits_html({{"m", doc}});
      },
      {"embedding_map.groups[2] = 7 is not in 'groups'"});
  doc = synthetic_audit();
  doc["embedding_map"]["labels"].erase(0);
  expect_error([&] { render_audits_html({{"m", doc}}); }, {"one length"});
  doc = synthetic_audit();
  doc.erase("groups");
  expect_error([&] { render_audits_html({{"m", doc}}); }, {"'groups' must be a non-empty array"});
  expect_error([&] { render_audits_html(std::vector<dml::fairness::TitledAudit>{}); },
               {"no audit documents"});
}

// ---- in a real browser ------------------------------------------------------------

std::string find_chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(path)) return path;
  return "";
}

// The DOM chromium builds from `file`, serialised, or "" when it fails.
std::string dump_dom(const std::string& chromium, const std::string& file,
                     const std::string& profile) {
  const std::string command = "timeout 60 " + chromium +
                              " --headless --no-sandbox --disable-gpu --user-data-dir=" + profile +
                              " --dump-dom file://" + file + " 2>/dev/null";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "";
  std::string out;
  char buffer[65536];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

TEST(AuditReport, ChromiumParsesTheChartsAndNumbers) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (Debian package chromium)";
  dml::test::TempDir dir;
  const std::string file = dir.file("audit.html");
  std::ofstream(file) << dml::fairness::render_audit_html(
      synthetic_audit("<script>document.title='pwned'</script>"));
  const std::string dom = dump_dom(chromium, file, dir.file("profile"));
  ASSERT_FALSE(dom.empty()) << "chromium printed no DOM";
  // The parser put every chart, bar and point in the tree as SVG elements.
  EXPECT_EQ(count(dom, "<svg"), 4);
  EXPECT_EQ(count(dom, "<circle"), 80);
  EXPECT_GE(count(dom, "<rect"), 4 * 2 + 4 * 2);  // bars (4 metrics, 4 classifiers) x 2 groups
  for (const std::string& number : kNumbers)
    EXPECT_NE(dom.find(">" + number + "<"), std::string::npos) << number;
  // The hostile attribute stayed text: no script element, the title untouched.
  EXPECT_EQ(dom.find("<script"), std::string::npos);
  EXPECT_NE(dom.find("&lt;script&gt;document.title"), std::string::npos);
  EXPECT_NE(dom.find("<title>Fairness audit</title>"), std::string::npos);
}

}  // namespace
