// batch_norm2d_relu, the batch norm fused with a ResNet block's residual add
// and ReLU, against the composite it replaces (batch_norm2d -> add -> relu)
// on the CPU: outputs, running statistics and every gradient equal bit for
// bit, since each element is rounded by the same operations in the same
// order (kernels/batch_norm_math.h) and the per-channel sums read the same
// values in the same order. Then central differences in f64, the argument
// checks, and whole ResNets (basic and bottleneck blocks; training, eval and
// frozen batch norm) against the same networks run op by op. The op table
// (tests/support/op_cases.cpp) covers it too: gradcheck, PyTorch fixtures, CUDA.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/batch_norm_math.h"
#include "layers/resnet.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

// Exact equality, element by element (NaN never equals: none is expected).
void expect_identical(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.defined(), want.defined()) << what;
  if (!want.defined()) return;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  const std::vector<double> g = got.detach().to(DType::f64).to_vector<double>();
  const std::vector<double> w = want.detach().to(DType::f64).to_vector<double>();
  int64_t differ = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (g[i] != w[i] && differ++ < 5)
      ADD_FAILURE() << what << " element " << i << ": " << g[i] << " vs " << w[i];
  EXPECT_EQ(differ, 0) << what << ": elements that differ";
}

struct Operands {
  Tensor x, weight, bias, running_mean, running_var, residual, upstream;
};

// Inputs of a ResNet activation's scale; with exact_zeros, some elements are
// placed where the ReLU's input in eval mode is exactly 0, where the
// derivative's convention matters.
Operands make_operands(Shape shape, DType dtype, bool affine, bool with_residual, bool exact_zeros,
                       uint64_t seed) {
  Generator gen(seed);
  const int64_t c = shape[1];
  Operands o;
  o.x = randn(shape, dtype, &gen) * 1.5 + 0.3;
  if (affine) {
    o.weight = randn({c}, dtype, &gen);
    o.bias = randn({c}, dtype, &gen);
  }
  o.running_mean = randn({c}, dtype, &gen) * 0.2;
  o.running_var = rand({c}, dtype, &gen) + 0.5;
  if (with_residual) o.residual = randn(shape, dtype, &gen);
  o.upstream = randn(shape, dtype, &gen);
  if (exact_zeros && o.x.numel() > 0) {
    // Channel 0's running mean is 0 and every 7th element of its first plane
    // is 0, so the normalised value there is exactly the bias (x * scale is
    // a zero, shift = bias - 0 * scale); the residual cancels it, or, without
    // one, the bias is 0.
    NoGradGuard no_grad;
    const int64_t hw = shape[2] * shape[3];
    std::vector<double> mv = o.running_mean.to(DType::f64).to_vector<double>();
    mv[0] = 0;
    o.running_mean = from_vector(mv, {c}).to(dtype);
    if (affine && !with_residual) {
      std::vector<double> bv = o.bias.to(DType::f64).to_vector<double>();
      bv[0] = 0;
      o.bias = from_vector(bv, {c}).to(dtype);
    }
    const double bias0 = affine ? o.bias.to(DType::f64).to_vector<double>()[0] : 0.0;
    std::vector<double> xv = o.x.to(DType::f64).to_vector<double>();
    std::vector<double> rv =
        with_residual ? o.residual.to(DType::f64).to_vector<double>() : std::vector<double>();
    for (int64_t j = 0; j < hw; j += 7) {
      xv[size_t(j)] = 0;
      if (with_residual) rv[size_t(j)] = -bias0;
    }
    o.x = from_vector(xv, shape).to(dtype);
    if (with_residual) o.residual = from_vector(rv, shape).to(dtype);
  }
  for (Tensor* t : {&o.x, &o.weight, &o.bias, &o.residual})
    if (t->defined()) *t = t->detach().requires_grad_();
  return o;
}

struct Result {
  Tensor y, running_mean, running_var;
  std::vector<Tensor> grads;  // x, weight, bias, residual
};

