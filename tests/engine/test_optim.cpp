// Optimizer formulas on hand-computable cases; tests/test_parity.cpp checks
// three full training steps against torch.optim.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "engine/ops.h"
#include "engine/optim/grad_unscale.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "kernels/optim_ops.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

Tensor param(std::vector<double> v) {
  int64_t n = int64_t(v.size());
  return from_vector<double>(std::move(v), {n}).requires_grad_();
}
ParamGroup group(std::vector<Tensor> ps, double lr, double wd = 0) {
  return ParamGroup{.name = "g", .params = std::move(ps), .lr = lr, .weight_decay = wd};
}

TEST(SGD, MomentumWeightDecayAndGroups) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({group({a}, 0.1, 0.5), group({b}, 1.0)}, SgdOptions{.momentum = 0.9});
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    sum(a * 2.0 + b * 2.0).backward();
    opt.step();
  }
  // a: g1 = 2 + 0.5 * 1 = 2.5, buf = 2.5, a = 0.75; g2 = 2 + 0.375 = 2.375,
  //    buf = 0.9 * 2.5 + 2.375 = 4.625, a = 0.75 - 0.4625.
  EXPECT_NEAR(a.item(), 0.2875, 1e-12);
  // b: lr 1, buf 2 then 3.8: b = 1 - 2 - 3.8.
  EXPECT_NEAR(b.item(), -4.8, 1e-12);
  EXPECT_EQ(opt.steps_taken(), 2);
  ASSERT_EQ(opt.state().size(), 4u);  // per parameter: momentum and step
  EXPECT_EQ(opt.state()[0].first, "g.0.momentum");
  EXPECT_EQ(opt.state()[1].first, "g.0.step");
}

// A resumed optimizer continues exactly where the saved one stopped: Adam's
// moments and its per-parameter step (bias correction) both come back.
TEST(Optimizer, LoadStateResumesExactly) {
  auto run_steps = [](Optimizer& opt, Tensor& w, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      sum(w * w * 3.0 + w).backward();
      opt.step();
    }
  };
  Tensor w = param({1.0, -2.0});
  Adam opt({group({w}, 0.1)});
  run_steps(opt, w, 3);
  NamedTensors saved;  // state() hands out the live slots: copy them as a checkpoint does
  for (const auto& [name, t] : opt.state()) saved.emplace_back(name, t.clone());
  Tensor w_saved = w.clone().detach();
  run_steps(opt, w, 2);

  Tensor w2 = param({0.0, 0.0});
  copy_into(w2, w_saved);
  Adam resumed({group({w2}, 0.1)});
  resumed.load_state(saved);
  run_steps(resumed, w2, 2);
  EXPECT_EQ(w2.to_vector<double>(), w.to_vector<double>());

  test::expect_error(
      [&] {
        resumed.load_state({{"other.0.exp_avg", w_saved}});
      },
      {"matches no parameter group"});
  test::expect_error(
      [&] {
        resumed.load_state({{"g.0.exp_avg", from_vector<double>({1.0}, {1})}});
      },
      {"but its parameter is"});
}

TEST(SGD, SkipsParametersWithoutGradient) {
  Tensor a = param({1.0}), unused = param({5.0});
  SGD opt({group({a, unused}, 0.1)});
  sum(a * 3.0).backward();
  opt.step();
  EXPECT_NEAR(a.item(), 0.7, 1e-12);
  EXPECT_EQ(unused.item(), 5.0);
}

TEST(Adam, FirstStepMovesByLearningRate) {
  // Bias correction makes the first update lr * g / (|g| + eps) = lr * sign(g).
  Tensor a = param({1.0, 1.0});
  Adam opt({group({a}, 0.01)});
  sum(a * from_vector<double>({3.0, -0.5}, {2})).backward();
  opt.step();
  EXPECT_NEAR(a.to_vector<double>()[0], 0.99, 1e-8);
  EXPECT_NEAR(a.to_vector<double>()[1], 1.01, 1e-8);
}

