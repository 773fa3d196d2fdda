#include "layers/inference_model.h"

#include <omp.h>

#include <cmath>
#include <map>

#include "engine/inference/network.h"
#include "engine/inference/workspace_pool.h"
#include "layers/resnet_config.h"

namespace dml::nn {

namespace {

using inference::FoldedConv;
using inference::kNoValue;
using inference::ValueId;

// Batch norm's epsilon in every ResNet and embedding head (layers/batch_norm.h,
// layers/simple.h).
constexpr double kNormEps = 1e-5;

// The exported tensors by name; each read checks presence, dtype, shape and
// finiteness, and names the tensor when one fails.
class Weights {
 public:
  explicit Weights(const NamedTensors& tensors) {
    for (const auto& [name, t] : tensors) by_name_[name] = &t;
  }

  std::vector<float> read(const std::string& name, const Shape& shape) const {
    const auto it = by_name_.find(name);
    DML_CHECK(it != by_name_.end(), "inference model: tensor '", name,
              "' is missing; the weights do not match the architecture (expected shape ",
              shape_str(shape), ")");
    const Tensor& t = *it->second;
    DML_CHECK(t.dtype() == DType::f32, "inference model: tensor '", name, "' is ", describe(t),
              "; it must be f32");
    DML_CHECK(t.shape() == shape, "inference model: tensor '", name, "' has shape ",
              shape_str(t.shape()), ", expected ", shape_str(shape),
              "; the weights do not match the architecture");
    std::vector<float> v =
        t.device().is_cpu() ? t.to_vector<float>() : t.to(Device::cpu()).to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i)
      DML_CHECK(std::isfinite(v[i]), "inference model: tensor '", name, "' holds ", v[i],
                " at element ", i, "; every weight must be finite");
    return v;
  }

