// Fused optimizer steps on CUDA parameters against the same steps on the CPU:
// SGD with each option and Adam/AdamW, five steps on equal parameters and
// gradients, then the state round trip a checkpoint takes. Skipped where no
// GPU is present.
//
// Bounds. Both devices run one element's update with the same code
// (kernels/optim_ops.h); nvcc fuses some of its multiply-adds, so each
// operation may round differently by half an ulp of the values involved.
// Parameters and gradients are N(0, 1); with lr 0.1 and momentum 0.9 the
// momentum buffer stays below about 10 in magnitude, so one step's update is
// off by at most a handful of ulps of 10: about 5 * 10 * 2^-24 = 3e-6 in
// f32, 6e-15 in f64, and five steps add up to about 1.5e-5 / 3e-14. Adam's
// update is lr times a ratio of order 1, within a few ulps; its moment
// estimates likewise. kStep gives a 2x margin. A wrong formula (dampening,
// Nesterov, bias correction, decoupled decay) is off by 1e-3 or more.
//
// The steps are multi-tensor launches (kernels/cuda/multi_tensor.cuh): a
// launch walks a table of at most 36-110 tensors and 320 chunks of 65536
// elements, so the lists below are longer than a table, hold tensors of many
// chunks, and a tensor that spans two launches. A parameter updated in a
// list of 150 and alone in a group of its own runs the same element code on
// the same device with the same coefficients: equal bit for bit.
//
// non_finite_check_and_unscale multiplies each element once by inv_scale:
// one correctly rounded product on both devices, compared exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "engine/optim/grad_unscale.h"
#include "engine/optim/optimizer.h"
#include "engine/safetensors.h"
#include "kernels/cuda/multi_tensor_plan.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::CudaParity;
using test::Tolerance;

const Device kGpu = Device::cuda(0);

struct Bounds {
  Tolerance f32, f64;
};
constexpr Bounds kStep{{3e-5, 1e-5}, {6e-14, 1e-13}};

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<ParamGroup>)>;

// Two parameters of odd sizes (one larger than a block) in two groups with
// their own lr and weight decay, equal on both devices.
struct Model {
  std::vector<Tensor> params;
  std::unique_ptr<Optimizer> opt;
};

Model make_model(const MakeOptimizer& make, DType t, Device d) {
  Generator gen(17);
  Model m;
  m.params = {randn({13, 7}, t, &gen).to(d).requires_grad_(),
              randn({1031}, t, &gen).to(d).requires_grad_()};
  m.opt = make({{"a", {m.params[0]}, 0.1, 0.01}, {"b", {m.params[1]}, 0.05, 0}});
  return m;
}

// Gradients of step s: the same N(0, 1) values on both devices.
void set_grads(Model& m, int s) {
  Generator gen(100 + uint64_t(s));
  for (Tensor& p : m.params) p.set_grad(randn(p.shape(), p.dtype(), &gen).to(p.device()));
}

void take_steps(Model& m, int first, int count) {
  for (int s = first; s < first + count; ++s) {
    set_grads(m, s);
    m.opt->step();
  }
}

void expect_models_match(const Model& gpu, const Model& cpu, Tolerance tol) {
  for (size_t i = 0; i < cpu.params.size(); ++i)
    test::expect_matches_cpu(gpu.params[i].detach(), cpu.params[i].detach(), tol,
                             detail::concat("parameter ", i));
  NamedTensors sg = gpu.opt->state(), sc = cpu.opt->state();
  ASSERT_EQ(sg.size(), sc.size());
  for (size_t i = 0; i < sc.size(); ++i) {
    EXPECT_EQ(sg[i].first, sc[i].first);
    if (sc[i].second.dtype() == DType::i64) {
      EXPECT_EQ(sg[i].second.to_vector<int64_t>(), sc[i].second.to_vector<int64_t>());
      continue;
    }
    test::expect_matches_cpu(sg[i].second, sc[i].second, tol, sc[i].first);
  }
}

