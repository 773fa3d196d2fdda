// The C API's index functions: arguments, search results beyond the rows
// held, all-or-nothing adds, save and load, hostile index files, and a save
// that fails keeping the file it would replace.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "api/dml.h"
#include "engine/safetensors.h"
#include "tests/api/c_api_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

constexpr int64_t kNoId = -77;

dml_index* make_index(dml_metric metric = DML_METRIC_L2) {
  dml_index* index = nullptr;
  EXPECT_EQ(dml_index_create(2, metric, &index), DML_OK) << dml_last_error();
  // Rows (0,0) id 10, (1,0) id 11, (0,3) id 12.
  const float vectors[] = {0, 0, 1, 0, 0, 3};
  const int64_t ids[] = {10, 11, 12};
  EXPECT_EQ(dml_index_add(index, vectors, ids, 3), DML_OK) << dml_last_error();
  return index;
}

TEST(CApiIndex, SearchFindsTheNearestAndPadsBeyondTheRowsHeld) {
  dml_index* index = make_index();
  int64_t size = 0, dim = 0;
  dml_metric metric = DML_METRIC_COSINE;
  ASSERT_EQ(dml_index_size(index, &size), DML_OK);
  ASSERT_EQ(dml_index_dim(index, &dim), DML_OK);
  ASSERT_EQ(dml_index_metric(index, &metric), DML_OK);
  EXPECT_EQ(size, 3);
  EXPECT_EQ(dim, 2);
  EXPECT_EQ(metric, DML_METRIC_L2);
  const float queries[] = {0.9f, 0, 0, 2};
  std::vector<int64_t> ids(2 * 5, kNoId);
  std::vector<float> distances(2 * 5, kSentinel);
  ASSERT_EQ(dml_index_search(index, queries, 2, 5, ids.data(), distances.data()), DML_OK)
      << dml_last_error();
  EXPECT_EQ(ids, (std::vector<int64_t>{11, 10, 12, -1, -1, 12, 10, 11, -1, -1}));
  EXPECT_NEAR(distances[0], 0.01f, 1e-5f);
  EXPECT_NEAR(distances[1], 0.81f, 1e-5f);
  EXPECT_NEAR(distances[5], 1.0f, 1e-5f);
  EXPECT_EQ(distances[3], std::numeric_limits<float>::infinity());
  EXPECT_EQ(distances[9], std::numeric_limits<float>::infinity());
  dml_index_close(index);
  dml_index_close(nullptr);
}

TEST(CApiIndex, CosineDistancesAreOneMinusCosine) {
  dml_index* index = make_index(DML_METRIC_COSINE);
  const float query[] = {0, 5};
  int64_t id = kNoId;
  float distance = kSentinel;
  ASSERT_EQ(dml_index_search(index, query, 1, 1, &id, &distance), DML_OK) << dml_last_error();
  EXPECT_EQ(id, 12);
  EXPECT_NEAR(distance, 0.0f, 1e-6f);
  dml_index_close(index);
}

TEST(CApiIndex, ArgumentsAreChecked) {
  dml_index* index = reinterpret_cast<dml_index*>(0x1);
  expect_failure(dml_index_create(0, DML_METRIC_L2, &index), DML_ERROR_INVALID_ARGUMENT, "dim");
  expect_failure(dml_index_create(2, dml_metric(7), &index), DML_ERROR_INVALID_ARGUMENT, "metric");
  expect_failure(dml_index_create(2, DML_METRIC_L2, nullptr), DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_load(nullptr, &index), DML_ERROR_INVALID_ARGUMENT, "path");
  EXPECT_EQ(index, reinterpret_cast<dml_index*>(0x1));

  index = make_index();
  const float row[] = {1, 1};
  const int64_t id = 5;
  expect_failure(dml_index_add(nullptr, row, &id, 1), DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_add(index, nullptr, &id, 1), DML_ERROR_INVALID_ARGUMENT, "vectors");
  expect_failure(dml_index_add(index, row, nullptr, 1), DML_ERROR_INVALID_ARGUMENT, "ids");
  expect_failure(dml_index_add(index, row, &id, SIZE_MAX), DML_ERROR_INVALID_ARGUMENT, "count");

  std::vector<int64_t> ids(4, kNoId);
  std::vector<float> distances(4, kSentinel);
  expect_failure(dml_index_search(nullptr, row, 1, 4, ids.data(), distances.data()),
                 DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_search(index, row, 1, 0, ids.data(), distances.data()),
                 DML_ERROR_INVALID_ARGUMENT, "k");
  expect_failure(dml_index_search(index, nullptr, 1, 4, ids.data(), distances.data()),
                 DML_ERROR_INVALID_ARGUMENT, "queries");
  expect_failure(dml_index_search(index, row, 1, 4, nullptr, distances.data()),
                 DML_ERROR_INVALID_ARGUMENT, "ids");
  expect_failure(dml_index_search(index, row, 1, 4, ids.data(), nullptr),
                 DML_ERROR_INVALID_ARGUMENT, "distances");
  const float nan_query[] = {std::nanf(""), 0};
  EXPECT_EQ(dml_index_search(index, nan_query, 1, 4, ids.data(), distances.data()),
            DML_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dml_last_error()), "");
  EXPECT_TRUE(all_sentinel(ids, kNoId));
  EXPECT_TRUE(all_sentinel(distances, kSentinel));

  int64_t value = kNoId;
  dml_metric metric = dml_metric(9);
  expect_failure(dml_index_size(nullptr, &value), DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_size(index, nullptr), DML_ERROR_INVALID_ARGUMENT, "size");
  expect_failure(dml_index_dim(nullptr, &value), DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_dim(index, nullptr), DML_ERROR_INVALID_ARGUMENT, "dim");
  expect_failure(dml_index_metric(nullptr, &metric), DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_metric(index, nullptr), DML_ERROR_INVALID_ARGUMENT, "metric");
  EXPECT_EQ(value, kNoId);
  EXPECT_EQ(metric, dml_metric(9));
  expect_failure(dml_index_save(nullptr, "x"), DML_ERROR_INVALID_ARGUMENT, "index");
  expect_failure(dml_index_save(index, nullptr), DML_ERROR_INVALID_ARGUMENT, "path");
  dml_index_close(index);
}