TEST(AdamW, DecaysWeightsApartFromTheGradient) {
  // With a zero gradient only the decoupled decay acts: p *= 1 - lr * wd.
  Tensor a = param({2.0});
  AdamW opt({group({a}, 0.1, 0.5)});
  sum(a * 0.0).backward();
  opt.step();
  EXPECT_NEAR(a.item(), 2.0 * (1 - 0.05), 1e-12);
  // Adam's coupled decay instead feeds wd * p into the moments: a full step.
  Tensor b = param({2.0});
  Adam coupled({group({b}, 0.1, 0.5)});
  sum(b * 0.0).backward();
  coupled.step();
  EXPECT_NEAR(b.item(), 1.9, 1e-7);
}

TEST(Optimizer, RejectsNonLeafParameters) {
  Tensor a = param({1.0});
  EXPECT_THROW(SGD({group({a * 2.0}, 0.1)}), Error);
  EXPECT_THROW(SGD({group({zeros({2})}, 0.1)}), Error);
}

// ---- multi-tensor steps: one fused call per group and step count ----

// What an optimizer under test is, for both the real one and the reference.
struct OptCase {
  const char* name;
  bool adam;
  SgdOptions sgd;
  AdamOptions adam_opt;
  bool decoupled;
  std::unique_ptr<Optimizer> make(std::vector<ParamGroup> groups) const {
    if (!adam) return std::make_unique<SGD>(std::move(groups), sgd);
    if (decoupled) return std::make_unique<AdamW>(std::move(groups), adam_opt);
    return std::make_unique<Adam>(std::move(groups), adam_opt);
  }
};

const std::vector<OptCase>& opt_cases() {
  static const std::vector<OptCase> cases = {
      {"SGD", false, {}, {}, false},
      {"SGD momentum dampening", false, {0.9, 0.25, false}, {}, false},
      {"SGD nesterov", false, {0.9, 0, true}, {}, false},
      {"Adam", true, {}, {0.9, 0.999, 1e-8}, false},
      {"Adam other betas", true, {}, {0.5, 0.9, 1e-3}, false},
      {"AdamW", true, {}, {0.9, 0.999, 1e-8}, true},
  };
  return cases;
}

// One parameter updated element by element with the shared element update
// (kernels/optim_ops.h), serially and one parameter at a time: what the
// fused path must reproduce bit for bit.
template <class T>
struct Reference {
  std::vector<T> p, m, v;
  int64_t steps = 0;

  explicit Reference(const Tensor& t) : p(t.to_vector<T>()), m(p.size(), T(0)), v(p.size(), T(0)) {}

  void update(const OptCase& c, const ParamGroup& g, const std::vector<T>& grad) {
    ++steps;
    if (c.adam) {
      const kernels::AdamCoeffs<T> k(kernels::AdamParams{g.lr, c.adam_opt.beta1, c.adam_opt.beta2,
                                                         c.adam_opt.eps, g.weight_decay,
                                                         c.decoupled, steps});
      for (size_t i = 0; i < p.size(); ++i) kernels::adam_update(p[i], grad[i], m[i], v[i], k);
      return;
    }
    const kernels::SgdCoeffs<T> k(kernels::SgdParams{g.lr, c.sgd.momentum, c.sgd.dampening,
                                                     g.weight_decay, c.sgd.nesterov, steps == 1});
    for (size_t i = 0; i < p.size(); ++i)
      kernels::sgd_update(p[i], grad[i], c.sgd.momentum != 0 ? &m[i] : nullptr, k);
  }
};

const Tensor* find_state(const NamedTensors& state, const std::string& name) {
  for (const auto& [n, t] : state)
    if (n == name) return &t;
  return nullptr;
}

