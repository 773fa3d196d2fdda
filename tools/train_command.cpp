#include "tools/train_command.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "dml/data/fashion_mnist.h"
#include "dml/data/permutation.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "tools/tiny_cnn.h"

namespace dml::tools {

namespace {

void check_options(const TrainOptions& o) {
  DML_CHECK(o.epochs >= 1, "train: --epochs ", o.epochs, " must be >= 1");
  // Batch norm needs two or more examples per batch for a batch variance.
  DML_CHECK(o.batch_size >= 2, "train: --batch-size ", o.batch_size, " must be >= 2");
  DML_CHECK(o.lr > 0, "train: --lr ", o.lr, " must be > 0");
  DML_CHECK(o.limit >= o.batch_size, "train: --limit ", o.limit, " must be at least --batch-size ",
            o.batch_size, " to make one batch");
  DML_CHECK(o.log_every >= 1, "train: --log-every ", o.log_every, " must be >= 1");
  DML_CHECK(o.threads >= 0, "train: --threads ", o.threads, " must be >= 0 (0: default)");
}

// Images and labels at the given example indices.
std::pair<Tensor, Tensor> gather_batch(const data::ImageDataset& d, const int64_t* idx, int64_t n) {
  Tensor index = from_vector(std::vector<int64_t>(idx, idx + n), {n});
  return {index_select(d.images, 0, index), index_select(d.labels, 0, index)};
}

// One pass over the shuffled training set. The last partial batch is dropped
// so every step sees the same batch size. Returns the steps taken so far.
int64_t train_epoch(TinyCnn& model, Optimizer& opt, const data::ImageDataset& train,
                    const TrainOptions& o, Generator& gen, int64_t step) {
  const int64_t n = train.labels.numel();
  std::vector<int64_t> order = data::random_permutation(n, gen);
  double loss_sum = 0;
  int64_t loss_count = 0;
  for (int64_t begin = 0; begin + o.batch_size <= n; begin += o.batch_size) {
    auto [x, y] = gather_batch(train, order.data() + begin, o.batch_size);
    Tensor loss = cross_entropy(model.forward(x, /*training=*/true), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    ++step;
    loss_sum += loss.item();
    ++loss_count;
    if (step % o.log_every == 0) {
      std::printf("step %-5lld loss %.4f\n", static_cast<long long>(step), loss_sum / loss_count);
      std::fflush(stdout);
      loss_sum = 0;
      loss_count = 0;
    }
  }
  return step;
}

// Top-1 accuracy, batch norm in eval mode, no autograd history.
double accuracy(const TinyCnn& model, const data::ImageDataset& test) {
  NoGradGuard no_grad;
  const int64_t n = test.labels.numel(), batch = 500;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < n; begin += batch) {
    int64_t end = std::min(n, begin + batch);
    Tensor pred = argmax(model.forward(test.images.slice(begin, end), /*training=*/false), 1);
    Tensor hit = eq(pred, test.labels.slice(begin, end));
    for (uint8_t h : hit.to_vector<uint8_t>()) correct += h;
  }
  return double(correct) / double(n);
}

}  // namespace

void run_train(const TrainOptions& o) {
  check_options(o);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const auto start = std::chrono::steady_clock::now();

  data::ImageDataset train =
      data::load_fashion_mnist(o.data, data::Split::train, {.limit = o.limit});
  data::ImageDataset test =
      data::load_fashion_mnist(o.data, data::Split::test, {.limit = o.eval_count});
  std::printf("Fashion-MNIST: %lld training images, %lld test images from %s\n",
              static_cast<long long>(train.labels.numel()),
              static_cast<long long>(test.labels.numel()), o.data.c_str());

  Generator gen(o.seed);
  TinyCnn model(/*in_channels=*/1, data::kFashionMnistClasses, gen);
  Adam opt({ParamGroup{.name = "model", .params = model.parameters(), .lr = o.lr}});

  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    step = train_epoch(model, opt, train, o, gen, step);
    std::printf("epoch %lld done (%lld steps)\n", static_cast<long long>(epoch),
                static_cast<long long>(step));
  }

  double acc = accuracy(model, test);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("test accuracy %.4f on %lld images (%.1f s)\n", acc,
              static_cast<long long>(test.labels.numel()), seconds);
}

}  // namespace dml::tools
