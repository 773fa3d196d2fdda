#include "fairness/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "base/error.h"
#include "fairness/report/html_page.h"
#include "fairness/report/html_text.h"
#include "fairness/report/svg_charts.h"

namespace dml::fairness {

namespace {

using Path = std::vector<std::string>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string path_name(const Path& path) {
  std::string name;
  for (const std::string& key : path) name += (name.empty() ? "" : ".") + key;
  return name;
}

struct Group {
  int64_t value = 0;
  std::string key;   // the value as the per_group objects' key
  std::string name;  // as written, " (minority)" / " (majority)" appended
  double count = kNaN;
};

// Typed access to one document; errors name the document and the key path.
class Document {
 public:
  Document(std::string title, const Json& root) : title_(std::move(title)), root_(root) {
    DML_CHECK(root.is_object(), "audit document '", title_, "' is not a JSON object");
    const std::string schema = text({"schema"});
    DML_CHECK(schema == "dml-audit-1", "audit document '", title_, "': schema is '", schema,
              "', expected 'dml-audit-1' (fairness/AUDIT_SCHEMA.md)");
    read_groups();
  }

  const std::string& title() const { return title_; }
  const std::vector<Group>& groups() const { return groups_; }

  // The value at `path`, or null where a key is missing.
  const Json* find(const Path& path) const {
    const Json* at = &root_;
    for (const std::string& key : path) {
      if (!at->is_object()) return nullptr;
      auto it = at->find(key);
      if (it == at->end()) return nullptr;
      at = &*it;
    }
    return at;
  }

  // A number; NaN where it is null or absent.
  double number(const Path& path) const {
    const Json* v = find(path);
    if (!v || v->is_null()) return kNaN;
    DML_CHECK(v->is_number(), "audit document '", title_, "': ", path_name(path),
              " must be a number or null, got ", v->dump());
    return v->get<double>();
  }

  // A string as written, a number or boolean as JSON text; "" where absent.
  std::string text(const Path& path) const {
    const Json* v = find(path);
    if (!v || v->is_null()) return "";
    return v->is_string() ? v->get<std::string>() : v->dump();
  }

  int64_t integer(const Json& v, const std::string& where) const {
    DML_CHECK(v.is_number_integer(), "audit document '", title_, "': ", where,
              " must be an integer, got ", v.dump());
    return v.get<int64_t>();
  }

  // The keys of the object at `path`, in the document's order.
  std::vector<std::string> keys(const Path& path) const {
    std::vector<std::string> out;
    const Json* v = find(path);
    if (v && v->is_object())
      for (const auto& item : v->items()) out.push_back(item.key());
    return out;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(detail::concat("audit document '", title_, "': ", what));
  }

  // The index in groups() of the group with this attribute value.
  std::optional<size_t> group_index(int64_t value) const {
    for (size_t i = 0; i < groups_.size(); ++i)
      if (groups_[i].value == value) return i;
    return std::nullopt;
  }
  // The subgroups the signed gaps compare (absent from a malformed document).
  std::string minority_name() const { return minority_ ? groups_[*minority_].name : "n/a"; }
  std::string majority_name() const { return majority_ ? groups_[*majority_].name : "n/a"; }

 private:
  void read_groups() {
    const Json* list = find({"groups"});
    if (!list || !list->is_array() || list->empty())
      fail("'groups' must be a non-empty array of {value, name, count}");
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& g = (*list)[i];
      const std::string where = detail::concat("groups[", i, "]");
      if (!g.is_object() || !g.contains("value")) fail(where + " must be an object with a value");
      Group group;
      group.value = integer(g["value"], where + ".value");
      group.key = std::to_string(group.value);
      group.name = g.contains("name") && g["name"].is_string() ? g["name"].get<std::string>()
                                                               : attribute() + "=" + group.key;
      if (g.contains("count") && g["count"].is_number()) group.count = g["count"].get<double>();
      groups_.push_back(std::move(group));
    }
    // The gaps' two sides, as the document names them; a document without a
    // "majority" (written before it was recorded) had its gaps taken against
    // the largest subgroup other than the minority.
    const Json* minority = find({"minority"});
    if (minority && minority->is_number_integer())
      minority_ = group_index(minority->get<int64_t>());
    const Json* majority = find({"majority"});
    if (majority && majority->is_number_integer()) {
      majority_ = group_index(majority->get<int64_t>());
    } else {
      for (size_t i = 0; i < groups_.size(); ++i)
        if (i != minority_ && (!majority_ || groups_[i].count > groups_[*majority_].count))
          majority_ = i;
    }
    if (minority_) groups_[*minority_].name += " (minority)";
    if (majority_) groups_[*majority_].name += " (majority)";
  }