Result run(const Operands& o, bool training, bool fused) {
  for (const Tensor* t : {&o.x, &o.weight, &o.bias, &o.residual})
    if (t->defined()) t->zero_grad();
  Result r{Tensor(), o.running_mean.clone(), o.running_var.clone(), {}};
  if (fused) {
    r.y = batch_norm2d_relu(o.x, o.weight, o.bias, r.running_mean, r.running_var, training, 0.1,
                            1e-5, o.residual);
  } else {
    Tensor h =
        batch_norm2d(o.x, o.weight, o.bias, r.running_mean, r.running_var, training, 0.1, 1e-5);
    r.y = relu(o.residual.defined() ? add(h, o.residual) : h);
  }
  if (r.y.numel() > 0) r.y.backward(o.upstream);
  for (const Tensor* t : {&o.x, &o.weight, &o.bias, &o.residual})
    r.grads.push_back(t->defined() && t->grad().defined() ? t->grad().clone() : Tensor());
  return r;
}

void expect_fused_equals_composite(Shape shape, DType dtype, bool affine, bool with_residual,
                                   bool training, bool exact_zeros = false) {
  SCOPED_TRACE(detail::concat(shape_str(shape), " ", dtype_name(dtype),
                              affine ? " affine" : " no affine",
                              with_residual ? " residual" : " no residual",
                              training ? " training" : " eval", exact_zeros ? " exact zeros" : ""));
  const Operands o = make_operands(shape, dtype, affine, with_residual, exact_zeros, 17);
  const Result fused = run(o, training, true), composite = run(o, training, false);
  expect_identical(fused.y, composite.y, "output");
  expect_identical(fused.running_mean, composite.running_mean, "running_mean");
  expect_identical(fused.running_var, composite.running_var, "running_var");
  const char* names[] = {"x grad", "weight grad", "bias grad", "residual grad"};
  for (size_t i = 0; i < 4; ++i) expect_identical(fused.grads[i], composite.grads[i], names[i]);
}

TEST(BatchNormRelu, EqualsTheCompositeBitForBit) {
  for (DType dtype : {DType::f32, DType::f64})
    for (bool training : {true, false})
      for (bool with_residual : {true, false})
        for (bool affine : {true, false}) {
          expect_fused_equals_composite({3, 5, 7, 9}, dtype, affine, with_residual, training);
          expect_fused_equals_composite({1, 3, 2, 1}, dtype, affine, with_residual, training);
        }
}

// A ResNet-sized activation: the kernels' parallel paths (more than 16
// planes, more than one thread's share), and a batch of one image.
TEST(BatchNormRelu, EqualsTheCompositeOnLargeActivations) {
  for (bool training : {true, false}) {
    expect_fused_equals_composite({8, 64, 28, 28}, DType::f32, true, true, training);
    expect_fused_equals_composite({8, 64, 28, 28}, DType::f32, true, false, training);
    expect_fused_equals_composite({1, 256, 7, 7}, DType::f32, true, true, training);
  }
}

// Where the ReLU's input is exactly 0 its derivative is 0, as relu's (the
// mask is y > 0): no gradient passes there, to the residual or to x.
TEST(BatchNormRelu, DerivativeAtZeroIsZeroAsRelus) {
  for (DType dtype : {DType::f32, DType::f64})
    for (bool with_residual : {true, false}) {
      expect_fused_equals_composite({2, 3, 5, 6}, dtype, true, with_residual, false, true);
      const Operands o = make_operands({2, 3, 5, 6}, dtype, true, with_residual, true, 17);
      const Result r = run(o, false, true);
      const std::vector<double> y = r.y.detach().to(DType::f64).to_vector<double>();
      for (int64_t j = 0; j < 30; j += 7) ASSERT_EQ(y[size_t(j)], 0.0) << "element " << j;
      if (!with_residual) continue;
      const std::vector<double> gr = r.grads[3].to(DType::f64).to_vector<double>();
      for (int64_t j = 0; j < 30; j += 7) EXPECT_EQ(gr[size_t(j)], 0.0) << "element " << j;
    }
}

