// The elementwise family on CUDA against the CPU kernels: every op on fresh
// random inputs (broadcasts, size-1 dims, 0-d and empty tensors), forward
// and backward with a random upstream gradient, in f32 and f64;
// comparisons, where and casts bit for bit. Skips where no GPU is present.
//
// Nothing poisons the output buffers beforehand: every element of every
// output and gradient is compared with the CPU's, and an element a kernel
// forgot to write holds whatever the fresh device block held, which matches
// the CPU's value only by luck.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace dml {
namespace {

Device gpu() {
  return Device::cuda(0);
}

class CudaElementwise : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

// Relative bounds per dtype; 0 demands the same value from both backends.
struct Tol {
  double f32, f64;
};
// Selection, sign and comparison: nothing is rounded.
constexpr Tol kExact{0, 0};
// + - * / and sqrt round correctly on both backends; chains of them in the
// backward rules may still be fused or reordered by the compilers.
constexpr Tol kArith{1e-6, 1e-12};
// exp, log, log1p, tanh, pow: CUDA's and glibc's differ in the last ulps.
constexpr Tol kMath{1e-5, 1e-12};

bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

// Every element of `got` (on the GPU) against `want` (the CPU's), after
// widening both to f64 on the CPU: |got - want| <= tol * max(|want|, mean
// |want|). The floor keeps an element far below the tensor's typical size
// (a backward rule's 1 - y^2 cancels near |y| = 1 and magnifies the
// libraries' last-ulp differences) from demanding digits its inputs lack.
void expect_match(const Tensor& want, const Tensor& got, double tol, const std::string& what) {
  ASSERT_TRUE(want.defined()) << what << ": no CPU result";
  ASSERT_TRUE(got.defined()) << what << ": no CUDA result";
  ASSERT_TRUE(got.device() == gpu()) << what << ": result " << describe(got) << " left the GPU";
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  // Moved to the CPU before widening: the CUDA cast is under test too.
  std::vector<double> w = want.detach().to(DType::f64).to_vector<double>();
  std::vector<double> g = got.detach().to(Device::cpu()).to(DType::f64).to_vector<double>();
  double floor = 0;
  for (double v : w)
    if (std::isfinite(v)) floor += std::abs(v) / double(w.size());
  int64_t bad = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    bool ok = same_value(w[i], g[i]) ||
              (tol > 0 && std::abs(g[i] - w[i]) <= tol * std::max(std::abs(w[i]), floor));
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << what << ": element " << i << " is " << std::setprecision(17) << g[i]
                    << " on CUDA, " << w[i] << " on the CPU (relative bound " << tol << ")";
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << w.size() << " elements differ";
}

enum class Kind {
  normal,    // N(0, 1)
  positive,  // U(0.5, 2): log, sqrt, divisors, pow bases
  ties,      // small integers, so equal pairs are common (max/min, comparisons)
  mask,      // u8 0/1, no gradient
};
struct Input {
  Shape shape;
  Kind kind = Kind::normal;
};

Tensor make(const Input& in, DType t, Generator& gen) {
  switch (in.kind) {
    case Kind::normal:
      return randn(in.shape, t, &gen);
    case Kind::positive:
      return rand(in.shape, t, &gen) * 1.5 + 0.5;
    case Kind::ties:
      return randint(-2, 3, in.shape, t, &gen);
    case Kind::mask:
      return randint(0, 2, in.shape, DType::u8, &gen);
  }
  return {};
}

using In = std::vector<Tensor>;
struct Case {
  std::string name;
  std::vector<Input> inputs;
  std::function<Tensor(const In&)> fn;
  Tol tol;
};

Input N(Shape s) {
  return {std::move(s), Kind::normal};
}

std::vector<Case> binary_cases() {
  struct Op {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&)> fn;
    Kind a, b;
    Tol tol;
  };
  const std::vector<Op> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }, Kind::normal, Kind::normal,
       kArith},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }, Kind::normal, Kind::normal,
       kArith},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }, Kind::normal, Kind::normal,
       kArith},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, Kind::normal, Kind::positive,
       kArith},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, Kind::positive,
       Kind::normal, kMath},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, Kind::ties,
       Kind::ties, kExact},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, Kind::ties,
       Kind::ties, kExact},
  };
  // Same shape, a broadcast row, both sides broadcast, size-1 dims, a 0-d
  // operand, empty outputs, a 4-d broadcast and one spanning many blocks.
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}},    {{2, 1, 3}, {4, 1}},       {{1, 1}, {3, 1}},
      {{2, 3}, {}},     {{0, 3}, {3}},    {{5, 0}, {5, 1}},          {{}, {}},
      {{3, 1}, {1, 4}}, {{4}, {2, 3, 4}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{257, 129}, {257, 129}},
  };
  std::vector<Case> cases;
  for (const Op& op : ops)
    for (const auto& [sa, sb] : shapes)
      cases.push_back({std::string(op.name) + " " + shape_str(sa) + " " + shape_str(sb),
                       {{sa, op.a}, {sb, op.b}},
                       [fn = op.fn](const In& x) { return fn(x[0], x[1]); },
                       op.tol});
  return cases;
}