void expect_steps_match(const char* what, const MakeOptimizer& make) {
  for (DType t : {DType::f32, DType::f64}) {
    SCOPED_TRACE(detail::concat(what, " in ", dtype_name(t)));
    Model cpu = make_model(make, t, Device::cpu()), gpu = make_model(make, t, kGpu);
    Tensor before = cpu.params[0].detach().clone();
    take_steps(cpu, 0, 5);
    take_steps(gpu, 0, 5);
    EXPECT_FALSE(test::all_close(cpu.params[0].detach(), before, {1e-3, 0}));  // it moved
    expect_models_match(gpu, cpu, t == DType::f32 ? kStep.f32 : kStep.f64);
  }
}

template <class Opt, class Options>
MakeOptimizer maker(Options o) {
  return [o](std::vector<ParamGroup> g) { return std::make_unique<Opt>(std::move(g), o); };
}

TEST_F(CudaParity, SgdStepsMatchTheCpu) {
  expect_steps_match("plain", maker<SGD>(SgdOptions{}));
  expect_steps_match("momentum", maker<SGD>(SgdOptions{0.9, 0, false}));
  expect_steps_match("dampening", maker<SGD>(SgdOptions{0.9, 0.3, false}));
  expect_steps_match("nesterov", maker<SGD>(SgdOptions{0.9, 0, true}));
}

TEST_F(CudaParity, AdamAndAdamWStepsMatchTheCpu) {
  expect_steps_match("Adam", maker<Adam>(AdamOptions{}));
  expect_steps_match("Adam, other betas", maker<Adam>(AdamOptions{0.5, 0.9, 1e-6}));
  expect_steps_match("AdamW", maker<AdamW>(AdamOptions{}));
}

// A checkpoint's path: state() of CUDA parameters written to a safetensors
// file (moved to the CPU there), read back and loaded into a fresh optimizer
// of fresh CUDA parameters, which then steps exactly as the original (same
// device, same kernels, no atomics: bit for bit).
TEST_F(CudaParity, OptimizerStateRoundTripsThroughACheckpoint) {
  const std::string path = ::testing::TempDir() + "cuda_optim_state.safetensors";
  for (const auto& [what, make] : std::vector<std::pair<const char*, MakeOptimizer>>{
           {"SGD", maker<SGD>(SgdOptions{0.9, 0.1, false})},
           {"AdamW", maker<AdamW>(AdamOptions{})}}) {
    SCOPED_TRACE(what);
    Model a = make_model(make, DType::f32, kGpu);
    take_steps(a, 0, 3);
    NamedTensors state = a.opt->state();
    for (const auto& [name, t] : state)
      if (t.dtype() != DType::i64) {
        EXPECT_EQ(t.device(), kGpu) << name;
      }
    write_safetensors(path, state);
    Model b = make_model(make, DType::f32, kGpu);
    for (size_t i = 0; i < a.params.size(); ++i) copy_into(b.params[i], a.params[i]);
    b.opt->load_state(read_safetensors(path).tensors);
    for (const auto& [name, t] : b.opt->state())
      if (t.dtype() != DType::i64) {
        EXPECT_EQ(t.device(), kGpu) << name;
      }
    take_steps(a, 3, 2);
    take_steps(b, 3, 2);
    for (size_t i = 0; i < a.params.size(); ++i)
      EXPECT_TRUE(
          test::all_close(b.params[i].to(Device::cpu()), a.params[i].to(Device::cpu()), {0, 0}))
          << "parameter " << i;
  }
  std::remove(path.c_str());
}

// ---- multi-tensor launches ----

using cuda::multi_tensor::kChunk;

