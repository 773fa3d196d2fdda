#pragma once
// Evaluating a model on held-out data, as training (every eval.every epochs)
// and `dml eval` both do: embed, then exact-kNN retrieval metrics. Most
// datasets search each sample against the rest of its split; In-Shop
// searches its query images against its gallery.
#include <optional>
#include <string>

#include "dml/data/sample.h"
#include "dml/eval/evaluate.h"
#include "dml/train/config.h"
#include "dml/train/embed.h"
#include "layers/module.h"

namespace dml::train {

struct EvalData {
  data::SampleSet queries;
  std::optional<data::SampleSet> gallery;  // In-Shop's test split only
};

// "test": the held-out split (In-Shop: query + gallery); "train": the
// training split searched against itself. eval.limit keeps the first N
// queries.
EvalData open_eval_data(const TrainConfig& config, const std::string& split);

// Refuses held-out data on which retrieval metrics say nothing: fewer than
// two classes (every neighbour shares the query's class, so every metric is
// a trivial 1.0) or no class with two images (no query has a neighbour of
// its class to find, so every metric is NaN). Returns how many classes have
// a single image: theirs are searched for but never scored as queries (0
// with a gallery, In-Shop, whose classes are the gallery's; a query counts
// when the gallery holds its class).
int64_t check_evaluable(const EvalData& data);

// Runs check_evaluable first. On several ranks each embeds a shard of the
// split and every rank computes the same metrics from the gathered rows. With data.skip_bad_images,
// unreadable images are left out of the search and counted in the metric "eval_skipped_images";
// otherwise one ends the evaluation with an error naming it. `queries`, when given, receives the
// embedded queries (with their labels and attributes) for further metrics.
eval::RetrievalReport evaluate_model(nn::Module& model, const TrainConfig& config,
                                     const EvalData& data, Embedded* queries = nullptr);

}  // namespace dml::train
