#include "fairness/logistic_regression.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "fairness/inputs.h"

namespace dml::fairness {

namespace {

Tensor standardize(const LogisticModel& model, const Tensor& x) {
  return mul(sub(x, model.mean), model.inv_std);
}

}  // namespace

LogisticModel fit_logistic_regression(const Tensor& features, const Tensor& labels,
                                      const LogisticOptions& options) {
  constexpr const char* kCaller = "fit_logistic_regression";
  const Tensor x = embedding_matrix(features, DType::f32, kCaller);
  const int64_t n = x.size(0), dim = x.size(1);
  const std::vector<int64_t> y = per_sample_ids(labels, n, "labels", kCaller);
  DML_CHECK(options.epochs >= 1 && options.learning_rate > 0 && options.weight_decay >= 0, kCaller,
            ": need epochs >= 1, learning_rate > 0 and weight_decay >= 0; got ", options.epochs,
            ", ", options.learning_rate, ", ", options.weight_decay);

  LogisticModel model;
  model.classes = y;
  std::sort(model.classes.begin(), model.classes.end());
  model.classes.erase(std::unique(model.classes.begin(), model.classes.end()), model.classes.end());
  DML_CHECK(model.classes.size() >= 2, kCaller, ": the labels have ", model.classes.size(),
            " distinct value(s); a classifier needs at least two");
  std::vector<int64_t> targets(size_t(n), 0);
  for (int64_t i = 0; i < n; ++i)
    targets[size_t(i)] =
        int64_t(std::lower_bound(model.classes.begin(), model.classes.end(), y[size_t(i)]) -
                model.classes.begin());
  const int64_t num_classes = int64_t(model.classes.size());

  Tensor standardized;
  {
    NoGradGuard no_grad;
    model.mean = mean(x, {0});
    const Tensor std_dev = sqrt(var(x, {0}, false, /*correction=*/0));
    // 1 / std where the feature varies, 1 where it is constant.
    const Tensor constant = le(std_dev, full({dim}, 1e-12));
    model.inv_std = where(constant, ones({dim}), div(ones({dim}), std_dev));
    standardized = standardize(model, x);
  }
  model.weight = zeros({num_classes, dim}).requires_grad_();
  model.bias = zeros({num_classes}).requires_grad_();
  const Tensor target = from_vector(targets, {n});
  Adam optimizer({ParamGroup{.name = "logistic",
                             .params = {model.weight, model.bias},
                             .lr = options.learning_rate,
                             .weight_decay = options.weight_decay}});
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    optimizer.zero_grad();
    cross_entropy(linear(standardized, model.weight, model.bias), target).backward();
    optimizer.step();
  }
  model.weight = model.weight.detach();
  model.bias = model.bias.detach();
  return model;
}

Tensor predict(const LogisticModel& model, const Tensor& features) {
  const Tensor x = embedding_matrix(features, DType::f32, "predict", /*min_rows=*/1);
  DML_CHECK(model.weight.defined() && x.size(1) == model.weight.size(1), "predict: features ",
            describe(x), " do not match the model's ",
            model.weight.defined() ? describe(model.weight) : "missing weights",
            "; fit the model on features of the same width");
  NoGradGuard no_grad;
  const std::vector<int64_t> best =
      argmax(linear(standardize(model, x), model.weight, model.bias), 1).to_vector<int64_t>();
  std::vector<int64_t> out;
  out.reserve(best.size());
  for (int64_t c : best) out.push_back(model.classes[size_t(c)]);
  return from_vector(out, {int64_t(out.size())});
}

}  // namespace dml::fairness