// The launch plan on the host (no GPU needed): every chunk of every nonempty
// tensor in exactly one launch's block map, no table over its limits, the
// tensor's pointers and size beside it.
template <int K>
void expect_plan_covers(const std::vector<int64_t>& sizes, int expected_launches) {
  SCOPED_TRACE(detail::concat("K = ", K, ", ", sizes.size(), " tensors"));
  using cuda::multi_tensor::Entry;
  using TableT = cuda::multi_tensor::Table<float, K>;
  static float
      base[1];  // fake addresses, never dereferenced: tensor t's buffer k is base + t * K + k
  std::vector<Entry<float, K>> list;
  for (size_t t = 0; t < sizes.size(); ++t) {
    Entry<float, K> e{{}, sizes[t]};
    for (int k = 0; k < K; ++k) e.ptr[size_t(k)] = base + t * K + size_t(k);
    list.push_back(e);
  }
  std::vector<std::vector<int>> seen(sizes.size());
  for (size_t t = 0; t < sizes.size(); ++t)
    seen[t].assign(size_t((sizes[t] + kChunk - 1) / kChunk), 0);
  int launches = 0;
  cuda::multi_tensor::plan(list, [&](const TableT& table, int blocks) {
    ++launches;
    ASSERT_GT(blocks, 0);
    ASSERT_LE(blocks, cuda::multi_tensor::kMaxBlocks);
    for (int b = 0; b < blocks; ++b) {
      const int slot = table.block_tensor[b];
      ASSERT_LT(slot, TableT::kMaxTensors);
      const size_t t = size_t(table.ptr[0][slot] - base) / K;
      ASSERT_LT(t, sizes.size());
      for (int k = 0; k < K; ++k) ASSERT_EQ(table.ptr[k][slot], base + t * K + size_t(k));
      ASSERT_EQ(table.n[slot], sizes[t]);
      const int32_t c = table.block_chunk[b];
      ASSERT_GE(c, 0);
      ASSERT_LT(size_t(c), seen[t].size());
      ++seen[t][size_t(c)];
    }
  });
  for (size_t t = 0; t < sizes.size(); ++t)
    for (size_t c = 0; c < seen[t].size(); ++c)
      ASSERT_EQ(seen[t][c], 1) << "tensor " << t << " chunk " << c;
  EXPECT_EQ(launches, expected_launches);
}

TEST(MultiTensorPlan, EveryChunkLandsInExactlyOneLaunch) {
  expect_plan_covers<4>({}, 0);
  expect_plan_covers<4>({0, 0}, 0);
  expect_plan_covers<4>({5}, 1);
  // 37 small tensors: one more than an Adam table holds.
  expect_plan_covers<4>(std::vector<int64_t>(37, 3), 2);
  expect_plan_covers<3>(std::vector<int64_t>(97, 1), 3);  // 48 + 48 + 1
  // 700 chunks of one tensor: three launches (320, 320, 60), no memory behind it.
  expect_plan_covers<1>({700 * kChunk - 1}, 3);
  // 110 tensors of 3 chunks: the block map fills part-way through the 107th.
  expect_plan_covers<1>(std::vector<int64_t>(110, 2 * kChunk + 5), 2);
  expect_plan_covers<1>(std::vector<int64_t>(111, 1), 2);
  std::vector<int64_t> mixed;
  for (int64_t i = 0; i < 300; ++i) mixed.push_back(i % 7 == 0 ? 0 : (i * 7919) % (5 * kChunk));
  expect_plan_covers<2>(mixed, 5);  // 257 tensors of 762 chunks: 64 tensors a launch bind
}

// Sizes that fill and overflow the launch tables: empty, below a block, odd,
// exactly one chunk, one past it, several chunks.
int64_t assorted_size(size_t i) {
  const int64_t sizes[] = {0, 1, 255, 513, 4097, kChunk, kChunk + 1, 3 * kChunk + 17};
  return sizes[i % 8];
}

struct ManyParams {
  std::vector<Tensor> params;
  std::unique_ptr<Optimizer> fused, alone;  // one group of all; a group per parameter
  std::vector<Tensor> alone_params;
};

ManyParams make_many(const MakeOptimizer& make, size_t count, DType t, Device d) {
  Generator gen(23);
  ManyParams m;
  std::vector<ParamGroup> alone;
  for (size_t i = 0; i < count; ++i) {
    Tensor init = randn({assorted_size(i)}, t, &gen).to(d);
    m.params.push_back(init.clone().requires_grad_());
    m.alone_params.push_back(init.clone().requires_grad_());
    alone.push_back({detail::concat("p", i), {m.alone_params.back()}, 0.1, 0.01});
  }
  m.fused = make({{"all", m.params, 0.1, 0.01}});
  m.alone = make(std::move(alone));
  return m;
}

void step_many(ManyParams& m, int s) {
  Generator gen(300 + uint64_t(s));
  for (size_t i = 0; i < m.params.size(); ++i) {
    Tensor g = randn(m.params[i].shape(), m.params[i].dtype(), &gen).to(m.params[i].device());
    m.params[i].set_grad(g);
    m.alone_params[i].set_grad(g.clone());
  }
  m.fused->step();
  m.alone->step();
}