// Two groups of parameters of assorted sizes: one element, odd sizes, one
// above the CPU's parallel grain, an empty one, one that gets a gradient
// only from step 2 on (so its step count lags: its own fused call) and one
// that never gets one (untouched, no state).
template <class T>
void expect_fused_steps_match_reference(const OptCase& c) {
  SCOPED_TRACE(detail::concat(c.name, " in ", dtype_name(dtype_of<T>::value)));
  const DType dt = dtype_of<T>::value;
  Generator gen(5);
  const std::vector<Shape> shapes_a = {{1}, {7, 3}, {40001}, {0}, {300}, {3}};
  constexpr size_t kLate = 4, kNever = 5;
  std::vector<Tensor> a, b;
  for (const Shape& s : shapes_a) a.push_back(randn(s, dt, &gen).requires_grad_());
  b.push_back(randn({5, 2}, dt, &gen).requires_grad_());
  b.push_back(randn({129}, dt, &gen).requires_grad_());
  std::unique_ptr<Optimizer> opt =
      c.make({{"a", a, 0.1, 0.01}, ParamGroup{.name = "b", .params = b, .lr = 0.03}});
  std::vector<Reference<T>> ref_a, ref_b;
  for (const Tensor& t : a) ref_a.emplace_back(t.detach());
  for (const Tensor& t : b) ref_b.emplace_back(t.detach());

  for (int step = 0; step < 4; ++step) {
    Generator grads(100 + uint64_t(step));
    auto give_grad = [&](const Tensor& p, Reference<T>& r, const ParamGroup& g) {
      Tensor grad = randn(p.shape(), dt, &grads);
      p.set_grad(grad);
      r.update(c, g, grad.to_vector<T>());
    };
    opt->zero_grad();
    for (size_t i = 0; i < a.size(); ++i)
      if (i != kNever && (i != kLate || step >= 2)) give_grad(a[i], ref_a[i], opt->groups()[0]);
    for (size_t i = 0; i < b.size(); ++i) give_grad(b[i], ref_b[i], opt->groups()[1]);
    opt->step();
  }

  const NamedTensors state = opt->state();
  auto expect_param = [&](const std::string& prefix, const Tensor& p, const Reference<T>& r) {
    SCOPED_TRACE(prefix);
    EXPECT_EQ(p.to_vector<T>(), r.p);  // bit for bit
    const Tensor* steps = find_state(state, prefix + "step");
    if (r.steps == 0 || (!c.adam && c.sgd.momentum == 0)) {  // state() lists slotted ones only
      EXPECT_EQ(steps, nullptr);
      return;
    }
    ASSERT_NE(steps, nullptr);
    EXPECT_EQ(steps->to_vector<int64_t>(), std::vector<int64_t>{r.steps});
    if (c.adam) {
      EXPECT_EQ(find_state(state, prefix + "exp_avg")->to_vector<T>(), r.m);
      EXPECT_EQ(find_state(state, prefix + "exp_avg_sq")->to_vector<T>(), r.v);
    } else if (c.sgd.momentum != 0) {
      EXPECT_EQ(find_state(state, prefix + "momentum")->to_vector<T>(), r.m);
    }
  };
  for (size_t i = 0; i < a.size(); ++i) expect_param(detail::concat("a.", i, "."), a[i], ref_a[i]);
  for (size_t i = 0; i < b.size(); ++i) expect_param(detail::concat("b.", i, "."), b[i], ref_b[i]);
  EXPECT_EQ(ref_a[kLate].steps, 2);
  EXPECT_NE(a[kLate].to_vector<T>(), Reference<T>(a[kNever]).p);  // sanity: it moved
}

TEST(Optimizer, FusedStepsMatchThePerElementReferenceBitForBit) {
  for (const OptCase& c : opt_cases()) {
    expect_fused_steps_match_reference<float>(c);
    expect_fused_steps_match_reference<double>(c);
  }
}

