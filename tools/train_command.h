#pragma once
// `dml train`: the bundled end-to-end demo. Trains the tiny CNN on
// Fashion-MNIST with Adam and cross-entropy, prints the running loss so it is
// seen to fall, then the accuracy on part of the test split.
#include <cstdint>
#include <string>

namespace dml::tools {

struct TrainOptions {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int64_t epochs = 2;
  int64_t batch_size = 64;
  double lr = 5e-3;
  uint64_t seed = 0;
  int64_t limit = 60000;       // training images used (all of Fashion-MNIST's)
  int64_t log_every = 100;     // steps between loss reports
  int64_t eval_count = 10000;  // test images scored at the end (all)
  int threads = 0;             // 0: OpenMP's default
};

// Runs the demo, printing progress to stdout. Throws dml::Error on bad
// options or data.
void run_train(const TrainOptions& options);

}  // namespace dml::tools
