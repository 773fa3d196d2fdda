#include "fairness/sweep.h"

#include <cstdio>
#include <map>
#include <set>

#include "base/error.h"
#include "dml/train/config.h"
#include "fairness/audit.h"
#include "fairness/parade_training.h"

namespace dml::fairness {

namespace {

// Keys that say where and how a run executes, not what it trains: left out
// of a run's name, so a resumed sweep on other paths or thread counts finds
// its runs.
constexpr const char* kExecutionKeys[][2] = {{"train", "output"},
                                             {"train", "workers"},
                                             {"train", "threads"},
                                             {"train", "log_every"},
                                             {"data", "root"}};

std::vector<std::string> split_top_level(const std::string& text) {
  std::vector<std::string> parts(1);
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '\\' && i + 1 < text.size()) {
      parts.back() += c;
      parts.back() += text[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '[' || c == '{')) ++depth;
    if (!quoted && (c == ']' || c == '}')) --depth;
    if (c == ',' && depth == 0 && !quoted) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  return parts;
}

std::string value_text(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string cell_name(const std::vector<SweepAxis>& axes, const std::vector<size_t>& at) {
  if (axes.empty()) return "default";
  std::string name;
  for (size_t a = 0; a < axes.size(); ++a)
    name += (a ? "," : "") + axes[a].key + "=" + value_text(axes[a].values[at[a]]);
  return name;
}

// The arm's config: the baseline has no attribute branch, so its parade
// section is the inert default (and baselines of cells that differ only in
// PARADE's settings are one run); PARADE has a branch for the attribute.
Json arm_config(Json config, Arm arm, const std::string& attribute, int64_t seed) {
  config["train"]["seed"] = seed;
  if (arm == Arm::baseline) {
    config["parade"] = train::default_config()["parade"];
  } else {
    config["parade"]["attributes"] = Json::array({attribute});
  }
  return config;
}

}  // namespace

const char* arm_name(Arm arm) {
  return arm == Arm::baseline ? "baseline" : "parade";
}

SweepAxis parse_sweep_axis(const std::string& text) {
  const size_t eq = text.find('=');
  DML_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < text.size(), "--sweep '", text,
            "': write KEY=V1,V2,... (e.g. parade.rho=0.25,1,4)");
  SweepAxis axis{.key = text.substr(0, eq), .values = {}};
  for (const std::string& part : split_top_level(text.substr(eq + 1))) {
    DML_CHECK(!part.empty(), "--sweep '", text, "': an empty value; separate values by one comma");
    Json v = Json::parse(part, nullptr, /*allow_exceptions=*/false);
    axis.values.push_back(v.is_discarded() ? Json(part) : v);
  }
  return axis;
}

std::string config_hash(const Json& config) {
  Json named = config;
  for (const auto& [section, key] : kExecutionKeys)
    if (named.contains(section)) named[section].erase(key);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (const unsigned char c : named.dump()) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

SweepPlan plan_sweep(const Json& config, const SweepOptions& options) {
  DML_CHECK(!options.seeds.empty(), "experiment findml: give at least one seed");
  DML_CHECK(!options.output.empty(), "experiment findml: give an output directory");
  SweepPlan plan{
      .axes = options.axes,
      .seeds = options.seeds,
      .attribute = options.attribute.empty() ? default_audit_attribute(config) : options.attribute,
      .cells = {},
      .runs = {}};
  std::set<std::string> keys;
  size_t cells = 1;
  for (const SweepAxis& axis : options.axes) {
    DML_CHECK(axis.key != "train.seed" && axis.key != "train.output", "--sweep ", axis.key,
              ": set by the experiment (use --seeds and --output)");
    DML_CHECK(keys.insert(axis.key).second, "--sweep ", axis.key, " is given twice");
    DML_CHECK(!axis.values.empty(), "--sweep ", axis.key, " has no values");
    cells *= axis.values.size();
  }

  std::map<std::string, size_t> run_of;  // dir -> index in plan.runs
  auto add_run = [&](const Json& cell_config, Arm arm, int64_t seed) {
    Json c = arm_config(cell_config, arm, plan.attribute, seed);
    const std::string dir = options.output + "/runs/" + arm_name(arm) + "-seed" +
                            std::to_string(seed) + "-" + config_hash(c);
    auto [it, fresh] = run_of.emplace(dir, plan.runs.size());
    if (fresh) {
      c["train"]["output"] = dir;
      plan.runs.push_back({.arm = arm, .seed = seed, .config = c, .dir = dir});
    }
    return it->second;
  };

  std::vector<size_t> at(options.axes.size(), 0);
  for (size_t cell = 0; cell < cells; ++cell) {
    // The cell's values, the last axis fastest.
    size_t rest = cell;
    for (size_t a = options.axes.size(); a-- > 0;) {
      at[a] = rest % options.axes[a].values.size();
      rest /= options.axes[a].values.size();
    }
    const std::string name = cell_name(options.axes, at);
    std::vector<std::string> overrides;
    Json values = Json::object();
    for (size_t a = 0; a < options.axes.size(); ++a) {
      overrides.push_back(options.axes[a].key + "=" + options.axes[a].values[at[a]].dump());
      values[options.axes[a].key] = options.axes[a].values[at[a]];
    }
    Json cell_config;
    try {
      cell_config = train::resolve_config(config, overrides, "--sweep " + name);
    } catch (const Error& e) {
      throw Error("--sweep " + name + ": " + e.what());
    }
    SweepCell c{.name = name, .values = values, .baseline = {}, .parade = {}};
    for (int64_t seed : options.seeds) {
      c.baseline.push_back(add_run(cell_config, Arm::baseline, seed));
      c.parade.push_back(add_run(cell_config, Arm::parade, seed));
    }
    // Range and PARADE checks of both arms now, not after hours of runs.
    for (size_t r : {c.baseline.front(), c.parade.front()}) {
      train::typed_config(plan.runs[r].config);
      parade_config(plan.runs[r].config);
    }
    plan.cells.push_back(std::move(c));
  }
  const size_t grid = cells * options.seeds.size() * 2;
  DML_CHECK(int64_t(plan.runs.size()) <= options.max_runs, "experiment findml: the sweep needs ",
            plan.runs.size(), " training runs (", cells, " cell(s) x ", options.seeds.size(),
            " seed(s) x 2 arms", grid > plan.runs.size() ? ", shared baselines counted once" : "",
            "), more than --max-runs ", options.max_runs, "; raise --max-runs to allow it");
  return plan;
}

}  // namespace dml::fairness
