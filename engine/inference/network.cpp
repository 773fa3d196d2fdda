#include "engine/inference/network.h"

#include <algorithm>

#include "base/error.h"
#include "kernels/cpu/conv_nhwc.h"
#include "kernels/cpu/conv_winograd.h"
#include "kernels/cpu/pool_nhwc.h"

namespace dml::inference {

namespace {

// Rows the smallest feature map of a pass should give its GEMMs (images x
// pixels): fewer leave the threads and the packed weights underused.
constexpr int64_t kPassRows = 512;

int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

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

void Network::check_value(ValueId v, const std::string& step) const {
  DML_CHECK(v >= 0 && v < ValueId(channels_.size()), step, ": value ", v,
            " is not in the network (", channels_.size(), " values so far)");
}

ValueId Network::conv(std::string name, ValueId x, FoldedConv conv, ValueId residual, bool relu) {
  check_value(x, name);
  if (residual != kNoValue) check_value(residual, name);
  DML_CHECK(channels_[size_t(x)] == conv.in_channels, name, ": takes ", conv.in_channels,
            " channels, but its input has ", channels_[size_t(x)]);
  DML_CHECK(conv.kernel > 0 && conv.stride > 0 && conv.padding >= 0 && conv.out_channels > 0, name,
            ": kernel ", conv.kernel, ", stride ", conv.stride, ", padding ", conv.padding, ", ",
            conv.out_channels, " outputs (kernel, stride, outputs positive)");
  DML_CHECK(conv.weight.size() ==
                    size_t(conv.kernel * conv.kernel * conv.in_channels * conv.out_channels) &&
                conv.bias.size() == size_t(conv.out_channels),
            name, ": ", conv.weight.size(), " folded weights and ", conv.bias.size(), " biases; a ",
            conv.kernel, " x ", conv.kernel, " convolution of ", conv.in_channels, " -> ",
            conv.out_channels, " channels needs ",
            conv.kernel * conv.kernel * conv.in_channels * conv.out_channels, " and ",
            conv.out_channels);
  DML_CHECK(residual == kNoValue || channels_[size_t(residual)] == conv.out_channels, name,
            ": the residual has ", residual == kNoValue ? 0 : channels_[size_t(residual)],
            " channels, the convolution gives ", conv.out_channels);
  const ValueId out = add_value(conv.out_channels);
  // 3x3 stride-1 convolutions (most of a ResNet's) run as Winograd F(2x2, 3x3):
  // 4/9 of the multiplications, the weights transformed here once.
  Kind kind = Kind::conv;
  if (cpu::winograd_applies(conv_shape(conv, 1, {1, 1, conv.in_channels}))) {
    std::vector<float> u(size_t(16 * conv.in_channels * conv.out_channels));
    cpu::winograd_weights(conv.weight.data(), conv.in_channels, conv.out_channels, u.data());
    conv.weight = std::move(u);
    kind = Kind::winograd;
  }
  steps_.push_back({kind, std::move(name), x, residual, out, std::move(conv), relu});
  return out;
}

ValueId Network::max_pool(std::string name, ValueId x, int64_t kernel, int64_t stride,
                          int64_t padding) {
  check_value(x, name);
  DML_CHECK(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel, name, ": a ", kernel,
            " x ", kernel, " pool with stride ", stride, " and padding ", padding,
            " (kernel and stride positive, padding at most half the kernel)");
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
  check_value(x, "head");
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
  std::vector<Lifetime> lives = shape_values(p);
  p.pass = images_per_pass(batch, p.shapes[size_t(head_input_)]);
  for (size_t v = 0; v < lives.size(); ++v) {
    const ValueShape& s = p.shapes[v];
    lives[v].floats = p.pass * s.height * s.width * s.channels;
  }
  const std::vector<size_t> buffer = share_residual_buffers(lives);
  lives.push_back({scratch_floats(p), 0, int64_t(steps_.size()) + 1});  // used by any step
  const MemoryPlan memory = plan_memory(lives);
  p.offsets.resize(buffer.size());
  for (size_t v = 0; v < buffer.size(); ++v) p.offsets[v] = memory.offsets[buffer[v]];
  p.scratch_offset = memory.offsets.back();
  p.arena_floats = memory.floats;
  return p;
}

std::vector<Lifetime> Network::shape_values(Plan& p) const {
  // Step 0 writes the input; step i + 1 runs steps_[i]; the head comes last.
  p.shapes.assign(channels_.size(), ValueShape{0, 0, 0});
  p.shapes[0] = {p.height, p.width, in_channels_};
  std::vector<Lifetime> lives(channels_.size(), Lifetime{0, 0, 0});
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    const ValueShape in = p.shapes[size_t(s.x)];
    const FoldedConv& c = s.conv;
    DML_CHECK(in.height + 2 * c.padding >= c.kernel && in.width + 2 * c.padding >= c.kernel,
              "inference: images of ", p.height, " x ", p.width, " px are too small: ", s.name,
              " (kernel ", c.kernel, ", stride ", c.stride, ", padding ", c.padding, ") gets a ",
              in.height, " x ", in.width, " map and would give no output; use larger images");
    const int64_t oh = (in.height + 2 * c.padding - c.kernel) / c.stride + 1;
    const int64_t ow = (in.width + 2 * c.padding - c.kernel) / c.stride + 1;
    p.shapes[size_t(s.out)] = {oh, ow, c.out_channels};
    if (s.residual != kNoValue) {
      const ValueShape r = p.shapes[size_t(s.residual)];
      DML_CHECK(r.height == oh && r.width == ow, s.name, ": the residual is ", r.height, " x ",
                r.width, ", the output ", oh, " x ", ow);
    }
    const int64_t step = int64_t(i) + 1;
    lives[size_t(s.out)] = {0, step, step};
    for (const ValueId used : {s.x, s.residual})
      if (used != kNoValue) lives[size_t(used)].last = step;
  }
  lives[size_t(head_input_)].last = int64_t(steps_.size()) + 1;
  return lives;
}

int64_t Network::images_per_pass(int64_t batch, const ValueShape& last_map) {
  // Enough images that the smallest feature map still gives the GEMMs
  // kPassRows rows, then evened out over the passes. Activations are planned
  // for one pass, so the arena does not grow with the batch.
  const int64_t most = ceil_div(kPassRows, last_map.height * last_map.width);
  return ceil_div(batch, ceil_div(batch, most));
}

std::vector<size_t> Network::share_residual_buffers(std::vector<Lifetime>& lives) const {
  // A convolution whose residual is read by no later step writes its sum over
  // the residual (conv_nhwc accumulates onto it): the two values share one
  // buffer, and a residual block holds one activation fewer at its peak.
  std::vector<size_t> buffer(lives.size());
  for (size_t v = 0; v < buffer.size(); ++v) buffer[v] = v;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    if (s.residual == kNoValue || s.residual == s.x ||
        lives[size_t(s.residual)].last != int64_t(i) + 1)
      continue;
    Lifetime& shared = lives[buffer[size_t(s.residual)]];
    Lifetime& out = lives[size_t(s.out)];
    shared.floats = std::max(shared.floats, out.floats);
    shared.last = std::max(shared.last, out.last);
    out.floats = 0;  // placed with the residual's buffer
    buffer[size_t(s.out)] = buffer[size_t(s.residual)];
  }
  return buffer;
}

