#include "engine/inference/network.h"

#include <algorithm>

#include "base/error.h"
#include "engine/inference/memory_plan.h"
#include "kernels/cpu/conv_nhwc.h"
#include "kernels/cpu/pool_nhwc.h"

namespace dml::inference {

namespace {

cpu::ConvNhwc conv_shape(const FoldedConv& c, int64_t batch, const ValueShape& in) {
  return {batch, in.height, in.width, in.channels, c.out_channels, c.kernel, c.stride, c.padding};
}

}  // namespace

Network::Network(int64_t in_channels) : in_channels_(in_channels), channels_{in_channels} {
  DML_CHECK(in_channels > 0, "inference network: ", in_channels, " input channels");
}

ValueId Network::add_value(int64_t channels) {
  channels_.push_back(channels);
  return ValueId(channels_.size()) - 1;
}

ValueId Network::conv(std::string name, ValueId x, FoldedConv conv, ValueId residual, bool relu) {
  DML_CHECK(x >= 0 && x < ValueId(channels_.size()) && channels_[size_t(x)] == conv.in_channels,
            name, ": takes ", conv.in_channels, " channels, but its input has ",
            x >= 0 && x < ValueId(channels_.size()) ? channels_[size_t(x)] : -1);
  DML_CHECK(conv.weight.size() ==
                    size_t(conv.kernel * conv.kernel * conv.in_channels * conv.out_channels) &&
                conv.bias.size() == size_t(conv.out_channels),
            name, ": folded weights of the wrong size");
  DML_CHECK(residual == kNoValue || channels_[size_t(residual)] == conv.out_channels, name,
            ": the residual has ", residual == kNoValue ? 0 : channels_[size_t(residual)],
            " channels, the convolution gives ", conv.out_channels);
  const ValueId out = add_value(conv.out_channels);
  steps_.push_back({Kind::conv, std::move(name), x, residual, out, std::move(conv), relu});
  return out;
}

ValueId Network::max_pool(std::string name, ValueId x, int64_t kernel, int64_t stride,
                          int64_t padding) {
  FoldedConv window;
  window.in_channels = window.out_channels = channels_[size_t(x)];
  window.kernel = kernel;
  window.stride = stride;
  window.padding = padding;
  const ValueId out = add_value(window.out_channels);
  steps_.push_back({Kind::max_pool, std::move(name), x, kNoValue, out, std::move(window), false});
  return out;
}

void Network::head(ValueId x, EmbeddingHead head) {
  DML_CHECK(channels_[size_t(x)] == head.features(), "head: takes ", head.features(),
            " features, but the feature map has ", channels_[size_t(x)], " channels");
  head_input_ = x;
  head_ = std::move(head);
}

Plan Network::plan(int64_t batch, int64_t height, int64_t width, int threads) const {
  DML_CHECK(head_input_ != kNoValue, "inference network: no head");
  Plan p;
  p.batch = batch;
  p.height = height;
  p.width = width;
  p.threads = std::max(1, threads);
  p.shapes.assign(channels_.size(), ValueShape{0, 0, 0});
  p.shapes[0] = {height, width, in_channels_};

  // Step 0 writes the input; step i + 1 runs steps_[i]; the head comes last.
  const int64_t head_step = int64_t(steps_.size()) + 1;
  std::vector<Lifetime> lives(channels_.size());
  for (size_t v = 0; v < lives.size(); ++v) lives[v] = {0, 0, 0};
  int64_t scratch = head_scratch_floats(head_, batch);
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    const ValueShape in = p.shapes[size_t(s.x)];
    const FoldedConv& c = s.conv;
    const int64_t oh = (in.height + 2 * c.padding - c.kernel) / c.stride + 1;
    const int64_t ow = (in.width + 2 * c.padding - c.kernel) / c.stride + 1;
    DML_CHECK(in.height + 2 * c.padding >= c.kernel && in.width + 2 * c.padding >= c.kernel,
              "inference: images of ", height, " x ", width, " px are too small: ", s.name,
              " (kernel ", c.kernel, ", stride ", c.stride, ", padding ", c.padding, ") gets a ",
              in.height, " x ", in.width, " map and would give no output; use larger images");
    p.shapes[size_t(s.out)] = {oh, ow, c.out_channels};
    if (s.residual != kNoValue) {
      const ValueShape r = p.shapes[size_t(s.residual)];
      DML_CHECK(r.height == oh && r.width == ow, s.name, ": the residual is ", r.height, " x ",
                r.width, ", the output ", oh, " x ", ow);
    }
    const int64_t step = int64_t(i) + 1;
    lives[size_t(s.out)].first = step;
    for (const ValueId used : {s.x, s.residual})
      if (used != kNoValue) lives[size_t(used)].last = step;
    if (s.kind == Kind::conv)
      scratch =
          std::max(scratch, cpu::conv_nhwc_scratch_floats(conv_shape(c, batch, in), p.threads));
  }
  lives[size_t(head_input_)].last = head_step;
  for (size_t v = 0; v < lives.size(); ++v) {
    const ValueShape& s = p.shapes[v];
    lives[v].floats = batch * s.height * s.width * s.channels;
    lives[v].last = std::max(lives[v].last, lives[v].first);
  }
  lives.push_back({scratch, 0, head_step});  // the scratch, used by any step
  const MemoryPlan memory = plan_memory(lives);
  p.offsets.assign(memory.offsets.begin(), memory.offsets.end() - 1);
  p.scratch_offset = memory.offsets.back();
  p.arena_floats = memory.floats;
  return p;
}

void Network::run(const Plan& p, float* arena, const float* images, float* out) const {
  const auto at = [&](ValueId v) { return arena + p.offsets[size_t(v)]; };
  float* const scratch = arena + p.scratch_offset;
  cpu::nchw_to_nhwc(images, p.batch, in_channels_, p.height * p.width, at(input()));
  for (const Step& s : steps_) {
    const ValueShape& in = p.shapes[size_t(s.x)];
    const ValueShape& o = p.shapes[size_t(s.out)];
    if (s.kind == Kind::conv) {
      cpu::conv_nhwc(conv_shape(s.conv, p.batch, in), at(s.x), s.conv.weight.data(),
                     s.conv.bias.data(), s.residual == kNoValue ? nullptr : at(s.residual), s.relu,
                     at(s.out), scratch, p.threads);
    } else {
      const FoldedConv& w = s.conv;
      cpu::max_pool_nhwc(at(s.x), p.batch, in.channels,
                         kernels::fixed_axis(in.height, o.height, w.kernel, w.stride, w.padding),
                         kernels::fixed_axis(in.width, o.width, w.kernel, w.stride, w.padding),
                         at(s.out));
    }
  }
  const ValueShape& f = p.shapes[size_t(head_input_)];
  run_head(head_, at(head_input_), p.batch, f.height * f.width, scratch, out);
}

}  // namespace dml::inference
