#include "dml/train/finite_values.h"

#include <cmath>

#include "base/error.h"

namespace dml::train {

int64_t first_nonfinite(const Tensor& t) {
  if (!is_floating(t.dtype())) return -1;
  const std::vector<double> values = t.to(Device::cpu()).to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return int64_t(i);
  return -1;
}

void check_finite_weights(const NamedTensors& weights, const std::string& source) {
  for (const auto& [name, tensor] : weights) {
    const int64_t at = first_nonfinite(tensor);
    DML_CHECK(at < 0, source, ": weight '", name, "' holds a non-finite value (element ", at,
              " of ", describe(tensor),
              "); the run that wrote it diverged: resume from an earlier checkpoint or retrain "
              "with a lower optimizer.lr");
  }
}

void check_finite_embeddings(const Tensor& embeddings, const std::string& what) {
  const int64_t at = first_nonfinite(embeddings);
  DML_CHECK(at < 0, what, ": embedding row ", at / std::max<int64_t>(1, embeddings.size(1)),
            " is not finite (NaN or infinity); nothing was written");
}

}  // namespace dml::train
