// The C++ wrapper (dml.hpp): handles that own and move, errors that carry
// the status and message, results equal to the C calls'.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "api/dml.hpp"
#include "tests/api/c_api_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

static_assert(!std::is_copy_constructible_v<deploy::Model>);
static_assert(std::is_nothrow_move_constructible_v<deploy::Index>);

TEST(CApiWrapper, ModelEmbedsAsTheCCalls) {
  TempDir dir;
  write_tiny_model(dir.file("model.safetensors"), 3);
  const std::string image = dir.file("a.png");
  write_image(image, pattern_image(24, 30, 3));
  deploy::Model model(dir.file("model.safetensors"), {.num_threads = 1});
  EXPECT_EQ(model.embedding_dim(), kEmbeddingDim);
  EXPECT_STREQ(model.info().backbone, "small_resnet10");
  const std::vector<float> wrapped = model.embed_files({image, image});
  std::vector<float> direct(2 * kEmbeddingDim);
  const char* paths[] = {image.c_str(), image.c_str()};
  ASSERT_EQ(dml_embed_files(model.handle(), paths, 2, direct.data(), direct.size()), DML_OK);
  EXPECT_EQ(wrapped, direct);
  const deploy::Model moved = std::move(model);
  // A batch of one takes other GEMM blockings than a batch of two, so the
  // sums may round differently in the last place.
  const std::vector<float> single = moved.embed_files({image});
  ASSERT_EQ(single.size(), size_t(kEmbeddingDim));
  for (int64_t i = 0; i < kEmbeddingDim; ++i) EXPECT_NEAR(single[i], direct[i], 1e-6f) << i;
}

TEST(CApiWrapper, ErrorsCarryStatusAndMessage) {
  try {
    deploy::Model("/no/such/model.safetensors");
    FAIL() << "opened a missing file";
  } catch (const deploy::Error& e) {
    EXPECT_EQ(e.status(), DML_ERROR_IO);
    EXPECT_NE(std::string(e.what()).find("/no/such/model.safetensors"), std::string::npos);
  }
  deploy::Index index(2, DML_METRIC_L2);
  EXPECT_THROW(index.add({1, 2, 3}, {0, 1}), deploy::Error);
  try {
    index.add({1, 2}, {-1});
    FAIL() << "added a negative id";
  } catch (const deploy::Error& e) {
    EXPECT_EQ(e.status(), DML_ERROR_INVALID_ARGUMENT);
  }
}

TEST(CApiWrapper, IndexSearchesSavesAndLoads) {
  TempDir dir;
  deploy::Index index(2, DML_METRIC_L2);
  index.add({0, 0, 1, 0}, {7, 8});
  const deploy::SearchResults found = index.search({0.9f, 0, 0, 0.1f}, 3);
  EXPECT_EQ(found.count, 2u);
  EXPECT_EQ(found.ids, (std::vector<int64_t>{8, 7, -1, 7, 8, -1}));
  index.save(dir.file("index"));
  deploy::Index loaded = deploy::Index::load(dir.file("index"));
  EXPECT_EQ(loaded.size(), 2);
  EXPECT_EQ(loaded.dim(), 2);
  EXPECT_EQ(loaded.metric(), DML_METRIC_L2);
  deploy::Index other(3, DML_METRIC_COSINE);
  other = std::move(loaded);  // closes other's index, takes loaded's
  EXPECT_EQ(other.search({0.9f, 0}, 1).ids, (std::vector<int64_t>{8}));
}

}  // namespace
}  // namespace dml::test