 private:
  std::map<std::string, const Tensor*> by_name_;
};

// Convolution `conv` ([O, C, k, k]) with the batch norm `bn` after it folded
// in, laid out as [k * k * C, O] with rows in (ky, kx, c) order (NHWC im2col).
FoldedConv fold(const Weights& w, const std::string& conv, const std::string& bn, int64_t in,
                int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  const std::vector<float> weight = w.read(conv + ".weight", {out, in, kernel, kernel});
  const std::vector<float> gamma = w.read(bn + ".weight", {out});
  const std::vector<float> beta = w.read(bn + ".bias", {out});
  const std::vector<float> mean = w.read(bn + ".running_mean", {out});
  const std::vector<float> var = w.read(bn + ".running_var", {out});
  FoldedConv f;
  f.in_channels = in;
  f.out_channels = out;
  f.kernel = kernel;
  f.stride = stride;
  f.padding = padding;
  f.weight.resize(size_t(kernel * kernel * in * out));
  f.bias.resize(size_t(out));
  for (int64_t o = 0; o < out; ++o) {
    DML_CHECK(var[size_t(o)] >= 0, "inference model: tensor '", bn, ".running_var' holds ",
              var[size_t(o)], " at element ", o, "; a variance cannot be negative");
    const double scale = double(gamma[size_t(o)]) / std::sqrt(double(var[size_t(o)]) + kNormEps);
    f.bias[size_t(o)] = float(double(beta[size_t(o)]) - double(mean[size_t(o)]) * scale);
    for (int64_t c = 0; c < in; ++c)
      for (int64_t t = 0; t < kernel * kernel; ++t)
        f.weight[size_t((t * in + c) * out + o)] =
            float(double(weight[size_t((o * in + c) * kernel * kernel + t)]) * scale);
  }
  return f;
}

inference::Pooling pooling(GlobalPool p) {
  switch (p) {
    case GlobalPool::max:
      return inference::Pooling::max;
    case GlobalPool::average_plus_max:
      return inference::Pooling::average_plus_max;
    case GlobalPool::average:
      break;
  }
  return inference::Pooling::average;
}

inference::EmbeddingHead head(const Weights& w, const InferenceArchitecture& a, int64_t features) {
  inference::EmbeddingHead h;
  h.pooling = pooling(a.pool);
  if (a.layer_norm) {
    h.norm_weight = w.read("head.norm.weight", {features});
    h.norm_bias = w.read("head.norm.bias", {features});
    h.norm_eps = float(kNormEps);
  }
  const std::vector<float> fc = w.read("head.fc.weight", {a.embedding_dim, features});
  h.weight.resize(fc.size());
  for (int64_t d = 0; d < a.embedding_dim; ++d)
    for (int64_t f = 0; f < features; ++f)
      h.weight[size_t(f * a.embedding_dim + d)] = fc[size_t(d * features + f)];
  h.bias = w.read("head.fc.bias", {a.embedding_dim});
  h.normalize = a.normalize;
  return h;
}

// One residual block of a ResNet (torchvision's layout): its convolutions
// with their batch norms folded, the shortcut (a strided 1x1 projection when
// the shape changes) added with the ReLU in the last convolution's epilogue.
ValueId block(inference::Network& net, const Weights& w, const std::string& p, ValueId x,
              int64_t in, int64_t planes, int64_t stride, BlockKind kind) {
  const int64_t expansion = kind == BlockKind::basic ? 1 : 4, out = planes * expansion;
  ValueId shortcut = x;
  if (stride != 1 || in != out)
    shortcut = net.conv(p + "downsample", x,
                        fold(w, p + "downsample.0", p + "downsample.1", in, out, 1, stride, 0),
                        kNoValue, false);
  if (kind == BlockKind::basic) {
    const ValueId h = net.conv(
        p + "conv1", x, fold(w, p + "conv1", p + "bn1", in, planes, 3, stride, 1), kNoValue, true);
    return net.conv(p + "conv2", h, fold(w, p + "conv2", p + "bn2", planes, planes, 3, 1, 1),
                    shortcut, true);
  }
  ValueId h = net.conv(p + "conv1", x, fold(w, p + "conv1", p + "bn1", in, planes, 1, 1, 0),
                       kNoValue, true);
  h = net.conv(p + "conv2", h, fold(w, p + "conv2", p + "bn2", planes, planes, 3, stride, 1),
               kNoValue, true);
  return net.conv(p + "conv3", h, fold(w, p + "conv3", p + "bn3", planes, out, 1, 1, 0), shortcut,
                  true);
}

inference::Network build(const InferenceArchitecture& a, const NamedTensors& tensors) {
  const ResNetConfig c = resnet_config(a.backbone);
  DML_CHECK(a.in_channels > 0 && a.embedding_dim > 0, "inference model: ", a.in_channels,
            " input channels and embedding size ", a.embedding_dim, "; both must be positive");
  const Weights w(tensors);
  inference::Network net(a.in_channels);
  const int64_t stem = c.small_stem ? 3 : 7;
  ValueId h = net.conv("backbone.conv1", inference::Network::input(),
                       fold(w, "backbone.conv1", "backbone.bn1", a.in_channels, c.widths[0], stem,
                            c.small_stem ? 1 : 2, c.small_stem ? 1 : 3),
                       kNoValue, true);
  if (!c.small_stem) h = net.max_pool("backbone.maxpool", h, 3, 2, 1);
  int64_t in = c.widths[0];
  const int64_t expansion = c.block == BlockKind::basic ? 1 : 4;
  for (size_t s = 0; s < c.depths.size(); ++s)
    for (int64_t b = 0; b < c.depths[s]; ++b) {
      const std::string prefix =
          "backbone.layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
      h = block(net, w, prefix, h, in, c.widths[s], s > 0 && b == 0 ? 2 : 1, c.block);
      in = c.widths[s] * expansion;
    }
  net.head(h, head(w, a, in));
  return net;
}

}  // namespace

struct InferenceModel::Impl {
  Impl(const InferenceArchitecture& a, const NamedTensors& weights)
      : architecture(a), network(build(a, weights)), pool(network) {}
  InferenceArchitecture architecture;
  inference::Network network;
  inference::WorkspacePool pool;
};

InferenceModel::InferenceModel(const InferenceArchitecture& architecture,
                               const NamedTensors& weights)
    : impl_(std::make_unique<Impl>(architecture, weights)) {}
InferenceModel::~InferenceModel() = default;
InferenceModel::InferenceModel(InferenceModel&&) noexcept = default;
InferenceModel& InferenceModel::operator=(InferenceModel&&) noexcept = default;

const InferenceArchitecture& InferenceModel::architecture() const {
  return impl_->architecture;
}

int64_t InferenceModel::embedding_dim() const {
  return impl_->architecture.embedding_dim;
}

void InferenceModel::embed(const float* images, int64_t n, int64_t height, int64_t width,
                           float* out) const {
  DML_CHECK(n >= 1 && height >= 1 && width >= 1, "InferenceModel::embed: ", n, " images of ",
            height, " x ", width, " px; the count and both sizes must be at least 1");
  DML_CHECK(images && out, "InferenceModel::embed: null ", images ? "output" : "image", " pointer");
  auto workspace = impl_->pool.lease(n, height, width, omp_get_max_threads());
  impl_->network.run(workspace->plan, workspace->arena.get(), images, out);
}

int64_t InferenceModel::workspace_bytes() const {
  return impl_->pool.bytes();
}

}  // namespace dml::nn
