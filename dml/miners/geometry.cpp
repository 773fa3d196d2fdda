#include "dml/miners/geometry.h"

#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::miners {

namespace {

HostMatrix to_host(const Tensor& m) {
  return {m.size(0), m.to(DType::f64).to_vector<double>()};
}

Tensor host_f64(const Tensor& e) {
  return e.detach().to(Device::cpu()).to(DType::f64);
}

}  // namespace

Tensor cosine_similarities(const Tensor& a, const Tensor& b) {
  return matmul(l2_normalize(a), transpose(l2_normalize(b), -2, -1));
}

Tensor sphere_distances(const Tensor& e) {
  Tensor x = l2_normalize(e, 1);
  return pairwise_distance(x, x, Distance::euclidean);
}

// Normalising e once per side costs O(B D), nothing next to the product.
Tensor sphere_similarities(const Tensor& e) {
  return cosine_similarities(e, e);
}

HostMatrix host_sphere_distances(const Tensor& e) {
  NoGradGuard no_grad;
  return to_host(sphere_distances(host_f64(e)));
}

HostMatrix host_sphere_similarities(const Tensor& e) {
  NoGradGuard no_grad;
  return to_host(sphere_similarities(host_f64(e)));
}

}  // namespace dml::miners