TEST(CApiIndex, AFailedAddAddsNothing) {
  dml_index* index = make_index();
  const float rows[] = {1, 1, 2, std::numeric_limits<float>::infinity()};
  const int64_t good_ids[] = {1, 2}, bad_ids[] = {1, -4};
  const float finite[] = {1, 1, 2, 2};
  EXPECT_EQ(dml_index_add(index, rows, good_ids, 2), DML_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(dml_index_add(index, finite, bad_ids, 2), DML_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dml_last_error()), "");
  int64_t size = 0;
  ASSERT_EQ(dml_index_size(index, &size), DML_OK);
  EXPECT_EQ(size, 3);
  EXPECT_EQ(dml_index_add(index, nullptr, nullptr, 0), DML_OK) << "adding nothing is no error";
  dml_index_close(index);
}

TEST(CApiIndex, SaveAndLoadKeepEveryRow) {
  TempDir dir;
  dml_index* index = make_index(DML_METRIC_COSINE);
  const std::string path = dir.file("gallery.safetensors");
  ASSERT_EQ(dml_index_save(index, path.c_str()), DML_OK) << dml_last_error();
  dml_index* loaded = nullptr;
  ASSERT_EQ(dml_index_load(path.c_str(), &loaded), DML_OK) << dml_last_error();
  int64_t size = 0;
  dml_metric metric = DML_METRIC_L2;
  ASSERT_EQ(dml_index_size(loaded, &size), DML_OK);
  ASSERT_EQ(dml_index_metric(loaded, &metric), DML_OK);
  EXPECT_EQ(size, 3);
  EXPECT_EQ(metric, DML_METRIC_COSINE);
  const float query[] = {1, 0.1f};
  std::vector<int64_t> a(3), b(3);
  std::vector<float> da(3), db(3);
  ASSERT_EQ(dml_index_search(index, query, 1, 3, a.data(), da.data()), DML_OK);
  ASSERT_EQ(dml_index_search(loaded, query, 1, 3, b.data(), db.data()), DML_OK);
  EXPECT_EQ(a, b);
  EXPECT_EQ(da, db);
  dml_index_close(index);
  dml_index_close(loaded);
}

TEST(CApiIndex, HostileIndexFilesAreRefused) {
  TempDir dir;
  dml_index* index = make_index();
  const std::string good = dir.file("good.safetensors");
  ASSERT_EQ(dml_index_save(index, good.c_str()), DML_OK);
  dml_index_close(index);
  const std::string bytes = read_text(good);
  dml_index* loaded = reinterpret_cast<dml_index*>(0x1);
  for (size_t keep : {size_t(0), size_t(7), size_t(40), bytes.size() - 1}) {
    const std::string path = dir.file("cut" + std::to_string(keep));
    write_text(path, bytes.substr(0, keep));
    expect_failure(dml_index_load(path.c_str(), &loaded), DML_ERROR_FORMAT, path);
  }
  write_safetensors(dir.file("model"), {{"vectors", zeros({1, 2})}}, {{"format", "dml-model-1"}});
  expect_failure(dml_index_load(dir.file("model").c_str(), &loaded), DML_ERROR_FORMAT, "model");
  expect_failure(dml_index_load(dir.file("none").c_str(), &loaded), DML_ERROR_IO, "none");
  expect_failure(dml_index_load(dir.file("").c_str(), &loaded), DML_ERROR_IO, "regular file");
  EXPECT_EQ(loaded, reinterpret_cast<dml_index*>(0x1));
}

// A save that cannot finish (its temporary file's name taken by a directory)
// is an I/O error and leaves the file it would replace whole.
TEST(CApiIndex, AFailedSaveKeepsTheOldFile) {
  TempDir dir;
  dml_index* index = make_index();
  const std::string path = dir.file("gallery.safetensors");
  ASSERT_EQ(dml_index_save(index, path.c_str()), DML_OK);
  const std::string before = read_text(path);
  std::filesystem::create_directories(path + ".tmp");
  const float row[] = {5, 5};
  const int64_t id = 99;
  ASSERT_EQ(dml_index_add(index, row, &id, 1), DML_OK);
  expect_failure(dml_index_save(index, path.c_str()), DML_ERROR_IO, path);
  EXPECT_EQ(read_text(path), before);
  expect_failure(dml_index_save(index, dir.file("no/such/dir/x").c_str()), DML_ERROR_IO, "x");
  dml_index_close(index);
}

}  // namespace
}  // namespace dml::test