void expect_many_match(const char* what, const MakeOptimizer& make) {
  for (DType t : {DType::f32, DType::f64}) {
    SCOPED_TRACE(detail::concat(what, " in ", dtype_name(t)));
    const Tolerance tol = t == DType::f32 ? kStep.f32 : kStep.f64;
    ManyParams cpu = make_many(make, 150, t, Device::cpu()), gpu = make_many(make, 150, t, kGpu);
    for (int s = 0; s < 3; ++s) {
      step_many(cpu, s);
      step_many(gpu, s);
    }
    for (size_t i = 0; i < cpu.params.size(); ++i) {
      test::expect_matches_cpu(gpu.params[i].detach(), cpu.params[i].detach(), tol,
                               detail::concat("parameter ", i));
      EXPECT_TRUE(test::all_close(gpu.params[i].detach().to(Device::cpu()),
                                  gpu.alone_params[i].detach().to(Device::cpu()), {0, 0}))
          << "parameter " << i << " in a list and alone";
    }
    NamedTensors sg = gpu.fused->state(), sc = cpu.fused->state();
    ASSERT_EQ(sg.size(), sc.size());
    for (size_t i = 0; i < sc.size(); ++i)
      if (sc[i].second.dtype() != DType::i64)
        test::expect_matches_cpu(sg[i].second, sc[i].second, tol, sc[i].first);
  }
}

TEST_F(CudaParity, ManyParametersInOneListMatchTheCpuAndTheirStepAlone) {
  expect_many_match("SGD nesterov", maker<SGD>(SgdOptions{0.9, 0, true}));
  expect_many_match("SGD plain", maker<SGD>(SgdOptions{}));
  expect_many_match("Adam", maker<Adam>(AdamOptions{}));
  expect_many_match("AdamW", maker<AdamW>(AdamOptions{}));
}

// One tensor of more chunks than a launch holds: its last chunks go in a
// second launch that continues it.
TEST_F(CudaParity, ATensorSpanningTwoLaunchesMatchesTheCpu) {
  const int64_t n = 321 * kChunk + 3;
  Generator gen(29);
  Tensor init = randn({n}, DType::f32, &gen);
  Tensor cpu = init.clone().requires_grad_(), gpu = init.to(kGpu).requires_grad_();
  SGD cpu_opt({{"a", {cpu}, 0.1, 0.01}}, SgdOptions{0.9, 0.1, false});
  SGD gpu_opt({{"a", {gpu}, 0.1, 0.01}}, SgdOptions{0.9, 0.1, false});
  for (int s = 0; s < 2; ++s) {
    Tensor g = randn({n}, DType::f32, &gen);
    cpu.set_grad(g);
    gpu.set_grad(g.to(kGpu));
    cpu_opt.step();
    gpu_opt.step();
  }
  test::expect_matches_cpu(gpu.detach(), cpu.detach(), kStep.f32, "parameter");
  test::expect_matches_cpu(gpu_opt.state()[0].second, cpu_opt.state()[0].second, kStep.f32,
                           "momentum");
}

// 120 f32 gradients of 3 chunks each fill the 320-block table part-way
// through the 107th (index 106), then f64 gradients, more than a table holds,
// and empty ones; a bad value goes in the last element of a chosen tensor.
std::vector<Tensor> unscale_list(Device d) {
  Generator gen(31);
  std::vector<Tensor> grads;
  for (int i = 0; i < 120; ++i) grads.push_back(randn({2 * kChunk + 5}, DType::f32, &gen).to(d));
  grads.push_back(zeros({0}, DType::f32, d));
  for (int64_t n : {int64_t(7), kChunk + 9, int64_t(0), int64_t(1000)})
    grads.push_back(randn({n}, DType::f64, &gen).to(d));
  // More tensors than the 110 of a table: the f64 list takes two launches.
  for (int64_t i = 0; i < 112; ++i) grads.push_back(randn({i * 37 % 301}, DType::f64, &gen).to(d));
  return grads;
}

