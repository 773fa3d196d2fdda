#include "dml/train/evaluation.h"

#include "dml/data/random_streams.h"
#include "dml/train/datasets.h"
#include "dml/train/embed.h"

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

eval::RetrievalReport evaluate_model(nn::Module& model, const TrainConfig& c, const EvalData& data,
                                     Embedded* queries_out) {
  constexpr int64_t kBatch = 256;
  const data::SampleLoader load = make_sample_loader(c.augment, c.model.in_channels, false);
  const eval::EvalOptions options{
      .metric = eval::parse_metric(c.run.metric),
      .recall_ks = c.run.recall_ks,
      .clustering = c.run.clustering,
      .seed = data::stream_seed(uint64_t(c.run.seed), data::Stream::clustering)};
  const data::BadSamplePolicy bad_samples =
      c.data.skip_bad_images ? data::BadSamplePolicy::skip : data::BadSamplePolicy::error;
  Embedded queries = embed_samples(model, data.queries, load, kBatch, c.run.workers, bad_samples);
  std::optional<Embedded> gallery;
  if (data.gallery)
    gallery = embed_samples(model, *data.gallery, load, kBatch, c.run.workers, bad_samples);
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
