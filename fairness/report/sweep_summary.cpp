#include "fairness/report/sweep_summary.h"

#include <algorithm>
#include <limits>

#include "base/error.h"

namespace dml::fairness {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Every error names the key path from the summary's root.
[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw Error(detail::concat("sweep summary: ", where, " ", what));
}

std::string at_key(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

std::string at_index(const std::string& where, size_t i) {
  return detail::concat(where, "[", i, "]");
}

// A value as an error shows it: short, since it may be a whole audit document.
std::string brief(const Json& v) {
  const std::string text = v.dump();
  return text.size() <= 60 ? text : text.substr(0, 57) + "...";
}

const Json* member(const Json& object, const std::string& key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json& required(const Json& object, const std::string& where, const std::string& key) {
  const Json* v = member(object, key);
  if (!v) fail(at_key(where, key), "is missing");
  return *v;
}

const Json& expect_object(const Json& v, const std::string& where) {
  if (!v.is_object()) fail(where, "must be an object, got " + brief(v));
  return v;
}

// An array at `where`; an absent optional one reads as empty.
const Json& expect_array(const Json* v, const std::string& where) {
  static const Json empty = Json::array();
  if (!v) return empty;
  if (!v->is_array()) fail(where, "must be an array, got " + brief(*v));
  return *v;
}

std::string optional_string(const Json& object, const std::string& where, const std::string& key,
                            const std::string& fallback) {
  const Json* v = member(object, key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_string()) fail(at_key(where, key), "must be a string, got " + brief(*v));
  return v->get<std::string>();
}

// NaN where the value is null or absent.
double number_or_null(const Json& object, const std::string& where, const std::string& key) {
  const Json* v = member(object, key);
  if (!v || v->is_null()) return kNaN;
  if (!v->is_number()) fail(at_key(where, key), "must be a number or null, got " + brief(*v));
  return v->get<double>();
}

Interval read_interval(const Json& v, const std::string& where) {
  expect_object(v, where);
  return {number_or_null(v, where, "estimate"), number_or_null(v, where, "low"),
          number_or_null(v, where, "high")};
}

SummaryArm read_arm(const std::string& key, const Json& v, const std::string& where) {
  expect_object(v, where);
  SummaryArm arm;
  arm.key = key;
  arm.overall = read_interval(required(v, where, "overall"), at_key(where, "overall"));
  arm.gap = read_interval(required(v, where, "gap"), at_key(where, "gap"));
  if (const Json* leakage = member(v, "leakage"))
    arm.leakage = read_interval(*leakage, at_key(where, "leakage"));
  const std::string groups = at_key(where, "per_group");
  const Json& list = expect_array(member(v, "per_group"), groups);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = at_index(groups, i);
    expect_object(list[i], at);
    const Json& name = required(list[i], at, "name");
    if (!name.is_string()) fail(at_key(at, "name"), "must be a string, got " + brief(name));
    arm.per_group.push_back({name.get<std::string>(), read_interval(list[i], at)});
  }
  return arm;
}

SummaryPaired read_paired(const Json& v, const std::string& where) {
  expect_object(v, where);
  SummaryPaired p{optional_string(v, where, "metric", ""),
                  read_interval(required(v, where, "difference"), at_key(where, "difference")),
                  number_or_null(v, where, "p_value"), false};
  if (const Json* s = member(v, "significant"); s && !s->is_null()) {
    if (!s->is_boolean()) fail(at_key(where, "significant"), "must be true or false");
    p.significant = s->get<bool>();
  }
  return p;
}

SummaryCell read_cell(const Json& v, const std::string& where, SweepSummary& sweep) {
  expect_object(v, where);
  SummaryCell cell;
  cell.name = optional_string(v, where, "name", where);
  if (const Json* values = member(v, "values"))
    cell.values = expect_object(*values, at_key(where, "values"));
  const std::string arms = at_key(where, "arms");
  const Json& object = expect_object(required(v, where, "arms"), arms);
  if (object.empty()) fail(arms, "must name at least one arm");
  for (const auto& item : object.items()) {
    cell.arms.push_back(read_arm(item.key(), item.value(), at_key(arms, item.key())));
    if (std::find(sweep.arms.begin(), sweep.arms.end(), item.key()) == sweep.arms.end())
      sweep.arms.push_back(item.key());
  }
  const std::string paired = at_key(where, "paired");
  const Json& list = expect_array(member(v, "paired"), paired);
  for (size_t i = 0; i < list.size(); ++i)
    cell.paired.push_back(read_paired(list[i], at_index(paired, i)));
  return cell;
}

}  // namespace

SweepSummary read_sweep_summary(const Json& summary) {
  if (!summary.is_object()) fail("the summary", "must be a JSON object, got " + brief(summary));
  SweepSummary s;
  s.title = optional_string(summary, "", "title", "finDML sweep");
  s.attribute = optional_string(summary, "", "attribute", "");
  s.metric = optional_string(summary, "", "metric", "recall@1");
  const Json& axes = expect_array(member(summary, "axes"), "axes");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (!axes[i].is_string()) fail(at_index("axes", i), "must be a string (a swept key)");
    s.axes.push_back(axes[i].get<std::string>());
  }
  const Json& seeds = expect_array(member(summary, "seeds"), "seeds");
  for (size_t i = 0; i < seeds.size(); ++i) {
    if (!seeds[i].is_number_integer()) fail(at_index("seeds", i), "must be an integer");
    s.seeds.push_back(seeds[i].get<int64_t>());
  }
  const Json& cells = expect_array(&required(summary, "", "cells"), "cells");
  if (cells.empty()) fail("cells", "must hold at least one cell");
  for (size_t i = 0; i < cells.size(); ++i)
    s.cells.push_back(read_cell(cells[i], at_index("cells", i), s));
  const Json& audits = expect_array(member(summary, "audits"), "audits");
  for (size_t i = 0; i < audits.size(); ++i) {
    const std::string at = at_index("audits", i);
    expect_object(audits[i], at);
    s.audits.push_back(
        {optional_string(audits[i], at, "title", at), required(audits[i], at, "audit")});
  }
  return s;
}

}  // namespace dml::fairness
