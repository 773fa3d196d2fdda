// The install test's model (deploy_fixture.h) is put together without the
// trainer in the light build; here the trainer checks it as its own: a
// config its resolver accepts unchanged, a file its loader reads strictly.
#include <gtest/gtest.h>

#include "dml/train/config.h"
#include "dml/train/model_factory.h"
#include "tests/api/deploy_fixture.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

TEST(DeployFixture, ConfigIsTheTrainersWithEveryKeySet) {
  const Json fixture = test::deploy_model_config();
  const Json resolved = train::resolve_config(fixture, {}, "deploy fixture");
  for (const char* section : {"model", "augment"}) {
    EXPECT_EQ(fixture[section].size(), train::default_config()[section].size()) << section;
    EXPECT_EQ(resolved[section], fixture[section]) << section;
  }
  EXPECT_NO_THROW(train::typed_config(resolved));
}

TEST(DeployFixture, TrainerLoadsTheModelStrictly) {
  test::TempDir dir;
  test::write_deploy_model(dir.file("model.safetensors"));
  const train::TrainedModel loaded = train::load_trained_model(dir.file("model.safetensors"), {});
  EXPECT_EQ(loaded.typed.model.embedding_dim, 16);
}

}  // namespace
}  // namespace dml