// A group mixing f32 and f64 parameters is split into one call per dtype:
// each parameter ends exactly where it ends in a group of its own.
TEST(Optimizer, GroupMixingDtypesStepsEachAsAlone) {
  for (const OptCase& c : opt_cases()) {
    SCOPED_TRACE(c.name);
    Generator gen(9);
    Tensor f = randn({17}, DType::f32, &gen), d = randn({9}, DType::f64, &gen);
    Tensor mf = f.clone().requires_grad_(), md = d.clone().requires_grad_();
    Tensor af = f.clone().requires_grad_(), ad = d.clone().requires_grad_();
    std::unique_ptr<Optimizer> mixed = c.make({group({mf, md}, 0.1, 0.01)});
    std::unique_ptr<Optimizer> alone_f = c.make({group({af}, 0.1, 0.01)});
    std::unique_ptr<Optimizer> alone_d = c.make({group({ad}, 0.1, 0.01)});
    for (int step = 0; step < 3; ++step) {
      Tensor gf = randn({17}, DType::f32, &gen), gd = randn({9}, DType::f64, &gen);
      mf.set_grad(gf);
      af.set_grad(gf.clone());
      md.set_grad(gd);
      ad.set_grad(gd.clone());
      mixed->step();
      alone_f->step();
      alone_d->step();
    }
    EXPECT_EQ(mf.to_vector<float>(), af.to_vector<float>());
    EXPECT_EQ(md.to_vector<double>(), ad.to_vector<double>());
  }
}

// A checkpoint taken while step counts differ within a group (so the group
// steps in two fused calls) resumes exactly, and keeps the state format:
// "group.index.slot" and "group.index.step".
TEST(Optimizer, LoadStateResumesExactlyWithUnequalStepCounts) {
  auto make_params = [] {
    Generator gen(3);
    return std::vector<Tensor>{randn({6}, DType::f32, &gen).requires_grad_(),
                               randn({4, 2}, DType::f32, &gen).requires_grad_()};
  };
  auto run_steps = [](Optimizer& opt, std::vector<Tensor>& ps, int first, int count) {
    for (int s = first; s < first + count; ++s) {
      Generator gen(50 + uint64_t(s));
      opt.zero_grad();
      for (size_t i = 0; i < ps.size(); ++i)
        if (i == 0 || s >= 1) ps[i].set_grad(randn(ps[i].shape(), DType::f32, &gen));
      opt.step();
    }
  };
  std::vector<Tensor> w = make_params();
  Adam opt({group(w, 0.05)});
  run_steps(opt, w, 0, 3);
  NamedTensors saved;
  for (const auto& [name, t] : opt.state()) saved.emplace_back(name, t.clone());
  std::vector<std::string> names;
  for (const auto& [name, t] : saved) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"g.0.exp_avg", "g.0.exp_avg_sq", "g.0.step",
                                             "g.1.exp_avg", "g.1.exp_avg_sq", "g.1.step"}));
  EXPECT_EQ(find_state(saved, "g.0.step")->to_vector<int64_t>(), std::vector<int64_t>{3});
  EXPECT_EQ(find_state(saved, "g.1.step")->to_vector<int64_t>(), std::vector<int64_t>{2});

  std::vector<Tensor> w2 = make_params();
  for (size_t i = 0; i < w.size(); ++i) copy_into(w2[i], w[i]);
  Adam resumed({group(w2, 0.05)});
  resumed.load_state(saved);
  run_steps(opt, w, 3, 2);
  run_steps(resumed, w2, 3, 2);
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_EQ(w2[i].to_vector<float>(), w[i].to_vector<float>());
}

