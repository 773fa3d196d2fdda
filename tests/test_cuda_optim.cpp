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
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "engine/optim/optimizer.h"
#include "engine/safetensors.h"
#include "tests/cuda_parity.h"

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

// A gradient on another device than its parameter is refused by name.
TEST_F(CudaParity, GradientOnAnotherDeviceIsAnError) {
  Model m = make_model(maker<SGD>(SgdOptions{}), DType::f32, kGpu);
  Tensor p = m.params[0];
  p.set_grad(zeros(p.shape(), p.dtype()));  // on the CPU
  try {
    m.opt->step();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SGD: inputs are on different devices"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dml
