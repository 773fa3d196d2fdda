// PARADE's parts: the decorrelation loss's value and gradients (finite
// differences, and the reversal's exact sign flip), the attribute branch's
// shapes and directions, its config section.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "dml/train/config.h"
#include "fairness/parade.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml::fairness {
namespace {

Tensor leaf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, DType::f64, &gen).requires_grad_();
}

std::vector<double> row_normalized(const std::vector<double>& x, int64_t rows, int64_t cols) {
  std::vector<double> out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double norm = 0;
    for (int64_t c = 0; c < cols; ++c) norm += x[size_t(r * cols + c)] * x[size_t(r * cols + c)];
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(r * cols + c)] = x[size_t(r * cols + c)] / std::sqrt(norm);
  }
  return out;
}

TEST(Decorrelation, ValueIsMinusRhoTimesMeanSquaredCorrelation) {
  manual_seed(1);
  Projector xi(3, 5, 4);
  xi.to(DType::f64);
  Tensor target = leaf({6, 4}, 2), source = leaf({6, 3}, 3);
  const double rho = 0.7;
  Tensor loss = decorrelation_loss(target, source, xi, rho);

  NoGradGuard no_grad;
  std::vector<double> u = row_normalized(target.to_vector<double>(), 6, 4);
  Tensor v = from_vector(row_normalized(source.to_vector<double>(), 6, 3), {6, 3});
  std::vector<double> p = row_normalized(xi(v).to_vector<double>(), 6, 4);
  double sum = 0;
  for (size_t i = 0; i < u.size(); ++i) sum += (u[i] * p[i]) * (u[i] * p[i]);
  EXPECT_NEAR(loss.item(), -rho * sum / 24.0, 1e-14);
}

TEST(Decorrelation, GradientsMatchFiniteDifferencesAndReversalFlipsOnlyTheEmbeddings) {
  manual_seed(4);
  Projector xi(3, 5, 4);
  xi.to(DType::f64);
  Tensor target = leaf({5, 4}, 5), source = leaf({5, 3}, 6);
  std::vector<Tensor> leaves = {target, source};
  for (const Tensor& p : xi.parameters()) leaves.push_back(p);
  // lambda = -1 makes the reversal an identity in backward: the plain gradient.
  test::expect_gradients_match([&] { return decorrelation_loss(target, source, xi, 1.3, -1); },
                               leaves, "L_adv without reversal");
  std::vector<Tensor> plain;
  for (const Tensor& t : leaves) plain.push_back(t.grad().clone());

  for (const Tensor& t : leaves) t.zero_grad();
  decorrelation_loss(target, source, xi, 1.3, 2.0).backward();
  test::expect_tensor_near(target.grad(), plain[0] * -2.0, 1e-15, 1e-12, "reversed target");
  test::expect_tensor_near(source.grad(), plain[1] * -2.0, 1e-15, 1e-12, "reversed source");
  for (size_t i = 2; i < leaves.size(); ++i)
    test::expect_tensor_near(leaves[i].grad(), plain[i], 1e-15, 1e-12, "projector (not reversed)");
}

TEST(Decorrelation, RhoZeroIsTheBaseline) {
  manual_seed(7);
  Projector xi(2, 3, 2);
  Tensor loss = decorrelation_loss(randn({4, 2}).requires_grad_(), randn({4, 2}), xi, 0.0);
  EXPECT_EQ(loss.item(), 0.0);
}

TEST(AttributeBranch, HeadAndProjectorsFollowTheDirection) {
  manual_seed(8);
  nn::EmbeddingHeadConfig class_head{.in_features = 6, .embedding_dim = 5};
  Tensor features = randn({4, 6, 3, 3}), class_embedding = randn({4, 5});
  for (auto [direction, projectors] :
       std::vector<std::pair<Direction, size_t>>{{Direction::attribute_to_class, 4},
                                                 {Direction::class_to_attribute, 4},
                                                 {Direction::both, 8}}) {
    AttributeBranch branch(
        {.attribute = "tone", .embedding_dim = 3, .direction = direction, .projector_hidden = 7},
        class_head);
    Tensor v = branch(features);
    EXPECT_EQ(v.shape(), (Shape{4, 3}));
    EXPECT_EQ(branch.projector_parameters().size(), projectors);
    EXPECT_EQ(branch.head_parameters().size(), 2u);
    EXPECT_LE(branch.decorrelation(class_embedding, v).item(), 0.0);
  }
  test::expect_error([] { parse_direction("sideways"); }, {"sideways", "attribute_to_class"});
}

// parade.per_attribute (fairness/parade_section.cpp) holds an object per
// attribute; settings for one attribute from a file and from each override
// add up rather than replace each other (their names are PARADE's to check,
// see test_parade_e2e).
TEST(TrainConfig, PerAttributeSettingsAddUp) {
  const Json user = Json::parse(R"({"parade": {"per_attribute": {"tone": {"alpha": 0.5}}}})");
  const Json c = train::resolve_config(
      user,
      {"parade.per_attribute.tone.rho=0.25", "parade.per_attribute.tone.embedding_dim=16",
       "parade.per_attribute.age.rho=2"},
      "run.json");
  EXPECT_EQ(c["parade"]["per_attribute"],
            Json::parse(R"({"tone": {"alpha": 0.5, "rho": 0.25, "embedding_dim": 16},
                            "age": {"rho": 2}})"));
  test::expect_error(
      [] { train::resolve_config(Json::object(), {"parade.per_attribute.tone=0.5"}, "x"); },
      {"'parade.per_attribute.tone' must be an object of settings, e.g. {\"rho\": 0.5}, got 0.5"});
}

// The bundled configs, the findml ones with a parade section, as the dml
// tool (which links PARADE) reads them.
TEST(TrainConfig, BundledConfigsResolve) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DML_SOURCE_DIR "/configs")) {
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    train::TrainConfig t =
        train::typed_config(train::resolve_config(train::read_config_file(path), {}, path));
    EXPECT_GE(t.run.epochs, 1);
    ++count;
  }
  EXPECT_GE(count, 4);
}

// Where config.json files have always had it.
TEST(TrainConfig, ParadeSectionSitsBeforeEval) {
  const Json config = train::default_config();
  std::vector<std::string> sections;
  for (const auto& [key, value] : config.items()) sections.push_back(key);
  EXPECT_EQ(sections, (std::vector<std::string>{"data", "model", "loss", "optimizer", "augment",
                                                "train", "distributed", "parade", "eval"}));
}

}  // namespace
}  // namespace dml::fairness