// step(skip_if): a nonzero flag leaves parameters and slots untouched while
// the step counts advance (documented in optimizer.h); a zero flag steps as
// step() does.
TEST(Optimizer, SkipFlagSkipsTheUpdateButCountsTheStep) {
  for (const OptCase& c : opt_cases()) {
    SCOPED_TRACE(c.name);
    Generator gen(11);
    Tensor init = randn({33}, DType::f32, &gen), g1 = randn({33}, DType::f32, &gen),
           g2 = randn({33}, DType::f32, &gen);
    Tensor p = init.clone().requires_grad_(), q = init.clone().requires_grad_();
    std::unique_ptr<Optimizer> skipping = c.make({group({p}, 0.1, 0.01)});
    std::unique_ptr<Optimizer> plain = c.make({group({q}, 0.1, 0.01)});
    p.set_grad(g1);
    q.set_grad(g1.clone());
    skipping->step(zeros({}, DType::f32));  // flag 0: an ordinary step
    plain->step();
    EXPECT_EQ(p.to_vector<float>(), q.to_vector<float>());

    NamedTensors before;
    for (const auto& [name, t] : skipping->state()) before.emplace_back(name, t.clone());
    const std::vector<float> p_before = p.to_vector<float>();
    p.set_grad(g2);
    skipping->step(full({1}, 1.0, DType::f32));
    EXPECT_EQ(p.to_vector<float>(), p_before);
    EXPECT_EQ(skipping->steps_taken(), 2);
    for (const auto& [name, t] : skipping->state()) {
      const Tensor* was = find_state(before, name);
      ASSERT_NE(was, nullptr) << name;
      if (t.dtype() == DType::i64)
        EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>{2}) << name;
      else
        EXPECT_EQ(t.to_vector<float>(), was->to_vector<float>()) << name;
    }
    // A NaN flag counts as set: anything nonzero skips.
    skipping->step(full({}, std::nan(""), DType::f32));
    EXPECT_EQ(p.to_vector<float>(), p_before);
  }
  Tensor p = param({1.0});
  SGD opt({group({p}, 0.1)});
  p.set_grad(ones({1}, DType::f64));
  test::expect_error([&] { opt.step(zeros({2}, DType::f32)); }, {"skip flag must be one f32"});
  test::expect_error([&] { opt.step(zeros({}, DType::f64)); }, {"skip flag must be one f32"});
}

// A step refused for a bad gradient in a later group changes nothing in the
// earlier ones: no parameter moved, no slot made, no count advanced.
TEST(Optimizer, RefusedStepChangesNothing) {
  Tensor a = param({1.0, 2.0}), b = param({3.0});
  Adam opt({group({a}, 0.1), group({b}, 0.1)});
  a.set_grad(ones({2}, DType::f64));
  b.set_grad(ones({1}, DType::f32));  // f32 gradient of an f64 parameter
  test::expect_error([&] { opt.step(); }, {"does not match parameter"});
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1.0, 2.0}));
  EXPECT_TRUE(opt.state().empty());
  EXPECT_EQ(opt.steps_taken(), 0);
}

// ---- a step in parts: stage_step, launch_step, commit_step ----

// The parts in a row are step(). A launch whose flag skipped it and that was
// not committed leaves everything as if no step had been called, so the
// next staged step has the same count (Adam's bias correction, SGD's first
// momentum step): the same as an optimizer that simply skipped that step.
TEST(Optimizer, StepInPartsIsStepAndAnUncommittedStepIsStagedAgain) {
  for (const OptCase& c : opt_cases()) {
    SCOPED_TRACE(c.name);
    Generator gen(13);
    const Tensor init = randn({33}, DType::f32, &gen);
    std::vector<Tensor> grads;
    for (int s = 0; s < 3; ++s) grads.push_back(randn({33}, DType::f32, &gen));
    Tensor p = init.clone().requires_grad_(), q = init.clone().requires_grad_();
    std::unique_ptr<Optimizer> parts = c.make({group({p}, 0.1, 0.01)});
    std::unique_ptr<Optimizer> whole = c.make({group({q}, 0.1, 0.01)});
    auto take = [&](Optimizer& opt, Tensor& w, const Tensor& g, double flag, bool commit) {
      w.set_grad(g.clone());
      opt.stage_step();
      opt.launch_step(full({}, flag, DType::f32));
      if (commit) opt.commit_step();
    };
    take(*parts, p, grads[0], 0, true);
    q.set_grad(grads[0].clone());
    whole->step();
    EXPECT_EQ(p.to_vector<float>(), q.to_vector<float>());

    const std::vector<float> before = p.to_vector<float>();
    take(*parts, p, grads[1], 1, false);  // skipped on the "device", not committed
    EXPECT_EQ(p.to_vector<float>(), before);
    EXPECT_EQ(parts->steps_taken(), 1);
    for (const auto& [name, t] : parts->state()) {
      if (t.dtype() == DType::i64) {
        EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>{1}) << name;
      }
    }

    take(*parts, p, grads[2], 0, true);
    q.set_grad(grads[2].clone());
    whole->step();
    EXPECT_EQ(p.to_vector<float>(), q.to_vector<float>());
    EXPECT_EQ(parts->steps_taken(), 2);
  }
}