std::vector<Case> unary_cases() {
  struct Op {
    const char* name;
    std::function<Tensor(const Tensor&)> fn;
    Kind kind;
    Tol tol;
  };
  const std::vector<Op> ops = {
      {"neg", [](const Tensor& x) { return -x; }, Kind::normal, kExact},
      {"add_scalar", [](const Tensor& x) { return x + 2.5; }, Kind::normal, kArith},
      {"rsub_scalar", [](const Tensor& x) { return 1.0 - x; }, Kind::normal, kArith},
      {"mul_scalar", [](const Tensor& x) { return x * -3.0; }, Kind::normal, kArith},
      {"div_scalar", [](const Tensor& x) { return x / 4.0; }, Kind::normal, kArith},
      {"pow_scalar", [](const Tensor& x) { return pow(x, 2.5); }, Kind::positive, kMath},
      {"pow_scalar_of_negatives", [](const Tensor& x) { return pow(x, 3.0); }, Kind::normal, kMath},
      {"exp", [](const Tensor& x) { return exp(x); }, Kind::normal, kMath},
      {"log", [](const Tensor& x) { return log(x); }, Kind::positive, kMath},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, Kind::positive, kArith},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, Kind::positive, kArith},
      // The backward multiplies by sign(x), the sign kernel.
      {"abs", [](const Tensor& x) { return abs(x); }, Kind::normal, kExact},
      // The backward is the fused relu_backward kernel.
      {"relu", [](const Tensor& x) { return relu(x); }, Kind::normal, kExact},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x * 4.0); }, Kind::normal, kMath},
      {"tanh", [](const Tensor& x) { return tanh(x); }, Kind::normal, kMath},
      {"softplus", [](const Tensor& x) { return softplus(x); }, Kind::normal, kMath},
      // Both sides of the threshold.
      {"softplus_beta_threshold", [](const Tensor& x) { return softplus(x * 3.0, 2.0, 3.0); },
       Kind::normal, kMath},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }, Kind::normal, kExact},
      {"clamp_min", [](const Tensor& x) { return clamp(x, 0.1, std::nullopt); }, Kind::normal,
       kExact},
      {"clamp_max", [](const Tensor& x) { return clamp(x, std::nullopt, -0.2); }, Kind::normal,
       kExact},
      // Negative inputs: a zero value and a zero gradient.
      {"safe_sqrt", [](const Tensor& x) { return safe_sqrt(x); }, Kind::normal, kArith},
      // to(dtype) both ways on the GPU, and its backward.
      {"cast_round_trip",
       [](const Tensor& x) {
         DType other = x.dtype() == DType::f32 ? DType::f64 : DType::f32;
         Tensor y = x.to(other);
         return (y * y).to(x.dtype());
       },
       Kind::normal, kArith},
  };
  const std::vector<Shape> shapes = {{4, 3}, {}, {0, 5}, {257, 129}};
  std::vector<Case> cases;
  for (const Op& op : ops)
    for (const Shape& s : shapes)
      cases.push_back({std::string(op.name) + " " + shape_str(s),
                       {{s, op.kind}},
                       [fn = op.fn](const In& x) { return fn(x[0]); },
                       op.tol});
  return cases;
}

std::vector<Case> where_cases() {
  auto fn = [](const In& x) { return where(x[0], x[1], x[2]); };
  auto M = [](Shape s) { return Input{std::move(s), Kind::mask}; };
  return {
      {"where same shape", {M({3, 4}), N({3, 4}), N({3, 4})}, fn, kExact},
      {"where broadcast b", {M({3, 4}), N({3, 4}), N({4})}, fn, kExact},
      {"where broadcast cond", {M({4}), N({3, 4}), N({3, 4})}, fn, kExact},
      {"where 0-d cond", {M({}), N({2, 3}), N({2, 3})}, fn, kExact},
      {"where all broadcast", {M({2, 1, 3}), N({4, 1}), N({})}, fn, kExact},
      {"where empty", {M({0, 3}), N({3}), N({0, 3})}, fn, kExact},
      {"where large", {M({257, 129}), N({257, 129}), N({257, 129})}, fn, kExact},
  };
}

std::vector<Case> all_cases() {
  std::vector<Case> all = binary_cases();
  for (auto* more : {unary_cases, where_cases})
    for (Case& c : more()) all.push_back(std::move(c));
  return all;
}

