#include "dml/train/preflight.h"

#include <cstdio>
#include <set>
#include <vector>

#include "dml/data/csv_manifest.h"
#include "dml/data/image.h"
#include "dml/train/datasets.h"

namespace dml::train {

namespace {

// The problem with each sample's file, "" where there is none. Samples are
// independent, so the headers are read by all of OpenMP's threads (a cold
// disk or a network file system answers faster with several reads in
// flight).
std::vector<std::string> image_problems(const data::SampleSet& set, const TrainConfig& c,
                                        bool train) {
  const int64_t n = int64_t(set.samples.size());
  std::vector<std::string> problems(size_t(n), "");
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < n; ++i) {
    const std::string& path = set.samples[size_t(i)].path;
    if (path.empty()) continue;
    try {
      const data::ImageHeader h = data::read_image_header(path, c.data.max_image_pixels);
      check_resized_size("image " + path, h.height, h.width, c, train);
    } catch (const std::exception& e) {
      problems[size_t(i)] = e.what();
    }
  }
  return problems;
}

// Held-out classes that training has seen: the zero-shot protocol measures
// retrieval of unseen classes, so these inflate the held-out metrics.
void warn_of_shared_classes(const data::SampleSet& train_set, const EvalData& held_out) {
  std::set<int64_t> trained, shared;
  for (const data::Sample& s : train_set.samples) trained.insert(s.label);
  for (const data::SampleSet* set :
       {&held_out.queries, held_out.gallery ? &*held_out.gallery : nullptr})
    if (set)
      for (const data::Sample& s : set->samples)
        if (trained.count(s.label)) shared.insert(s.label);
  if (shared.empty()) return;
  std::fprintf(stderr,
               "dml: warning: %zu held-out classes of %s are also in the training split "
               "(first: label %lld); the zero-shot protocol holds out classes training has "
               "not seen\n",
               shared.size(), held_out.queries.name.c_str(), (long long)*shared.begin());
}

// Rows of a CSV manifest whose split value is neither data.train_split nor
// data.test_split are read by neither split: said, as a misspelt split name
// would otherwise leave images out without a word.
void warn_of_unused_manifest_rows(const DataConfig& d) {
  if (d.format != "csv") return;
  int64_t unused = 0;
  std::string values;
  for (const auto& [value, count] : data::csv_split_counts(d.root))
    if (value != d.train_split && value != d.test_split) {
      unused += count;
      values += detail::concat(values.empty() ? "" : ", ", "'", value, "' (", count, ")");
    }
  if (unused == 0) return;
  std::fprintf(stderr,
               "dml: warning: %lld rows of %s are in neither split: their split values %s are "
               "not data.train_split '%s' or data.test_split '%s'\n",
               (long long)unused, d.root.c_str(), values.c_str(), d.train_split.c_str(),
               d.test_split.c_str());
}

}  // namespace

int64_t preflight_images(data::SampleSet& set, const std::string& split, const TrainConfig& c,
                         bool train) {
  const std::vector<std::string> problems = image_problems(set, c, train);
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < problems.size(); ++i)
    if (!problems[i].empty()) {
      if (bad++ == 0) first = int64_t(i);
    }
  if (bad == 0) return 0;
  DML_CHECK(c.data.skip_bad_images, set.name, ": ", bad, " of ", set.samples.size(),
            " images of the ", split, " split cannot be used; the first, sample ", first, ": ",
            problems[size_t(first)],
            ". Fix or remove them, or set data.skip_bad_images=true to leave them out");
  std::vector<data::Sample> kept;
  kept.reserve(set.samples.size() - size_t(bad));
  for (size_t i = 0; i < problems.size(); ++i)
    if (problems[i].empty()) kept.push_back(std::move(set.samples[i]));
  set.samples = std::move(kept);
  DML_CHECK(!set.samples.empty(), set.name, ": every one of the ", bad, " images of the ", split,
            " split is unusable; the first: ", problems[size_t(first)]);
  return bad;
}

void preflight_run(data::SampleSet& train_set, EvalData& held_out, const TrainConfig& c) {
  struct Part {
    data::SampleSet* set;
    const char* split;
  };
  std::vector<Part> parts{{&train_set, "train"}, {&held_out.queries, "held-out"}};
  if (held_out.gallery) parts.push_back({&*held_out.gallery, "gallery"});
  for (const Part& p : parts)
    if (const int64_t dropped = preflight_images(*p.set, p.split, c, p.set == &train_set);
        dropped > 0)
      std::printf("%s: %lld unusable images left out of the %s split (data.skip_bad_images)\n",
                  p.set->name.c_str(), (long long)dropped, p.split);
  warn_of_unused_manifest_rows(c.data);
  warn_of_shared_classes(train_set, held_out);
  if (const int64_t singles = check_evaluable(held_out); singles > 0)
    std::fprintf(stderr,
                 "dml: warning: %lld held-out classes of %s have a single image; those images "
                 "are not scored as queries (nothing of their class to find)\n",
                 (long long)singles, held_out.queries.name.c_str());
}

}  // namespace dml::train
