#include "dml/train/evaluation.h"

#include <map>

#include "dml/data/random_streams.h"
#include "dml/data/shard.h"
#include "dml/train/datasets.h"
#include "dml/train/embed.h"
#include "dml/train/rank_sum.h"
#include "engine/distributed/communicator.h"

namespace dml::train {

EvalData open_eval_data(const TrainConfig& c, const std::string& split) {
  EvalData out;
  if (c.data.format == "inshop" && split == "test") {
    out.queries = open_split(c.data, "query");
    out.gallery = open_split(c.data, "gallery");
  } else {
    out.queries = open_split(c.data, split);
  }
  if (c.run.eval_limit > 0 && int64_t(out.queries.samples.size()) > c.run.eval_limit)
    out.queries.samples.resize(size_t(c.run.eval_limit));
  return out;
}

namespace {

constexpr int64_t kEvalBatch = 256;

// The split's embeddings, in order. On several ranks each embeds its shard
// of the split's eval batches, whole (each the batch one process embeds, so
// every row comes out the same), and the rows are gathered in rank order.
Embedded embed_split(nn::Module& model, const data::SampleSet& set, const data::SampleLoader& load,
                     const TrainConfig& c, data::BadSamplePolicy bad_samples) {
  dist::Communicator& ranks = dist::world();
  if (ranks.size() == 1)
    return embed_samples(model, set, load, kEvalBatch, c.run.workers, bad_samples);
  std::vector<std::vector<int64_t>> batches =
      consecutive_batches(int64_t(set.samples.size()), kEvalBatch);
  const data::Shard own = data::shard_of(int64_t(batches.size()), ranks.rank(), ranks.size());
  batches =
      std::vector<std::vector<int64_t>>(batches.begin() + own.begin, batches.begin() + own.end);
  // A split of fewer batches than ranks leaves some ranks none.
  Embedded mine{zeros({0, c.model.embedding_dim}), zeros({0}, DType::i64),
                zeros({0, int64_t(set.attribute_names.size())}, DType::i64)};
  if (!batches.empty())
    mine = embed_batches(
        model, set, std::move(batches), load, c.run.workers, bad_samples,
        "embed " + set.name + " (this rank's share of " + std::to_string(set.samples.size()) + ")");
  return {ranks.all_gather_rows(mine.embeddings), ranks.all_gather_rows(mine.labels),
          ranks.all_gather_rows(mine.attributes), sum_over_ranks(ranks, mine.skipped)};
}

}  // namespace

int64_t check_evaluable(const EvalData& data) {
  std::map<int64_t, int64_t> per_class;  // images of each class the queries search
  for (const data::Sample& s : (data.gallery ? *data.gallery : data.queries).samples)
    ++per_class[s.label];
  const std::string& name = data.gallery ? data.gallery->name : data.queries.name;
  DML_CHECK(per_class.size() >= 2, "evaluation: ", name, " holds ", per_class.size(),
            per_class.size() == 1 ? " class" : " classes",
            "; retrieval metrics need at least 2 (with one, every neighbour is of the query's "
            "class and every metric reads a meaningless 1.0). Hold out more classes (check the "
            "split settings and eval.limit, which keeps only the first N queries)");
  // A query is scored when it has a neighbour of its class to find.
  const int64_t self = data.gallery ? 0 : 1;
  int64_t scored = 0, singles = 0;
  for (const data::Sample& s : data.queries.samples) {
    const auto it = per_class.find(s.label);
    if (it != per_class.end() && it->second > self) ++scored;
  }
  for (const auto& [label, count] : per_class) singles += count == 1;
  DML_CHECK(scored > 0, "evaluation: no query of ", data.queries.name,
            " has another image of its class to find, so every retrieval metric would be NaN; ",
            "hold out at least 2 images of some class");
  return data.gallery ? 0 : singles;
}

eval::RetrievalReport evaluate_model(nn::Module& model, const TrainConfig& c, const EvalData& data,
                                     Embedded* queries_out) {
  check_evaluable(data);
  const data::SampleLoader load = make_sample_loader(c, false);
  const eval::EvalOptions options{
      .metric = eval::parse_metric(c.run.metric),
      .recall_ks = c.run.recall_ks,
      .clustering = c.run.clustering,
      .seed = data::stream_seed(uint64_t(c.run.seed), data::Stream::clustering)};
  const data::BadSamplePolicy bad_samples =
      c.data.skip_bad_images ? data::BadSamplePolicy::skip : data::BadSamplePolicy::error;
  Embedded queries = embed_split(model, data.queries, load, c, bad_samples);
  std::optional<Embedded> gallery;
  if (data.gallery) gallery = embed_split(model, *data.gallery, load, c, bad_samples);
  eval::RetrievalReport report =
      gallery ? eval::evaluate_query_gallery(queries.embeddings, queries.labels,
                                             gallery->embeddings, gallery->labels, options)
              : eval::evaluate_embeddings(queries.embeddings, queries.labels, options);
  if (c.data.skip_bad_images)
    report.metrics.emplace_back("eval_skipped_images",
                                double(queries.skipped + (gallery ? gallery->skipped : 0)));
  if (queries_out) *queries_out = std::move(queries);
  return report;
}

}  // namespace dml::train