// Runs a case on both backends from the same inputs and compares the outputs
// and, with `backward`, every input's gradient under one random upstream
// gradient. Returns the GPU backward's error when it throws one.
std::string check_case(const Case& c, DType t, bool backward) {
  SCOPED_TRACE(c.name + " " + dtype_name(t));
  Generator gen(std::hash<std::string>{}(c.name));
  In cpu_in, gpu_in;
  for (const Input& in : c.inputs) {
    Tensor x = make(in, t, gen);
    Tensor y = x.to(gpu());
    if (in.kind != Kind::mask) {
      x.requires_grad_();
      y.requires_grad_();
    }
    cpu_in.push_back(x);
    gpu_in.push_back(y);
  }
  const double tol = t == DType::f32 ? c.tol.f32 : c.tol.f64;
  Tensor want = c.fn(cpu_in), got = c.fn(gpu_in);
  expect_match(want, got, tol, c.name + " forward");
  if (!backward) return {};
  Tensor g = randn(want.shape(), t, &gen);
  want.backward(g);
  try {
    got.backward(g.to(gpu()));
  } catch (const Error& e) {
    return e.what();
  }
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i].kind != Kind::mask)
      expect_match(cpu_in[i].grad(), gpu_in[i].grad(), tol,
                   c.name + " gradient of input " + std::to_string(i));
  return {};
}

// The gradient of an operand broadcast to the output is reduced to its
// shape by sum_to, which needs sum's kernel on the operand's device.
bool reduces_a_gradient(const Case& c) {
  Shape out;
  for (const Input& in : c.inputs) {
    out.resize(std::max(out.size(), in.shape.size()), 1);
    for (size_t i = 0; i < in.shape.size(); ++i) {
      int64_t& o = out[out.size() - in.shape.size() + i];
      if (o == 1) o = in.shape[i];
    }
  }
  for (const Input& in : c.inputs)
    if (in.kind != Kind::mask && in.shape != out) return true;
  return false;
}

TEST_F(CudaElementwise, EveryOpForwardAndBackwardMatchesCpu) {
  for (DType t : {DType::f32, DType::f64})
    for (const Case& c : all_cases()) {
      std::string error = check_case(c, t, !reduces_a_gradient(c));
      EXPECT_EQ(error, "") << c.name << " " << dtype_name(t) << ": the CUDA backward threw";
    }
}

TEST_F(CudaElementwise, BroadcastOperandGradientsMatchCpu) {
  for (DType t : {DType::f32, DType::f64})
    for (const Case& c : all_cases()) {
      if (!reduces_a_gradient(c)) continue;
      std::string error = check_case(c, t, true);
      EXPECT_EQ(error, "") << c.name << " " << dtype_name(t) << ": the CUDA backward threw";
    }
}

TEST_F(CudaElementwise, ComparisonsMatchCpuBitForBit) {
  using Cmp = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, Cmp>> ops = {{"eq", eq}, {"ne", ne}, {"lt", lt},
                                                        {"le", le}, {"gt", gt}, {"ge", ge}};
  const std::vector<std::pair<Shape, Shape>> shapes = {{{3, 4}, {3, 4}},    {{3, 4}, {4}},
                                                       {{2, 1, 3}, {4, 1}}, {{2, 3}, {}},
                                                       {{0, 3}, {3}},       {{257, 129}, {257, 1}}};
  Generator gen(7);
  for (DType t : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8})
    for (const auto& [name, op] : ops)
      for (const auto& [sa, sb] : shapes) {
        // Values in {0, 1, 2}: every outcome occurs, equality included.
        Tensor a = randint(0, 3, sa, t, &gen), b = randint(0, 3, sb, t, &gen);
        Tensor want = op(a, b);
        ASSERT_EQ(want.dtype(), DType::u8);
        expect_match(
            want, op(a.to(gpu()), b.to(gpu())), 0,
            std::string(name) + " " + dtype_name(t) + " " + shape_str(sa) + " " + shape_str(sb));
      }
}

TEST_F(CudaElementwise, WhereOnIntegersMatchesCpu) {
  Generator gen(11);
  Tensor cond = randint(0, 2, {3, 4}, DType::u8, &gen);
  Tensor a = randint(-1000, 1000, {3, 4}, DType::i64, &gen);
  Tensor b = randint(-1000, 1000, {4}, DType::i64, &gen);
  expect_match(where(cond, a, b), where(cond.to(gpu()), a.to(gpu()), b.to(gpu())), 0, "where i64");
}

const std::vector<DType> kAllDtypes = {DType::f32, DType::f64, DType::bf16, DType::f16,
                                       DType::i32, DType::i64, DType::u8};