  std::string attribute() const { return text({"attribute"}); }

  std::string title_;
  const Json& root_;
  std::vector<Group> groups_;
  std::optional<size_t> minority_, majority_;
};

// One row of a per-subgroup table: a metric (or classifier) with its value
// overall, per group (in the order of Document::groups) and its two gaps.
struct GapRow {
  std::string name;
  double overall = kNaN;
  std::vector<double> per_group;
  double gap_max_min = kNaN, gap_minority_majority = kNaN;
};

// Sections laid out as {overall: {m: v}, per_group: {g: {m: v}}, gap_*: {m: v}}
// (retrieval, alignment): one row per metric.
std::vector<GapRow> rows_by_metric(const Document& doc, const std::string& section) {
  std::vector<std::string> metrics = doc.keys({section, "overall"});
  for (const Group& g : doc.groups())
    if (metrics.empty()) metrics = doc.keys({section, "per_group", g.key});
  std::vector<GapRow> rows;
  for (const std::string& m : metrics) {
    GapRow row{m,
               doc.number({section, "overall", m}),
               {},
               doc.number({section, "gap_max_min", m}),
               doc.number({section, "gap_minority_majority", m})};
    for (const Group& g : doc.groups())
      row.per_group.push_back(doc.number({section, "per_group", g.key, m}));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Sections laid out as {classifier: {overall, per_group: {g: v}, gap_*}}
// (downstream): one row per classifier.
std::vector<GapRow> rows_by_classifier(const Document& doc, const std::string& section) {
  std::vector<GapRow> rows;
  for (const std::string& k : doc.keys({section})) {
    GapRow row{k,
               doc.number({section, k, "overall"}),
               {},
               doc.number({section, k, "gap_max_min"}),
               doc.number({section, k, "gap_minority_majority"})};
    for (const Group& g : doc.groups())
      row.per_group.push_back(doc.number({section, k, "per_group", g.key}));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string gap_table(const Document& doc, const std::string& first_column,
                      const std::vector<GapRow>& rows, bool with_overall) {
  std::vector<std::string> header = {html_escape(first_column)};
  if (with_overall) header.push_back("overall");
  for (const Group& g : doc.groups()) header.push_back(html_escape(g.name));
  header.push_back("gap (max &minus; min)");
  header.push_back("gap (minority &minus; majority)");
  std::vector<std::vector<std::string>> cells;
  for (const GapRow& r : rows) {
    std::vector<std::string> line = {html_escape(r.name)};
    if (with_overall) line.push_back(format_metric(r.overall));
    for (double v : r.per_group) line.push_back(format_metric(v));
    line.push_back(format_metric(r.gap_max_min));
    line.push_back(format_metric(r.gap_minority_majority));
    cells.push_back(std::move(line));
  }
  return html_table(header, cells);
}

// Bars per group (colours as in the attribute map), the signed gap
// (minority - majority) under each metric.
std::string gap_bars(const Document& doc, const std::string& title,
                     const std::vector<GapRow>& rows) {
  BarChart chart;
  chart.title = title;
  for (const GapRow& r : rows) {
    chart.categories.push_back(r.name);
    chart.notes.push_back("min. \u2212 maj. " + format_metric(r.gap_minority_majority));
  }
  for (size_t g = 0; g < doc.groups().size(); ++g) {
    BarChart::Series s{doc.groups()[g].name, {}, {}};
    for (const GapRow& r : rows) s.values.push_back(r.per_group[g]);
    chart.series.push_back(std::move(s));
  }
  return render_bar_chart(chart);
}

// The one sign convention of every gap, stated where the gaps are shown.
const std::string kGapConvention =
    "<p class=\"convention\">Gaps are minority &minus; majority: the minority is the "
    "attribute value rarest in the training split, the majority its most common other value. "
    "For retrieval metrics and accuracy (higher is better) a negative gap means the minority is "
    "worse off; for the alignment distances it is the difference in distance (a positive "
    "intra_class gap: the minority's same-class pairs lie farther apart). max &minus; min is "
    "the unsigned spread over all subgroups.</p>\n";

std::string missing(const std::string& what) {
  return "<p class=\"missing\">No " + what + " in this document.</p>\n";
}

std::string overview(const Document& doc) {
  std::string groups;
  for (const Group& g : doc.groups())
    groups += (groups.empty() ? "" : ", ") + html_escape(g.name) +
              (std::isnan(g.count) ? "" : ": " + format_fixed(g.count, 0));
  std::string pairs = "all pairs";
  const Json* sampled = doc.find({"sampled", "pairs"});
  if (sampled && sampled->is_boolean() && sampled->get<bool>())
    pairs = "sampled, at most " + html_escape(doc.text({"sampled", "max_pairs"})) + " pairs";
  return html_table({},
                    {{"model", html_escape(doc.text({"model"}))},
                     {"dataset", html_escape(doc.text({"dataset"}))},
                     {"sensitive attribute", html_escape(doc.text({"attribute"}))},
                     {"subgroups (count)", groups},
                     {"minority (rarest in training)", html_escape(doc.minority_name())},
                     {"majority (most common other in training)", html_escape(doc.majority_name())},
                     {"alignment pairs", pairs}},
                    false) +
         kGapConvention;
}

std::string retrieval(const Document& doc) {
  std::string out = "<h3>Retrieval per subgroup</h3>\n";
  const std::vector<GapRow> rows = rows_by_metric(doc, "retrieval");
  if (rows.empty()) return out + missing("retrieval metrics");
  return out + gap_bars(doc, "Retrieval per subgroup", rows) + gap_table(doc, "metric", rows, true);
}

std::string alignment(const Document& doc) {
  std::string out = "<h3>Alignment and uniformity</h3>\n";
  const std::vector<GapRow> rows = rows_by_metric(doc, "alignment");
  if (rows.empty()) return out + missing("alignment metrics");
  return out +
         "<p>Mean squared distances within one subgroup: same-class pairs (intra_class), "
         "different-class pairs (inter_class); uniformity = log mean exp(&minus;2 d&sup2;).</p>\n" +
         gap_table(doc, "metric", rows, false);
}

std::string leakage(const Document& doc) {
  std::string out = "<h3>Attribute leakage</h3>\n";
  if (!doc.find({"leakage"})) return out + missing("leakage probe");
  return out + html_table({},
                          {{"balanced accuracy of a probe recovering the attribute",
                            format_metric(doc.number({"leakage", "balanced_accuracy"}))},
                           {"chance", format_metric(doc.number({"leakage", "chance"}))},
                           {"probe", html_escape(doc.text({"leakage", "probe"}))}},
                          false);
}

std::string downstream(const Document& doc) {
  std::string out = "<h3>Downstream classifiers</h3>\n";
  const std::vector<GapRow> rows = rows_by_classifier(doc, "downstream");
  if (rows.empty()) return out + missing("downstream classifiers");
  return out + gap_bars(doc, "Downstream accuracy per subgroup", rows) +
         gap_table(doc, "classifier", rows, true);
}

// The draw order that puts the points of smaller categories on top.
std::vector<size_t> smaller_on_top(const std::vector<size_t>& category, size_t categories) {
  std::vector<size_t> count(categories, 0), order(category.size());
  for (size_t c : category) ++count[c];
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return count[category[a]] > count[category[b]]; });
  return order;
}

std::string embedding_map(const Document& doc) {
  std::string out = "<h3>Embedding map</h3>\n";
  const Json* points = doc.find({"embedding_map", "points"});
  if (!points) return out + missing("embedding map");
  const Json* labels = doc.find({"embedding_map", "labels"});
  const Json* groups = doc.find({"embedding_map", "groups"});
  if (!points->is_array() || !labels || !labels->is_array() || !groups || !groups->is_array() ||
      labels->size() != points->size() || groups->size() != points->size())
    doc.fail(
        "embedding_map must hold arrays points, labels and groups of one length (one per point)");
  const size_t n = points->size();
  ScatterChart by_class, by_group;
  std::map<int64_t, size_t> class_index;
  std::vector<int64_t> label(n);
  for (size_t i = 0; i < n; ++i) {
    const Json& p = (*points)[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      doc.fail(detail::concat("embedding_map.points[", i, "] must be [x, y], got ", p.dump()));
    by_class.points.push_back({p[0].get<double>(), p[1].get<double>()});
    label[i] = doc.integer((*labels)[i], detail::concat("embedding_map.labels[", i, "]"));
    class_index[label[i]] = 0;
    const int64_t value =
        doc.integer((*groups)[i], detail::concat("embedding_map.groups[", i, "]"));
    const std::optional<size_t> g = doc.group_index(value);
    if (!g)
      doc.fail(detail::concat("embedding_map.groups[", i, "] = ", value, " is not in 'groups'"));
    by_group.category.push_back(*g);
  }
  const Json* class_names = doc.find({"embedding_map", "class_names"});
  for (auto& [value, index] : class_index) {
    index = by_class.category_names.size();
    const std::string key = std::to_string(value);
    by_class.category_names.push_back(class_names && class_names->is_object() &&
                                              class_names->contains(key) &&
                                              (*class_names)[key].is_string()
                                          ? (*class_names)[key].get<std::string>()
                                          : detail::concat("class ", value));
  }
  for (int64_t l : label) by_class.category.push_back(class_index[l]);
  by_group.points = by_class.points;
  for (const Group& g : doc.groups()) by_group.category_names.push_back(g.name);
  by_group.draw_order = smaller_on_top(by_group.category, by_group.category_names.size());

  std::string method = doc.text({"embedding_map", "method"});
  method = method.empty() ? "" : " (" + method + ")";
  by_class.title = "Embedding map" + method + " by class";
  by_group.title = "Embedding map" + method + " by " + doc.text({"attribute"});
  return out + render_scatter_chart(by_class) + render_scatter_chart(by_group);
}

std::string document_section(const Document& doc) {
  return "<section class=\"doc\">\n<h2>" + html_escape(doc.title()) + "</h2>\n" + overview(doc) +
         retrieval(doc) + alignment(doc) + leakage(doc) + downstream(doc) + embedding_map(doc) +
         "</section>\n";
}

// The headline numbers of every document, one column each.
std::string comparison(const std::vector<Document>& docs) {
  std::vector<std::string> header = {"metric"};
  for (const Document& d : docs) header.push_back(html_escape(d.title()));
  std::vector<std::vector<std::string>> rows;
  auto add = [&](const std::string& name, const Path& path) {
    std::vector<std::string> row = {html_escape(name)};
    for (const Document& d : docs) row.push_back(format_metric(d.number(path)));
    rows.push_back(std::move(row));
  };
  for (const std::string& m : docs[0].keys({"retrieval", "overall"})) {
    add(m + " overall", {"retrieval", "overall", m});
    add(m + " gap (max - min)", {"retrieval", "gap_max_min", m});
    add(m + " gap (minority - majority)", {"retrieval", "gap_minority_majority", m});
  }
  add("leakage balanced accuracy", {"leakage", "balanced_accuracy"});
  for (const std::string& k : docs[0].keys({"downstream"}))
    add(k + " gap (max - min)", {"downstream", k, "gap_max_min"});
  return "<h2>Comparison</h2>\n" + html_table(header, rows);
}

}  // namespace

std::string render_audit_sections(const std::vector<TitledAudit>& audits) {
  DML_CHECK(!audits.empty(), "render_audits_html: no audit documents to render");
  std::vector<Document> docs;
  docs.reserve(audits.size());
  for (const TitledAudit& a : audits) docs.emplace_back(a.title, a.audit);
  std::string html = docs.size() > 1 ? comparison(docs) : "";
  html += "<div class=\"docs\">\n";
  for (const Document& d : docs) html += document_section(d);
  return html + "</div>\n";
}

std::string render_audits_html(const std::vector<TitledAudit>& audits,
                               const std::string& page_title) {
  return page_begin(page_title) + render_audit_sections(audits) + page_end();
}

std::string render_audit_html(const Json& audit) {
  const std::string model =
      audit.is_object() && audit.contains("model") && audit["model"].is_string()
          ? audit["model"].get<std::string>()
          : std::string("audit");
  return render_audits_html({{model, audit}}, "Fairness audit");
}

}  // namespace dml::fairness