// launch_step() reads the coefficients stage_step() wrote, not the group's
// learning rate at launch: what lets a captured launch take each replay's
// staged values.
TEST(Optimizer, LaunchReadsTheStagedCoefficients) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD staged({group({a}, 0.5)}), plain({group({b}, 0.5)});
  a.set_grad(ones({1}, DType::f64));
  b.set_grad(ones({1}, DType::f64));
  staged.stage_step();
  staged.groups()[0].lr = 100;  // after staging: not this step's
  staged.launch_step();
  staged.commit_step();
  plain.step();
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{0.5}));
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
}

// A batch's coefficients are staged at its first parameter's place, so a
// launch finds them whichever other batches the stage had: here the stage
// saw both groups and the launch only the second.
TEST(Optimizer, StagedCoefficientsStayWithTheirParameters) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({ParamGroup{.name = "a", .params = {a}, .lr = 0.5},
           ParamGroup{.name = "b", .params = {b}, .lr = 2.0}});
  a.set_grad(ones({1}, DType::f64));
  b.set_grad(ones({1}, DType::f64));
  opt.stage_step();
  a.zero_grad();
  opt.launch_step();
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1.0}));
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{-1.0})) << "b's rate, 2";
}

// A launch needs a stage of the same parameters first; staging alone
// records nothing a checkpoint keeps.
TEST(Optimizer, LaunchWithoutAStageIsRefused) {
  Tensor a = param({1.0, 2.0}), b = param({3.0});
  auto groups = [&] {
    return std::vector<ParamGroup>{{.name = "a", .params = {a}, .lr = 0.1},
                                   {.name = "b", .params = {b}, .lr = 0.1}};
  };
  Adam opt(groups());
  a.set_grad(ones({2}, DType::f64));
  test::expect_error([&] { opt.launch_step(); }, {"has no state yet", "stage_step()"});
  opt.stage_step();
  EXPECT_TRUE(opt.state().empty()) << "staged, not taken";
  b.set_grad(ones({1}, DType::f64));  // a parameter the stage did not see
  test::expect_error([&] { opt.launch_step(); }, {"has no state yet"});
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1.0, 2.0}));
  opt.stage_step();
  opt.launch_step();
  opt.commit_step();
  EXPECT_NE(a.to_vector<double>(), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(opt.state().size(), 6u);
  // Resumed state holds the slots but no staged coefficients.
  Adam resumed(groups());
  resumed.load_state(opt.state());
  test::expect_error([&] { resumed.launch_step(); }, {"no stage_step() staged on cpu"});
}

// ---- non_finite_check_and_unscale ----

// Gradients of assorted sizes, empty and above the parallel grain, in both
// float types, as one list.
std::vector<Tensor> unscale_inputs() {
  Generator gen(21);
  return {randn({5}, DType::f32, &gen),     zeros({0}, DType::f32),
          randn({40001}, DType::f32, &gen), randn({3, 3}, DType::f64, &gen),
          zeros({0}, DType::f64),           randn({33000}, DType::f64, &gen)};
}

void expect_scaled(const std::vector<Tensor>& got, const std::vector<Tensor>& before,
                   double inv_scale) {
  for (size_t t = 0; t < got.size(); ++t) {
    SCOPED_TRACE(detail::concat("tensor ", t));
    if (got[t].dtype() == DType::f32) {
      std::vector<float> want = before[t].to_vector<float>();
      for (float& x : want) x *= float(inv_scale);
      EXPECT_EQ(got[t].to_vector<float>(), want);
    } else {
      std::vector<double> want = before[t].to_vector<double>();
      for (double& x : want) x *= inv_scale;
      EXPECT_EQ(got[t].to_vector<double>(), want);
    }
  }
}