// The backward's form of the ReLU rule (a bit mask for f32) equals
// relu_grad's select on every kind of value, signed zeros, infinities and
// NaN included.
template <class T>
void expect_mask_equals_select() {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T values[] = {T(0),
                      -T(0),
                      T(1.5),
                      T(-2),
                      std::numeric_limits<T>::denorm_min(),
                      -std::numeric_limits<T>::denorm_min(),
                      inf,
                      -inf,
                      nan};
  for (T g : values)
    for (T y : values) {
      const T a = kernels::relu_grad_vectorisable(g, y), b = kernels::relu_grad(g, y);
      EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "g " << g << " y " << y;
    }
}

TEST(BatchNormRelu, BitMaskEqualsReluGradSelect) {
  expect_mask_equals_select<float>();
  expect_mask_equals_select<double>();
}

TEST(BatchNormRelu, EmptyBatchInEval) {
  expect_fused_equals_composite({0, 3, 4, 4}, DType::f32, true, true, false);
  expect_fused_equals_composite({0, 3, 4, 4}, DType::f64, false, false, false);
}

// Only some operands take a gradient: the residual alone, x alone.
TEST(BatchNormRelu, GradientOfSomeOperandsOnly) {
  for (bool training : {true, false}) {
    Operands o = make_operands({2, 3, 4, 5}, DType::f64, true, true, false, 5);
    o.x = o.x.detach();
    o.weight = o.weight.detach();
    o.bias = o.bias.detach();
    const Result a = run(o, training, true), b = run(o, training, false);
    expect_identical(a.grads[3], b.grads[3], "residual grad alone");
    EXPECT_FALSE(a.grads[0].defined());
    o = make_operands({2, 3, 4, 5}, DType::f64, true, true, false, 6);
    o.residual = o.residual.detach();
    const Result c = run(o, training, true), d = run(o, training, false);
    expect_identical(c.grads[0], d.grads[0], "x grad without the residual's");
    expect_identical(c.grads[1], d.grads[1], "weight grad without the residual's");
    EXPECT_FALSE(c.grads[3].defined());
  }
}

// Central differences in f64 of sum(y * w) for x, weight, bias and residual.
TEST(BatchNormRelu, GradientsMatchFiniteDifferences) {
  for (bool training : {true, false})
    for (bool with_residual : {true, false}) {
      SCOPED_TRACE(detail::concat(training ? "training" : "eval",
                                  with_residual ? " residual" : " no residual"));
      const Operands o = make_operands({3, 4, 3, 2}, DType::f64, true, with_residual, false, 23);
      std::vector<Tensor> leaves{o.x, o.weight, o.bias};
      if (with_residual) leaves.push_back(o.residual);
      auto f = [&] {
        // The running statistics are copies: each evaluation starts alike.
        Tensor y = batch_norm2d_relu(o.x, o.weight, o.bias, o.running_mean.clone(),
                                     o.running_var.clone(), training, 0.1, 1e-5, o.residual);
        return sum(mul(y, o.upstream));
      };
      test::expect_gradients_match(f, leaves, "batch_norm2d_relu", {1e-6, 1e-7, 1e-6});
    }
}

TEST(BatchNormRelu, ResidualMustMatchTheInput) {
  const Tensor x = randn({2, 3, 4, 4}), w = ones({3}), b = zeros({3}), rm = zeros({3}),
               rv = ones({3});
  test::expect_error(
      [&] {
        batch_norm2d_relu(x, w, b, rm, rv, true, 0.1, 1e-5, randn({2, 3, 4}));
      },
      {"batch_norm2d_relu", "residual", "[2, 3, 4]", "[2, 3, 4, 4]"});
  test::expect_error(
      [&] {
        batch_norm2d_relu(x, w, b, rm, rv, true, 0.1, 1e-5, randn({2, 3, 4, 4}, DType::f64));
      },
      {"batch_norm2d_relu"});
  test::expect_error([&] { batch_norm2d_relu(x, w, b, zeros({2}), rv, true); },
                     {"batch_norm2d_relu", "[2]"});
}

