#include "dml/losses/registry.h"

#include <numbers>

#include "dml/losses/arcface.h"
#include "dml/losses/circle.h"
#include "dml/losses/contrastive.h"
#include "dml/losses/cosface.h"
#include "dml/losses/histogram.h"
#include "dml/losses/lifted_structure.h"
#include "dml/losses/margin.h"
#include "dml/losses/multi_similarity.h"
#include "dml/losses/normalized_softmax.h"
#include "dml/losses/npair.h"
#include "dml/losses/proxy_anchor.h"
#include "dml/losses/proxy_nca.h"
#include "dml/losses/snr_contrastive.h"
#include "dml/losses/softtriple.h"
#include "dml/losses/triplet.h"

namespace dml::losses {

namespace {

using P = ParamSpec;

std::vector<LossEntry> build_table() {
  const ContrastiveParams contrastive;
  const TripletParams triplet;
  const MarginParams margin;
  const MultiSimilarityParams ms;
  const LiftedStructureParams lifted;
  const NPairParams npair;
  const AngularParams angular;
  const CircleParams circle;
  const SnrContrastiveParams snr;
  const HistogramParams histogram;
  const ProxyNcaParams proxy_nca;
  const ProxyAnchorParams proxy_anchor;
  const NormalizedSoftmaxParams normalized_softmax;
  const ArcFaceParams arcface;
  const CosFaceParams cosface;
  const SoftTripleParams softtriple;
  return {
      {ContrastiveLoss::kName,
       LossKind::tuple,
       "Hadsell et al. 2006: hinge on positive and negative pair distances",
       {P::non_negative("pos_margin", contrastive.pos_margin, "positives closer cost nothing"),
        P::non_negative("neg_margin", contrastive.neg_margin, "negatives farther cost nothing")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<ContrastiveLoss>(
             ContrastiveParams{p.at("pos_margin"), p.at("neg_margin")});
       }},
      {TripletLoss::kName,
       LossKind::tuple,
       "Schroff et al. 2015: [d(a,p) - d(a,n) + margin]_+ over triplets",
       {P::non_negative("margin", triplet.margin, "required gap d(a,n) - d(a,p)")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<TripletLoss>(TripletParams{p.at("margin")});
       }},
      {MarginLoss::kName,
       LossKind::tuple,
       "Wu et al. 2017: pairs against a learnable boundary beta (lr multiplier 50)",
       {P::non_negative("margin", margin.margin, "alpha, half-width around beta"),
        P::non_negative("beta", margin.beta, "initial beta"),
        P::non_negative("nu", margin.nu, "weight of the beta regulariser"),
        P::flag("per_class_beta", margin.per_class_beta, "one beta per training class")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<MarginLoss>(
             MarginParams{p.at("margin"), p.at("beta"), p.at("nu"), p.at("per_class_beta") != 0},
             ctx.num_classes);
       }},
      {MultiSimilarityLoss::kName,
       LossKind::tuple,
       "Wang et al. 2019: soft weighting of positive and negative similarities",
       {P::positive("alpha", ms.alpha, "scale of positive similarities"),
        P::positive("beta", ms.beta, "scale of negative similarities"),
        P::real("base", ms.base, -1, 1, "similarity margin lambda")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<MultiSimilarityLoss>(
             MultiSimilarityParams{p.at("alpha"), p.at("beta"), p.at("base")});
       }},
      {LiftedStructureLoss::kName,
       LossKind::tuple,
       "Hermans et al. 2017: generalised lifted structure, log-sum-exp per anchor",
       {P::non_negative("margin", lifted.margin, "margin on negative distances")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<LiftedStructureLoss>(LiftedStructureParams{p.at("margin")});
       }},
      {NPairLoss::kName,
       LossKind::tuple,
       "Sohn 2016: softmax over one positive per class, L2 penalty",
       {P::non_negative("l2_reg", npair.l2_reg, "weight of mean squared embedding norm")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<NPairLoss>(NPairParams{p.at("l2_reg")});
       }},
      {AngularLoss::kName,
       LossKind::tuple,
       "Wang et al. 2017: angular loss in N-pair form, plus N-pair",
       {P::open_interval("alpha", angular.alpha, 0, 90, "angle bound in degrees"),
        P::non_negative("angular_weight", angular.angular_weight, "lambda on the angular term"),
        P::non_negative("l2_reg", angular.l2_reg, "weight of mean squared embedding norm")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<AngularLoss>(
             AngularParams{p.at("alpha"), p.at("angular_weight"), p.at("l2_reg")});
       }},
      {CircleLoss::kName,
       LossKind::tuple,
       "Sun et al. 2020: self-paced weighting of pair similarities",
       {P::real("m", circle.m, 0, 1, "relaxation margin"),
        P::positive("gamma", circle.gamma, "scale")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<CircleLoss>(CircleParams{p.at("m"), p.at("gamma")});
       }},
      {SnrContrastiveLoss::kName,
       LossKind::tuple,
       "Yuan et al. 2019: contrastive on the signal-to-noise-ratio distance",
       {P::non_negative("pos_margin", snr.pos_margin, "positives below cost nothing"),
        P::non_negative("neg_margin", snr.neg_margin, "negatives above cost nothing"),
        P::non_negative("zero_mean_reg", snr.zero_mean_reg, "weight of mean |sum of features|")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<SnrContrastiveLoss>(
             SnrContrastiveParams{p.at("pos_margin"), p.at("neg_margin"), p.at("zero_mean_reg")});
       }},
      {HistogramLoss::kName,
       LossKind::tuple,
       "Ustinova & Lempitsky 2016: overlap of positive and negative similarity histograms",
       {P::whole("num_bins", double(histogram.num_bins), 1, 10000, "bins over [-1, 1]")},
       [](const LossContext&, const LossParams& p) {
         return std::make_unique<HistogramLoss>(HistogramParams{int64_t(p.at("num_bins"))});
       }},
      {ProxyNcaLoss::kName,
       LossKind::proxy,
       "Movshovitz-Attias et al. 2017: NCA against one learnable proxy per class (lr multiplier "
       "50)",
       {P::positive("scale", proxy_nca.scale,
                    "radius of embeddings and proxies, an inverse temperature")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<ProxyNcaLoss>(ctx, ProxyNcaParams{p.at("scale")});
       }},
      {ProxyAnchorLoss::kName,
       LossKind::proxy,
       "Kim et al. 2020: each class proxy an anchor against the batch (lr multiplier 100)",
       {P::positive("alpha", proxy_anchor.alpha, "scale of the similarities"),
        P::real("delta", proxy_anchor.delta, 0, 1, "similarity margin")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<ProxyAnchorLoss>(ctx,
                                                  ProxyAnchorParams{p.at("alpha"), p.at("delta")});
       }},
      {NormalizedSoftmaxLoss::kName,
       LossKind::proxy,
       "Zhai & Wu 2019: cross-entropy over cosines to class weights / temperature",
       {P::positive("temperature", normalized_softmax.temperature, "divides the cosines")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<NormalizedSoftmaxLoss>(
             ctx, NormalizedSoftmaxParams{p.at("temperature")});
       }},
      {ArcFaceLoss::kName,
       LossKind::proxy,
       "Deng et al. 2019: cross-entropy with an additive angular margin on the target class",
       {P::positive("scale", arcface.scale, "s, the logit scale"),
        P::real("margin", arcface.margin, 0, std::numbers::pi / 2, "m, added angle in radians"),
        P::flag("easy_margin", arcface.easy_margin, "margin only where the angle is below pi/2")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<ArcFaceLoss>(
             ctx, ArcFaceParams{p.at("scale"), p.at("margin"), p.at("easy_margin") != 0});
       }},
      {CosFaceLoss::kName,
       LossKind::proxy,
       "Wang et al. 2018: cross-entropy with an additive cosine margin on the target class",
       {P::positive("scale", cosface.scale, "s, the logit scale"),
        P::real("margin", cosface.margin, 0, 1, "m, subtracted from the target cosine")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<CosFaceLoss>(ctx, CosFaceParams{p.at("scale"), p.at("margin")});
       }},
      {SoftTripleLoss::kName,
       LossKind::proxy,
       "Qian et al. 2019: cross-entropy over a softmax of K centers per class (lr multiplier 100)",
       {P::whole("centers_per_class", double(softtriple.centers_per_class), 1, 1000,
                 "K, centers of each class"),
        P::positive("la", softtriple.la, "lambda, the logit scale"),
        P::positive("gamma", softtriple.gamma, "softmax temperature over a class's centers"),
        P::non_negative("tau", softtriple.tau, "weight of the center regulariser"),
        P::non_negative("margin", softtriple.margin, "delta, subtracted from the target")},
       [](const LossContext& ctx, const LossParams& p) {
         return std::make_unique<SoftTripleLoss>(
             ctx, SoftTripleParams{int64_t(p.at("centers_per_class")), p.at("la"), p.at("gamma"),
                                   p.at("tau"), p.at("margin")});
       }},
  };
}

}  // namespace

const std::vector<LossEntry>& loss_table() {
  static const std::vector<LossEntry> table = build_table();
  return table;
}

std::vector<std::string> loss_names() {
  std::vector<std::string> names;
  for (const LossEntry& e : loss_table()) names.push_back(e.name);
  return names;
}

const LossEntry& loss_entry(const std::string& name) {
  for (const LossEntry& e : loss_table())
    if (e.name == name) return e;
  throw_unknown_name("loss", name, loss_names());
}

std::unique_ptr<Loss> make_loss(const std::string& name, const LossContext& ctx,
                                const LossParams& params) {
  const LossEntry& entry = loss_entry(name);
  return entry.make(ctx, resolve_params("loss", name, entry.params, params));
}

}  // namespace dml::losses