TEST(NonFiniteCheckAndUnscale, FiniteGradientsAreScaledExactly) {
  std::vector<Tensor> grads = unscale_inputs(), before;
  for (const Tensor& g : grads) before.push_back(g.clone());
  Tensor found = non_finite_check_and_unscale(grads, 1.0 / 3.0);
  EXPECT_EQ(found.dtype(), DType::f32);
  EXPECT_EQ(found.shape(), Shape{});
  EXPECT_EQ(found.item(), 0.0);
  expect_scaled(grads, before, 1.0 / 3.0);
  // inv_scale 1 only checks: the values stay as they were.
  std::vector<Tensor> same = unscale_inputs();
  EXPECT_EQ(non_finite_check_and_unscale(same).item(), 0.0);
  expect_scaled(same, unscale_inputs(), 1.0);
}

TEST(NonFiniteCheckAndUnscale, FindsNanAndInfinitiesInAnyTensor) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {std::nan(""), inf, -inf})
    for (size_t where : {0, 2, 3, 5})
      for (double inv_scale : {1.0, 0.25}) {
        SCOPED_TRACE(detail::concat(bad, " in tensor ", where, ", inv_scale ", inv_scale));
        std::vector<Tensor> grads = unscale_inputs();
        Tensor& g = grads[where];
        const int64_t at = g.numel() - 1;  // the last element: no early exit hides it
        if (g.dtype() == DType::f32)
          g.data<float>()[at] = float(bad);
        else
          g.data<double>()[at] = bad;
        std::vector<Tensor> before;
        for (const Tensor& t : grads) before.push_back(t.clone());
        EXPECT_EQ(non_finite_check_and_unscale(grads, inv_scale).item(), 1.0);
        // Every element is still scaled (NaN stays NaN, inf stays inf):
        // compare the finite ones and the bad one's class.
        for (size_t t = 0; t < grads.size(); ++t) {
          if (t == where) continue;
          expect_scaled({grads[t]}, {before[t]}, inv_scale);
        }
        const double got =
            g.dtype() == DType::f32 ? double(g.data<float>()[at]) : g.data<double>()[at];
        if (std::isnan(bad))
          EXPECT_TRUE(std::isnan(got));
        else
          EXPECT_EQ(got, bad);
      }
}

TEST(NonFiniteCheckAndUnscale, EmptyListsUndefinedEntriesAndErrors) {
  EXPECT_EQ(non_finite_check_and_unscale({}).item(), 0.0);
  EXPECT_EQ(non_finite_check_and_unscale({Tensor(), zeros({0})}).item(), 0.0);
  Tensor nan_grad = full({2}, std::nan(""), DType::f64);
  EXPECT_EQ(non_finite_check_and_unscale({Tensor(), nan_grad}).item(), 1.0);
  test::expect_error([] { non_finite_check_and_unscale({zeros({2}, DType::i64)}); },
                     {"non_finite_check_and_unscale", "must be f32 or f64"});
}

TEST(LrSchedule, StepMultiStepAndCosineWarmup) {
  StepLR step(10, 0.5);
  EXPECT_EQ(step.factor(9), 1.0);
  EXPECT_EQ(step.factor(10), 0.5);
  EXPECT_EQ(step.factor(25), 0.25);
  MultiStepLR multi({3, 5}, 0.1);
  EXPECT_EQ(multi.factor(2), 1.0);
  EXPECT_NEAR(multi.factor(3), 0.1, 1e-15);
  EXPECT_NEAR(multi.factor(7), 0.01, 1e-15);
  CosineWithWarmup cos(4, 14, 0.1);
  EXPECT_EQ(cos.factor(0), 0.25);
  EXPECT_EQ(cos.factor(3), 1.0);
  EXPECT_NEAR(cos.factor(4), 1.0, 1e-15);
  EXPECT_NEAR(cos.factor(9), 0.55, 1e-12);  // half way: 0.1 + 0.9 * 0.5
  EXPECT_NEAR(cos.factor(14), 0.1, 1e-12);
  EXPECT_NEAR(cos.factor(100), 0.1, 1e-12);
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({group({a}, 0.2), group({b}, 0.02)});
  step.apply(opt, 10);
  EXPECT_NEAR(opt.groups()[0].lr, 0.1, 1e-15);
  EXPECT_NEAR(opt.groups()[1].lr, 0.01, 1e-15);
}

}  // namespace
}  // namespace dml