TEST_F(CudaParity, NonFiniteCheckAndUnscaleMatchesTheCpu) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    double bad;
    size_t where;  // tensor index; past the end for none
  };
  for (const Case& c : {Case{0, 1000}, Case{std::nan(""), 119}, Case{inf, 106}, Case{-inf, 122},
                        Case{std::nan(""), 124}, Case{inf, 236}})
    for (double inv_scale : {1.0, 0.5, 1.0 / 3.0}) {
      SCOPED_TRACE(detail::concat(c.bad, " in tensor ", c.where, ", inv_scale ", inv_scale));
      std::vector<Tensor> cpu = unscale_list(Device::cpu());
      if (c.where < cpu.size()) {
        Tensor& g = cpu[c.where];
        if (g.dtype() == DType::f32)
          g.data<float>()[g.numel() - 1] = float(c.bad);
        else
          g.data<double>()[g.numel() - 1] = c.bad;
      }
      std::vector<Tensor> gpu;
      for (const Tensor& g : cpu) gpu.push_back(g.to(kGpu));
      Tensor found_cpu = non_finite_check_and_unscale(cpu, inv_scale);
      Tensor found_gpu = non_finite_check_and_unscale(gpu, inv_scale);
      EXPECT_EQ(found_gpu.device(), kGpu);
      EXPECT_EQ(found_gpu.shape(), Shape{});
      EXPECT_EQ(found_gpu.item(), c.where < cpu.size() ? 1.0 : 0.0);
      EXPECT_EQ(found_cpu.item(), found_gpu.item());
      for (size_t t = 0; t < cpu.size(); ++t) {
        if (t == c.where) continue;  // holds a NaN, which all_close never passes
        EXPECT_TRUE(test::all_close(gpu[t].to(Device::cpu()), cpu[t], {0, 0})) << "tensor " << t;
      }
    }
}

// The flag made on the device goes straight to step(): with a NaN gradient
// the parameters and slots stay as they were, with finite ones the step is
// the same as step() without a flag.
TEST_F(CudaParity, DeviceSkipFlagSkipsTheStepWithoutAHostRead) {
  for (const auto& [what, make] : std::vector<std::pair<const char*, MakeOptimizer>>{
           {"SGD", maker<SGD>(SgdOptions{0.9, 0, false})}, {"Adam", maker<Adam>(AdamOptions{})}}) {
    SCOPED_TRACE(what);
    Model a = make_model(make, DType::f32, kGpu), b = make_model(make, DType::f32, kGpu);
    take_steps(a, 0, 1);
    take_steps(b, 0, 1);
    const Tensor before = a.params[1].detach().to(Device::cpu());
    set_grads(a, 1);
    Tensor nan_grad = a.params[1].grad();
    copy_into(nan_grad.slice(5, 6), full({1}, std::nan(""), DType::f32));
    std::vector<Tensor> grads{a.params[0].grad(), a.params[1].grad()};
    Tensor skip = non_finite_check_and_unscale(grads);
    EXPECT_EQ(skip.device(), kGpu);
    a.opt->step(skip);
    EXPECT_TRUE(test::all_close(a.params[1].detach().to(Device::cpu()), before, {0, 0}));
    // Finite gradients: a zero flag, and the same step as b's plain step().
    set_grads(a, 2);
    set_grads(b, 2);
    std::vector<Tensor> finite{a.params[0].grad(), a.params[1].grad()};
    Tensor go = non_finite_check_and_unscale(finite);
    a.opt->step(go);
    b.opt->step();
    if (std::string(what) == "SGD") {  // Adam's bias correction counted the skipped step
      for (size_t i = 0; i < a.params.size(); ++i) {
        EXPECT_TRUE(test::all_close(a.params[i].detach().to(Device::cpu()),
                                    b.params[i].detach().to(Device::cpu()), {0, 0}))
            << "parameter " << i;
      }
    }
    EXPECT_FALSE(test::all_close(a.params[1].detach().to(Device::cpu()), before, {0, 0}));
    test::expect_error([&] { a.opt->step(zeros({}, DType::f32)); }, {"is not on the device"});
  }
}

// A gradient on another device than its parameter is refused by name.
TEST_F(CudaParity, GradientOnAnotherDeviceIsAnError) {
  Model m = make_model(maker<SGD>(SgdOptions{}), DType::f32, kGpu);
  Tensor p = m.params[0];
  p.set_grad(zeros(p.shape(), p.dtype()));  // on the CPU
  test::expect_error([&] { m.opt->step(); }, {"gradient", "cpu", "does not match parameter"});
}

}  // namespace
}  // namespace dml
