#include "tests/support/op_cases.h"

namespace dml::test {

namespace {
using K = InputKind;
using In = std::vector<Tensor>;
InputSpec N(Shape s) {
  return {std::move(s), K::normal};
}
InputSpec P(Shape s) {
  return {std::move(s), K::positive};
}
InputSpec Idx(Shape s, int64_t bound) {
  return {std::move(s), K::index, bound};
}
InputSpec Mask(Shape s) {
  return {std::move(s), K::mask};
}
InputSpec CN(Shape s) {
  return {std::move(s), K::constant_normal};
}
InputSpec CP(Shape s) {
  return {std::move(s), K::constant_positive};
}

std::vector<OpCase> build() {
  std::vector<OpCase> c;
  auto def = [&](std::string name, std::vector<InputSpec> in, std::function<Tensor(const In&)> fn) {
    c.push_back({std::move(name), std::move(in), std::move(fn)});
  };
  // Elementwise binary, with broadcasting and size-1 dims.
  def("add", {N({3, 4}), N({3, 4})}, [](const In& x) { return add(x[0], x[1]); });
  def("add_broadcast_row", {N({3, 4}), N({4})}, [](const In& x) { return x[0] + x[1]; });
  def("add_broadcast_both", {N({2, 1, 3}), N({4, 1})}, [](const In& x) { return x[0] + x[1]; });
  def("add_size1", {N({1, 1}), N({3, 1})}, [](const In& x) { return x[0] + x[1]; });
  def("sub_broadcast", {N({3, 4}), N({3, 1})}, [](const In& x) { return x[0] - x[1]; });
  def("mul", {N({2, 3}), N({2, 3})}, [](const In& x) { return x[0] * x[1]; });
  def("mul_scalar_tensor", {N({2, 3}), N({})}, [](const In& x) { return x[0] * x[1]; });
  def("div", {N({3, 4}), P({3, 4})}, [](const In& x) { return x[0] / x[1]; });
  def("div_broadcast", {N({2, 3}), P({3})}, [](const In& x) { return x[0] / x[1]; });
  def("pow", {P({3, 4}), N({3, 4})}, [](const In& x) { return pow(x[0], x[1]); });
  def("maximum", {N({3, 4}), N({4})}, [](const In& x) { return maximum(x[0], x[1]); });
  def("minimum", {N({3, 4}), N({3, 4})}, [](const In& x) { return minimum(x[0], x[1]); });
  def("add_scalar", {N({5})}, [](const In& x) { return x[0] + 2.5; });
  def("rsub_scalar", {N({5})}, [](const In& x) { return 1.0 - x[0]; });
  def("mul_scalar", {N({5})}, [](const In& x) { return x[0] * -3.0; });
  def("pow_scalar", {P({5})}, [](const In& x) { return pow(x[0], 2.5); });
  // Elementwise unary.
  def("neg", {N({4, 3})}, [](const In& x) { return -x[0]; });
  def("exp", {N({4, 3})}, [](const In& x) { return exp(x[0]); });
  def("log", {P({4, 3})}, [](const In& x) { return log(x[0]); });
  def("sqrt", {P({4, 3})}, [](const In& x) { return sqrt(x[0]); });
  def("rsqrt", {P({4, 3})}, [](const In& x) { return rsqrt(x[0]); });
  def("abs", {N({4, 3})}, [](const In& x) { return abs(x[0]); });
  def("relu", {N({4, 3})}, [](const In& x) { return relu(x[0]); });
  def("sigmoid", {N({4, 3})}, [](const In& x) { return sigmoid(x[0] * 4.0); });
  def("tanh", {N({4, 3})}, [](const In& x) { return tanh(x[0]); });
  def("softplus", {N({4, 3})}, [](const In& x) { return softplus(x[0]); });
  def("softplus_beta_threshold", {N({4, 3})},
      [](const In& x) { return softplus(x[0] * 3.0, 2.0, 3.0); });
  def("clamp", {N({4, 3})}, [](const In& x) { return clamp(x[0], -0.5, 0.7); });
  def("clamp_min", {N({4, 3})}, [](const In& x) { return clamp(x[0], 0.1, std::nullopt); });
  def("safe_sqrt", {P({4, 3})}, [](const In& x) { return safe_sqrt(x[0]); });
  def("where", {Mask({3, 4}), N({3, 4}), N({4})},
      [](const In& x) { return where(x[0], x[1], x[2]); });
  // Reductions.
  def("sum_all", {N({3, 4})}, [](const In& x) { return sum(x[0]); });
  def("sum_dim_keepdim", {N({3, 4, 2})}, [](const In& x) { return sum(x[0], {1}, true); });
  def("sum_dims", {N({3, 4, 2})}, [](const In& x) { return sum(x[0], {0, 2}); });
  def("sum_empty_batch", {N({0, 3})}, [](const In& x) { return sum(x[0], {0}); });
  def("mean_dim", {N({3, 4})}, [](const In& x) { return mean(x[0], {1}); });
  def("mean_all", {N({2, 3, 2})}, [](const In& x) { return mean(x[0]); });
  def("amax_dim", {N({3, 5})}, [](const In& x) { return amax(x[0], {1}); });
  def("amin_dims_keepdim", {N({3, 2, 4})}, [](const In& x) { return amin(x[0], {0, 2}, true); });
  def("logsumexp", {N({3, 5})}, [](const In& x) { return logsumexp(x[0] * 5.0, {1}); });
  def("var_dim", {N({3, 5})}, [](const In& x) { return var(x[0], {1}); });
  def("var_all_biased", {N({4, 3})}, [](const In& x) { return var(x[0], {}, false, 0); });
  // Shape.
  def("reshape", {N({2, 6})}, [](const In& x) { return x[0].reshape({3, -1}) * 2.0; });
  def("slice", {N({5, 2})}, [](const In& x) { return x[0].slice(1, 4) * 2.0; });
  def("transpose", {N({2, 3, 4})}, [](const In& x) { return transpose(x[0], 0, 2); });
  def("permute", {N({2, 3, 4})}, [](const In& x) { return permute(x[0], {1, 2, 0}); });
  def("expand", {N({3, 1})}, [](const In& x) { return expand(x[0], {2, 3, 4}); });
  def("concat", {N({2, 3}), N({2, 1})}, [](const In& x) { return concat({x[0], x[1]}, 1); });
  def("stack", {N({2, 3}), N({2, 3})}, [](const In& x) { return stack({x[0], x[1]}, 1); });
  def("narrow", {N({3, 5})}, [](const In& x) { return narrow(x[0], 1, 1, 3); });
  // Indexing.
  def("index_select", {N({4, 3}), Idx({5}, 4)},
      [](const In& x) { return index_select(x[0], 0, x[1]); });
  def("index_select_dim1", {N({2, 4, 3}), Idx({3}, 4)},
      [](const In& x) { return index_select(x[0], 1, x[1]); });
  def("gather", {N({3, 4}), Idx({3, 2}, 4)}, [](const In& x) { return gather(x[0], 1, x[1]); });
  def("scatter_add", {N({3, 4}), Idx({3, 5}, 4), N({3, 5})},
      [](const In& x) { return scatter_add(x[0], 1, x[1], x[2]); });
  def("masked_fill", {N({3, 4}), Mask({3, 4})},
      [](const In& x) { return masked_fill(x[0], x[1], -1.5); });
  // Linear algebra.
  def("matmul", {N({3, 4}), N({4, 2})}, [](const In& x) { return matmul(x[0], x[1]); });
  def("matmul_batched", {N({2, 3, 4}), N({2, 4, 5})},
      [](const In& x) { return matmul(x[0], x[1]); });
  def("matmul_3d_2d", {N({2, 3, 4}), N({4, 5})}, [](const In& x) { return matmul(x[0], x[1]); });
  def("matmul_2d_3d", {N({3, 4}), N({2, 4, 5})}, [](const In& x) { return matmul(x[0], x[1]); });
  def("matmul_empty", {N({0, 3}), N({3, 2})}, [](const In& x) { return matmul(x[0], x[1]); });
  def("linear", {N({4, 3}), N({5, 3}), N({5})},
      [](const In& x) { return linear(x[0], x[1], x[2]); });
  def("linear_3d_nobias", {N({2, 3, 4}), N({5, 4})},
      [](const In& x) { return linear(x[0], x[1]); });
  def("linear_empty_batch", {N({0, 3}), N({2, 3}), N({2})},
      [](const In& x) { return linear(x[0], x[1], x[2]); });
  // Softmax family.
  def("softmax", {N({3, 5})}, [](const In& x) { return softmax(x[0], 1); });
  def("softmax_dim0_3d", {N({4, 2, 3})}, [](const In& x) { return softmax(x[0], 0); });
  def("log_softmax", {N({3, 5})}, [](const In& x) { return log_softmax(x[0], -1); });
  def("cross_entropy", {N({4, 5}), Idx({4}, 5)},
      [](const In& x) { return cross_entropy(x[0], x[1]); });
  def("cross_entropy_smoothing", {N({4, 5}), Idx({4}, 5)},
      [](const In& x) { return cross_entropy(x[0], x[1], 0.1); });
  // Embedding geometry.
  def("l2_normalize", {N({4, 3})}, [](const In& x) { return l2_normalize(x[0], 1); });
  def("pairwise_sq_euclidean", {N({4, 3}), N({5, 3})},
      [](const In& x) { return pairwise_distance(x[0], x[1], Distance::squared_euclidean); });
  def("pairwise_euclidean", {N({4, 3}), N({5, 3})},
      [](const In& x) { return pairwise_distance(x[0], x[1], Distance::euclidean); });
  def("pairwise_cosine", {N({4, 3}), N({5, 3})},
      [](const In& x) { return pairwise_distance(x[0], x[1], Distance::cosine); });
  // Convolution.
  def("conv2d", {N({2, 3, 5, 5}), N({4, 3, 3, 3}), N({4})},
      [](const In& x) { return conv2d(x[0], x[1], x[2], Conv2dOptions::square(1, 1)); });
  def("conv2d_stride2_nobias", {N({2, 2, 7, 6}), N({3, 2, 3, 3})},
      [](const In& x) { return conv2d(x[0], x[1], {}, Conv2dOptions::square(2, 1)); });
  def("conv2d_dilation", {N({1, 2, 7, 7}), N({2, 2, 3, 3}), N({2})},
      [](const In& x) { return conv2d(x[0], x[1], x[2], Conv2dOptions::square(1, 2, 2)); });
  def("conv2d_groups", {N({2, 4, 5, 5}), N({6, 2, 3, 3}), N({6})},
      [](const In& x) { return conv2d(x[0], x[1], x[2], Conv2dOptions::square(1, 1, 1, 2)); });
  def("conv2d_empty_batch", {N({0, 3, 5, 5}), N({4, 3, 3, 3}), N({4})},
      [](const In& x) { return conv2d(x[0], x[1], x[2], Conv2dOptions::square(1, 1)); });
  def("conv2d_pointwise", {N({2, 3, 4, 4}), N({5, 3, 1, 1})},
      [](const In& x) { return conv2d(x[0], x[1]); });
  def("conv2d_rect", {N({1, 2, 6, 8}), N({3, 2, 2, 3}), N({3})}, [](const In& x) {
    return conv2d(x[0], x[1], x[2], Conv2dOptions{1, 2, 1, 0, 1, 1, 1});
  });
  // Batch norm: training uses batch statistics (running stats only updated).
  def("batch_norm_train", {N({3, 2, 3, 3}), N({2}), N({2}), CN({2}), CP({2})},
      [](const In& x) { return batch_norm2d(x[0], x[1], x[2], x[3].clone(), x[4].clone(), true); });
  def("batch_norm_eval", {N({3, 2, 3, 3}), N({2}), N({2}), CN({2}), CP({2})},
      [](const In& x) { return batch_norm2d(x[0], x[1], x[2], x[3], x[4], false); });
  def("batch_norm_train_noaffine", {N({4, 3, 2, 2}), CN({3}), CP({3})},
      [](const In& x) { return batch_norm2d(x[0], {}, {}, x[1].clone(), x[2].clone(), true); });
  // Batch norm fused with the ReLU after it, and with a ResNet block's
  // residual add before that.
  def("batch_norm_relu_train", {N({3, 2, 3, 3}), N({2}), N({2}), CN({2}), CP({2})},
      [](const In& x) {
        return batch_norm2d_relu(x[0], x[1], x[2], x[3].clone(), x[4].clone(), true);
      });
  def("batch_norm_relu_eval", {N({3, 2, 3, 3}), N({2}), N({2}), CN({2}), CP({2})},
      [](const In& x) { return batch_norm2d_relu(x[0], x[1], x[2], x[3], x[4], false); });
  def("batch_norm_add_relu_train",
      {N({3, 2, 3, 3}), N({2}), N({2}), CN({2}), CP({2}), N({3, 2, 3, 3})}, [](const In& x) {
        return batch_norm2d_relu(x[0], x[1], x[2], x[3].clone(), x[4].clone(), true, 0.1, 1e-5,
                                 x[5]);
      });
  def("batch_norm_add_relu_eval",
      {N({3, 2, 3, 3}), N({2}), N({2}), CN({2}), CP({2}), N({3, 2, 3, 3})}, [](const In& x) {
        return batch_norm2d_relu(x[0], x[1], x[2], x[3], x[4], false, 0.1, 1e-5, x[5]);
      });
  def("batch_norm_add_relu_noaffine", {N({4, 3, 2, 2}), CN({3}), CP({3}), N({4, 3, 2, 2})},
      [](const In& x) {
        return batch_norm2d_relu(x[0], {}, {}, x[1].clone(), x[2].clone(), true, 0.1, 1e-5, x[3]);
      });
  def("layer_norm", {N({3, 5}), N({5}), N({5})},
      [](const In& x) { return layer_norm(x[0], x[1], x[2]); });
  def("layer_norm_3d_plain", {N({2, 3, 4})}, [](const In& x) { return layer_norm(x[0], {}, {}); });
  // Pooling.
  def("max_pool2d", {N({2, 2, 7, 7})}, [](const In& x) { return max_pool2d(x[0], 3, 2, 1); });
  def("avg_pool2d", {N({2, 2, 6, 6})}, [](const In& x) { return avg_pool2d(x[0], 2, 2); });
  def("avg_pool2d_pad", {N({1, 2, 7, 7})}, [](const In& x) { return avg_pool2d(x[0], 3, 2, 1); });
  def("adaptive_avg_pool2d", {N({2, 2, 5, 7})},
      [](const In& x) { return adaptive_avg_pool2d(x[0], 3, 2); });
  def("adaptive_avg_pool2d_global", {N({2, 3, 4, 4})},
      [](const In& x) { return adaptive_avg_pool2d(x[0], 1, 1); });
  def("adaptive_max_pool2d", {N({2, 2, 5, 7})},
      [](const In& x) { return adaptive_max_pool2d(x[0], 3, 2); });
  // Conversions and adversarial training.
  def("clone", {N({3, 2})}, [](const In& x) { return x[0].clone() * 3.0; });
  def("to_f32_and_back", {N({3, 2})},
      [](const In& x) { return x[0].to(DType::f32).to(x[0].dtype()) * 2.0; });
  c.back().fd_eps = 0.1;  // the f32 round trip is linear; a small step drowns in rounding
  def("gradient_reversal", {N({3, 2})},
      [](const In& x) { return gradient_reversal(x[0] * x[0], 0.5); });
  c.back().grad_scale = -0.5;
  return c;
}
}  // namespace

static std::vector<OpCase> build_value_cases() {
  std::vector<OpCase> c;
  auto def = [&](std::string name, std::vector<InputSpec> in, std::function<Tensor(const In&)> fn) {
    c.push_back({std::move(name), std::move(in), std::move(fn)});
  };
  auto as_f64 = [](const Tensor& t) { return t.to(DType::f64); };
  def("eq_labels", {Idx({6}, 3), Idx({6}, 3)}, [=](const In& x) { return as_f64(eq(x[0], x[1])); });
  def("ne_broadcast", {Idx({3, 1}, 3), Idx({4}, 3)},
      [=](const In& x) { return as_f64(ne(x[0], x[1])); });
  def("lt", {N({3, 4}), N({3, 4})}, [=](const In& x) { return as_f64(lt(x[0], x[1])); });
  def("le_broadcast", {N({3, 4}), N({4})}, [=](const In& x) { return as_f64(le(x[0], x[1])); });
  def("gt", {N({3, 4}), N({3, 4})}, [=](const In& x) { return as_f64(gt(x[0], x[1])); });
  def("ge", {N({3, 4}), N({3, 1})}, [=](const In& x) { return as_f64(ge(x[0], x[1])); });
  def("argmax", {N({4, 5})}, [=](const In& x) { return as_f64(argmax(x[0], 1)); });
  def("argmin_keepdim", {N({4, 5, 2})}, [=](const In& x) { return as_f64(argmin(x[0], 1, true)); });
  def("topk_values", {N({4, 7})}, [](const In& x) { return topk(x[0], 3, 1).first; });
  def("topk_indices", {N({4, 7})}, [=](const In& x) { return as_f64(topk(x[0], 3, 1).second); });
  def("topk_smallest_dim0", {N({6, 3})}, [](const In& x) { return topk(x[0], 2, 0, false).first; });
  def("one_hot", {Idx({5}, 4)}, [](const In& x) { return one_hot(x[0], 4, DType::f64); });
  return c;
}

const std::vector<OpCase>& value_cases() {
  static const std::vector<OpCase> cases = build_value_cases();
  return cases;
}

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = build();
  return cases;
}

std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> out;
  for (const InputSpec& s : c.inputs) {
    switch (s.kind) {
      case K::normal:
        out.push_back(randn(s.shape, dtype, &gen).requires_grad_());
        break;
      case K::positive:
        out.push_back((rand(s.shape, dtype, &gen) * 1.5 + 0.5).detach().requires_grad_());
        break;
      case K::constant_normal:
        out.push_back(randn(s.shape, dtype, &gen));
        break;
      case K::constant_positive:
        out.push_back((rand(s.shape, dtype, &gen) * 1.5 + 0.5));
        break;
      case K::index:
        out.push_back(randint(0, s.bound, s.shape, DType::i64, &gen));
        break;
      case K::mask:
        out.push_back(randint(0, 2, s.shape, DType::i64, &gen).to(DType::u8));
        break;
    }
  }
  return out;
}

}  // namespace dml::test
