#pragma once
// The Tensor ops API. Each op checks its arguments (errors name the op and the
// shapes), dispatches on device and dtype to a kernel in kernels/, and records
// its backward rule with record(). Grouped by family; each family's
// implementation is one file in engine/ops/.
#include <optional>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dml {

// ---- elementwise (engine/ops/elementwise.cpp); binary ops broadcast ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor pow(const Tensor& a, double exponent);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
// Bounds are optional; the gradient passes where min <= x <= max.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
// sqrt(max(x, 0)) with gradient 0 where x <= 0: distances without NaN at 0.
Tensor safe_sqrt(const Tensor& x);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond: u8, broadcasts

// Comparisons return u8 (0/1) and record no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);

// ---- reductions (engine/ops/reduce.cpp); empty dims = all dims ----
Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor amax(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor logsumexp(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
// correction = 1 gives the unbiased estimate (PyTorch's default).
Tensor var(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false,
           int64_t correction = 1);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // i64, no grad
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- shape (engine/ops/shape.cpp) ----
Tensor expand(const Tensor& x, const Shape& shape);  // broadcast copy
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& perm);
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);  // copy

// ---- indexing (engine/ops/index.cpp); indices are i64 ----
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype = DType::f32);
// k largest (or smallest) along dim, sorted; no gradient.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true);

// ---- linear algebra (engine/ops/linalg.cpp; CPU and CUDA, f32 and f64) ----
// matmul, linear and conv2d also take bf16 operands (f32 accumulation, the
// result rounded to bf16 once), and compute in bf16 on f32 operands under an
// AutocastGuard (engine/autocast.h).
// [m,k]x[k,n], or batched [b,m,k]x[b,k,n] where a 2-D operand broadcasts.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});  // x W^T + b

// ---- softmax family (engine/ops/softmax.cpp) ----
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// logits [N, C], targets i64 [N]; mean over N, label smoothing as PyTorch.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, double label_smoothing = 0);

// ---- metric-learning geometry (engine/ops/distance.cpp) ----
Tensor l2_normalize(const Tensor& x, int64_t dim = -1, double eps = 1e-12);
enum class Distance { squared_euclidean, euclidean, cosine };  // cosine: 1 - cos
Tensor pairwise_distance(const Tensor& a, const Tensor& b, Distance kind);

// ---- convolution, normalisation, pooling (engine/ops/conv2d.cpp, batch_norm.cpp,
//      layer_norm.cpp, pool2d.cpp) ----
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  static Conv2dOptions square(int64_t stride, int64_t pad, int64_t dilation = 1,
                              int64_t groups = 1) {
    return {stride, stride, pad, pad, dilation, dilation, groups};
  }
};
// x [N, C, H, W], weight [O, C / groups, KH, KW], bias [O] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const Conv2dOptions& opt = {});

// Training: normalises with batch statistics and updates running_mean and
// running_var in place (unbiased variance, as PyTorch). Eval: uses them.
// weight and bias may be undefined (no affine transform). x (and
// batch_norm2d_relu's residual) may be bf16 with f32 parameters and running
// statistics: the arithmetic is f32 and each output element is rounded to
// bf16 once (autocast's activations); x's gradient is bf16, the parameters'
// f32.
Tensor batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    double momentum = 0.1, double eps = 1e-5);
// relu(batch_norm2d(x, ...) + residual) in one pass, residual (x's shape)
// optional: a ResNet block's bn-relu and its last bn-add-relu. Same checks and
// running-statistics update as batch_norm2d; outputs and gradients equal the
// composite's bit for bit on each backend (the ReLU's derivative at 0 is 0,
// as relu's). Keeps x and the output for the backward; bn(x) and
// bn(x) + residual, which the composite writes and reads back whole, are
// never materialised.
Tensor batch_norm2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& running_mean, const Tensor& running_var, bool training,
                         double momentum = 0.1, double eps = 1e-5, const Tensor& residual = {});

// Normalises over the last dim (size C) with the biased variance, then
// scales and shifts by weight [C] and bias [C] when defined (PyTorch's
// LayerNorm over one dim).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

// The pools take f32, f64 and bf16 (compared and summed in f32, each result
// rounded once).
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
// count_include_pad as PyTorch's default.
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor adaptive_max_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// ---- regularisation and adversarial training (engine/ops/dropout.cpp, gradient_reversal.cpp) ----
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);
// Identity forward; backward multiplies the gradient by -lambda.
Tensor gradient_reversal(const Tensor& x, double lambda = 1);

}  // namespace dml