int64_t Network::scratch_floats(const Plan& p) const {
  // The most any step needs, in a full pass or in the last, smaller one.
  int64_t most = head_scratch_floats(head_, p.pass);
  const int64_t last_pass = p.batch - (ceil_div(p.batch, p.pass) - 1) * p.pass;
  for (const int64_t images : {p.pass, last_pass})
    for (const Step& s : steps_)
      if (s.kind != Kind::max_pool) {
        const cpu::ConvNhwc shape = conv_shape(s.conv, images, p.shapes[size_t(s.x)]);
        most = std::max(most, s.kind == Kind::winograd
                                  ? cpu::conv_winograd_scratch_floats(shape, p.threads)
                                  : cpu::conv_nhwc_scratch_floats(shape, p.threads));
      }
  return most;
}

void Network::run(const Plan& p, float* arena, const float* images, float* out) const {
  const int64_t image_floats = in_channels_ * p.height * p.width;
  for (int64_t i = 0; i < p.batch; i += p.pass)
    run_pass(p, arena, images + i * image_floats, std::min(p.pass, p.batch - i),
             out + i * embedding_dim());
}

void Network::run_pass(const Plan& p, float* arena, const float* images, int64_t n,
                       float* out) const {
  const auto at = [&](ValueId v) { return arena + p.offsets[size_t(v)]; };
  float* const scratch = arena + p.scratch_offset;
  cpu::nchw_to_nhwc(images, n, in_channels_, p.height * p.width, at(input()));
  for (const Step& s : steps_) {
    const ValueShape& in = p.shapes[size_t(s.x)];
    const ValueShape& o = p.shapes[size_t(s.out)];
    if (s.kind == Kind::winograd) {
      cpu::conv_winograd(conv_shape(s.conv, n, in), at(s.x), s.conv.weight.data(),
                         s.conv.bias.data(), s.residual == kNoValue ? nullptr : at(s.residual),
                         s.relu, at(s.out), scratch, p.threads);
    } else if (s.kind == Kind::conv) {
      cpu::conv_nhwc(conv_shape(s.conv, n, in), at(s.x), s.conv.weight.data(), s.conv.bias.data(),
                     s.residual == kNoValue ? nullptr : at(s.residual), s.relu, at(s.out), scratch,
                     p.threads);
    } else {
      const FoldedConv& w = s.conv;
      cpu::max_pool_nhwc(at(s.x), n, in.channels,
                         kernels::fixed_axis(in.height, o.height, w.kernel, w.stride, w.padding),
                         kernels::fixed_axis(in.width, o.width, w.kernel, w.stride, w.padding),
                         at(s.out));
    }
  }
  const ValueShape& f = p.shapes[size_t(head_input_)];
  run_head(head_, at(head_input_), n, f.height * f.width, scratch, out);
}

}  // namespace dml::inference