// ------------------------------------------------ whole networks, op by op

using ModulePtr = std::shared_ptr<nn::Module>;

std::map<std::string, ModulePtr> children_of(const nn::Module& m) {
  std::map<std::string, ModulePtr> out;
  for (const auto& [name, child] : m.children()) out[name] = child;
  return out;
}

// A block as it ran before the fusion: batch_norm2d, relu and add, each a
// separate op (BatchNorm2d::forward is the unfused batch norm).
Tensor composite_block(const nn::Module& block, const Tensor& x) {
  auto m = children_of(block);
  const bool bottleneck = m.count("conv3") > 0;
  Tensor out = relu(m["bn1"]->forward(m["conv1"]->forward(x)));
  if (bottleneck) {
    out = relu(m["bn2"]->forward(m["conv2"]->forward(out)));
    out = m["bn3"]->forward(m["conv3"]->forward(out));
  } else {
    out = m["bn2"]->forward(m["conv2"]->forward(out));
  }
  return relu(add(out, m.count("downsample") ? m["downsample"]->forward(x) : x));
}

Tensor composite_resnet(const nn::ResNet& net, const Tensor& x) {
  auto m = children_of(net);
  Tensor h = relu(m["bn1"]->forward(m["conv1"]->forward(x)));
  if (!net.config().small_stem) h = max_pool2d(h, 3, 2, 1);
  for (size_t s = 1; m.count("layer" + std::to_string(s)); ++s)
    for (const auto& [name, block] : m["layer" + std::to_string(s)]->children())
      h = composite_block(*block, h);
  h = adaptive_avg_pool2d(h, 1, 1).flatten(1);
  return m.count("fc") ? m["fc"]->forward(h) : h;
}

void expect_networks_identical(nn::BlockKind kind, bool small_stem) {
  nn::ResNetConfig config;
  config.block = kind;
  config.depths = {2, 2};
  config.widths = {4, 8};
  config.small_stem = small_stem;
  config.num_classes = 5;
  auto fused = nn::make_resnet(config), composite = nn::make_resnet(config);
  composite->load_state_dict(fused->state_dict());
  Generator gen(11);
  const Shape input = small_stem ? Shape{3, 3, 8, 8} : Shape{3, 3, 20, 18};
  // mode 0, 1: training (two steps, so the running statistics move twice);
  // 2: eval; 3: training with frozen batch norm.
  for (int mode = 0; mode < 4; ++mode) {
    SCOPED_TRACE(detail::concat(kind == nn::BlockKind::basic ? "basic" : "bottleneck",
                                small_stem ? " small stem" : "", " mode ", mode));
    for (auto* net : {fused.get(), composite.get()}) {
      net->train(mode != 2);
      net->set_batch_norm_frozen(mode == 3);
      for (const Tensor& p : net->parameters()) p.zero_grad();
    }
    const Tensor x = randn(input, DType::f32, &gen), w = randn({3, 5}, DType::f32, &gen);
    const Tensor y_fused = fused->forward(x), y_composite = composite_resnet(*composite, x);
    expect_identical(y_fused, y_composite, "logits");
    sum(mul(y_fused, w)).backward();
    sum(mul(y_composite, w)).backward();
    const NamedTensors a = fused->named_parameters(), b = composite->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      expect_identical(a[i].second.grad(), b[i].second.grad(), a[i].first + " grad");
    const NamedTensors sa = fused->state_dict(), sb = composite->state_dict();
    for (size_t i = 0; i < sa.size(); ++i)
      expect_identical(sa[i].second, sb[i].second, sa[i].first);
  }
}

TEST(BatchNormRelu, ResNetEqualsTheCompositeNetwork) {
  expect_networks_identical(nn::BlockKind::basic, false);
  expect_networks_identical(nn::BlockKind::bottleneck, false);
  expect_networks_identical(nn::BlockKind::basic, true);
}

}  // namespace
}  // namespace dml
