#include "dml/train/step_graph.h"

namespace dml::train {

StepGraph::StepGraph(const data::Batch& batch, Device device, Generator& gen, const Work& work)
    : images_(batch.images.to(device).clone()),
      labels_(batch.labels.to(device).clone()),
      graph_(device) {
  graph_.capture([&] { outputs_ = work(images_, labels_); }, &gen);
}

bool StepGraph::fits(const data::Batch& batch) const {
  return batch.images.shape() == images_.shape() && batch.labels.shape() == labels_.shape();
}

StepOutput StepGraph::replay(const data::Batch& batch) {
  copy_into(images_, batch.images);
  copy_into(labels_, batch.labels);
  graph_.replay();
  return outputs_;
}

}  // namespace dml::train
