#include "dml/losses/triplet.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor TripletLoss::tuple_loss(const Tensor& embeddings, const miners::Labels&,
                               const miners::Triplets& t, AnchorRows rows) {
  if (t.size() == 0) return zero_loss(embeddings, *this);
  Tensor d = sphere_distances(embeddings, rows);
  Tensor d_ap = pick(d, t.anchor, t.positive, rows.begin);
  Tensor d_an = pick(d, t.anchor, t.negative, rows.begin);
  return mean_of_positive(relu(d_ap - d_an + params_.margin));
}

std::string TripletLoss::describe() const {
  return describe_params(kName, {{"margin", params_.margin}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const TripletParams triplet;
  return LossEntry{
      TripletLoss::kName,
      LossKind::tuple,
      "Schroff et al. 2015: [d(a,p) - d(a,n) + margin]_+ over triplets",
      {ParamSpec::non_negative("margin", triplet.margin, "required gap d(a,n) - d(a,p)")},
      [](const LossContext&, const LossParams& p) {
        return std::make_unique<TripletLoss>(TripletParams{p.at("margin")});
      }};
}());

}  // namespace

}  // namespace dml::losses