TEST_F(CudaElementwise, CastsBetweenEveryDtypePairMatchCpu) {
  Generator gen(13);
  // Fractions in [0, 250): in range for every type (u8 included), so
  // truncation and the 16-bit roundings are all exercised.
  const Tensor sources[] = {rand({67, 5}, DType::f64, &gen) * 250.0, zeros({0, 4}, DType::f64)};
  for (DType from : kAllDtypes)
    for (DType to : kAllDtypes)
      for (const Tensor& source : sources) {
        Tensor x = source.to(from);
        expect_match(
            x.to(to), x.to(gpu()).to(to), 0,
            std::string(dtype_name(from)) + " -> " + dtype_name(to) + " " + shape_str(x.shape()));
      }
}

TEST_F(CudaElementwise, FloatCastsRoundSpecialValuesAsCpu) {
  const double inf = std::numeric_limits<double>::infinity();
  // NaN, infinities, f16's overflow edge (65520 rounds to inf), f16
  // subnormals and underflow, a tie of each 16-bit type, f32 subnormals.
  const std::vector<double> values = {
      std::nan(""), inf,  -inf,  65504,  65519.99,      65520,      -70000,  1e-7,   2.98e-8,
      3e-8,         -0.0, 1e-40, 3.4e38, 1.00048828125, 1.00390625, 1.0 / 3, -2.5e-5};
  for (DType from : {DType::f32, DType::f64, DType::bf16, DType::f16})
    for (DType to : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
      Tensor x = from_vector<double>(values, {int64_t(values.size())}).to(from);
      expect_match(x.to(to), x.to(gpu()).to(to), 0,
                   std::string(dtype_name(from)) + " -> " + dtype_name(to) + " specials");
    }
}

TEST_F(CudaElementwise, MixedDevicesNameTheOpAndBothTensors) {
  Tensor on_cpu = zeros({2, 3});
  Tensor on_gpu = zeros({2, 3}, DType::f32, gpu());
  auto expect = [](auto f, const std::vector<std::string>& fragments) {
    try {
      f();
      FAIL() << fragments[0] << " accepted tensors on two devices";
    } catch (const Error& e) {
      std::string m = e.what();
      for (const std::string& s : fragments)
        EXPECT_NE(m.find(s), std::string::npos) << m << " lacks " << s;
    }
  };
  expect([&] { add(on_cpu, on_gpu); }, {"add", "f32[2, 3] cpu", "f32[2, 3] cuda:0"});
  expect([&] { lt(on_gpu, on_cpu); }, {"lt", "f32[2, 3] cpu", "f32[2, 3] cuda:0"});
  expect(
      [&] {
        where(ones({2, 3}, DType::u8), on_gpu, on_gpu);
      },
      {"where", "u8[2, 3] cpu", "f32[2, 3] cuda:0"});
}

TEST_F(CudaElementwise, HighRankLayoutsMergeOrNameTheLimit) {
  Generator gen(17);
  // Twelve dims of one shape merge into one flat walk.
  Shape same(12, 2);
  Tensor a = randn(same, DType::f32, &gen), b = randn(same, DType::f32, &gen);
  expect_match(a * b, a.to(gpu()) * b.to(gpu()), kArith.f32, "12-d same shape");
  // Alternating broadcasts cannot merge: eight dims are the most a kernel walks.
  auto alternating = [&](size_t nd, size_t first) {
    Shape s(nd);
    for (size_t d = 0; d < nd; ++d) s[d] = (d + first) % 2 ? 2 : 1;
    return randn(s, DType::f32, &gen);
  };
  Tensor x8 = alternating(8, 0), y8 = alternating(8, 1);
  expect_match(x8 + y8, x8.to(gpu()) + y8.to(gpu()), kArith.f32, "8-d alternating broadcast");
  Tensor x9 = alternating(9, 0), y9 = alternating(9, 1);
  try {
    Tensor z = x9.to(gpu()) + y9.to(gpu());
    FAIL() << "a 9-d unmergeable layout must be refused, got " << describe(z);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than 8 dims"), std::string::npos) << e.what();
  }
}

TEST_F(CudaElementwise, GridStrideLoopsCoverTensorsBeyondTheBlockCap) {
  // 65535 blocks of 256 threads cover 16,776,960 elements; these have more,
  // so each thread takes a second element.
  Generator gen(19);
  Tensor a = randn({65600, 256}, DType::f32, &gen), b = randn({256}, DType::f32, &gen);
  Tensor ga = a.to(gpu()), gb = b.to(gpu());
  expect_match(a + b, ga + gb, kArith.f32, "large broadcast add");
  expect_match(exp(a), exp(ga), kMath.f32, "large exp");
  expect_match(a.to(DType::f16), ga.to(DType::f16), 0, "large cast");
}

}  // namespace
}  // namespace dml
