// The exact index (api/exact_index.h): results against a brute-force
// reference in double (ties to the row added first, ids rather than row
// numbers, -1 / +inf beyond the rows held), adds in parts, all-or-nothing
// adds, the file format (round trip bit for bit, each kind of hostile file
// one clear error, a failed save keeping the old file) and searches running
// while another thread adds.
#include "api/exact_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <thread>
#include <vector>

#include "engine/ops.h"
#include "engine/safetensors.h"
#include "engine/tensor.h"
#include "tests/support/test_support.h"

namespace dml::api {
namespace {

using test::expect_error;
using test::TempDir;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Rows of small integers in [-2, 2]: squared distances are exact in f32 in
// any summation order, and duplicates (exact ties) are common.
std::vector<float> integer_rows(int64_t rows, int64_t dim, uint64_t seed) {
  Generator gen(seed);
  return randint(-2, 3, {rows, dim}, DType::i64, &gen).to(DType::f32).to_vector<float>();
}

std::vector<float> normal_rows(int64_t rows, int64_t dim, uint64_t seed) {
  Generator gen(seed);
  return randn({rows, dim}, DType::f32, &gen).to_vector<float>();
}

// Ids that are not row numbers: row r gets 1000 + 3r.
std::vector<int64_t> spaced_ids(int64_t rows) {
  std::vector<int64_t> ids(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) ids[size_t(r)] = 1000 + 3 * r;
  return ids;
}

double reference_distance(const float* q, const float* x, int64_t dim, IndexMetric metric) {
  double dot = 0, qq = 0, xx = 0, sq = 0;
  for (int64_t j = 0; j < dim; ++j) {
    dot += double(q[j]) * x[j];
    qq += double(q[j]) * q[j];
    xx += double(x[j]) * x[j];
    sq += (double(q[j]) - x[j]) * (double(q[j]) - x[j]);
  }
  if (metric == IndexMetric::l2) return sq;
  return qq == 0 || xx == 0 ? 1.0 : 1.0 - dot / std::sqrt(qq * xx);
}

struct Ranked {
  double distance;
  int64_t row;
};

// Every row by distance to query q, ties to the row added first.
std::vector<Ranked> brute_force(const std::vector<float>& rows, const float* q, int64_t dim,
                                IndexMetric metric) {
  std::vector<Ranked> all;
  for (int64_t r = 0; r < int64_t(rows.size()) / dim; ++r)
    all.push_back({reference_distance(q, rows.data() + r * dim, dim, metric), r});
  std::stable_sort(all.begin(), all.end(),
                   [](const Ranked& a, const Ranked& b) { return a.distance < b.distance; });
  return all;
}

struct Results {
  std::vector<int64_t> ids;
  std::vector<float> distances;
};

Results search(const ExactIndex& index, const std::vector<float>& queries, int64_t k) {
  const int64_t count = int64_t(queries.size()) / index.dim();
  Results r{std::vector<int64_t>(size_t(count * k), -7), std::vector<float>(size_t(count * k))};
  index.search(queries.data(), count, k, r.ids.data(), r.distances.data());
  return r;
}

// The search of `index` (holding `rows` with spaced_ids) against brute force.
// tolerance 0: ids and distances exactly the reference's. Otherwise each
// rank's distance within tolerance of the reference's at that rank, and the
// row behind each returned id as near as the reference's row there.
void expect_brute_force(const ExactIndex& index, const std::vector<float>& rows,
                        const std::vector<float>& queries, int64_t k, double tolerance) {
  const int64_t dim = index.dim(), n = int64_t(rows.size()) / dim;
  const Results got = search(index, queries, k);
  for (int64_t q = 0; q < int64_t(queries.size()) / dim; ++q) {
    const float* query = queries.data() + q * dim;
    const std::vector<Ranked> want = brute_force(rows, query, dim, index.metric());
    for (int64_t j = 0; j < k; ++j) {
      const int64_t id = got.ids[size_t(q * k + j)];
      const float distance = got.distances[size_t(q * k + j)];
      if (j >= n) {
        EXPECT_EQ(id, -1) << "query " << q << " rank " << j;
        EXPECT_EQ(distance, kInf) << "query " << q << " rank " << j;
        continue;
      }
      const Ranked& w = want[size_t(j)];
      if (tolerance == 0) {
        ASSERT_EQ(id, 1000 + 3 * w.row) << "query " << q << " rank " << j;
        ASSERT_EQ(distance, float(w.distance)) << "query " << q << " rank " << j;
        continue;
      }
      ASSERT_NEAR(distance, w.distance, tolerance) << "query " << q << " rank " << j;
      ASSERT_EQ((id - 1000) % 3, 0) << "query " << q << " rank " << j << " id " << id;
      const int64_t row = (id - 1000) / 3;
      ASSERT_TRUE(row >= 0 && row < n) << "id " << id;
      EXPECT_NEAR(reference_distance(query, rows.data() + row * dim, dim, index.metric()),
                  w.distance, tolerance)
          << "query " << q << " rank " << j;
    }
  }
}

ExactIndex filled(int64_t dim, IndexMetric metric, const std::vector<float>& rows) {
  ExactIndex index(dim, metric);
  const std::vector<int64_t> ids = spaced_ids(int64_t(rows.size()) / dim);
  index.add(rows.data(), ids.data(), int64_t(ids.size()));
  return index;
}

// L2 on integer data: every distance exact, ties everywhere; k = 1, a k
// spanning several blocks of the kNN op, k = size and k > size.
TEST(ExactIndex, L2MatchesBruteForceWithTiesToTheFirstAdded) {
  const int64_t dim = 3, n = 1100;
  const std::vector<float> rows = integer_rows(n, dim, 1);
  const std::vector<float> queries = integer_rows(20, dim, 2);
  const ExactIndex index = filled(dim, IndexMetric::l2, rows);
  EXPECT_EQ(index.size(), n);
  for (int64_t k : {int64_t(1), int64_t(40), n, n + 5})
    expect_brute_force(index, rows, queries, k, 0);
}

TEST(ExactIndex, CosineMatchesBruteForce) {
  const int64_t dim = 8, n = 700;
  std::vector<float> rows = normal_rows(n, dim, 3);
  std::fill(rows.begin() + 5 * dim, rows.begin() + 6 * dim, 0.f);  // a zero row: distance 1
  const std::vector<float> queries = normal_rows(9, dim, 4);
  const ExactIndex index = filled(dim, IndexMetric::cosine, rows);
  for (int64_t k : {int64_t(1), int64_t(10), n, n + 3})
    expect_brute_force(index, rows, queries, k, 1e-5);
}

// Equal rows tie exactly under cosine too: the first added comes first.
TEST(ExactIndex, CosineTiesGoToTheFirstAdded) {
  const std::vector<float> rows = {1, 2, 3, 0, 1, 0, 1, 2, 3, -1, 0, 0, 1, 2, 3};
  const std::vector<int64_t> ids = {50, 40, 30, 20, 10};
  ExactIndex index(3, IndexMetric::cosine);
  index.add(rows.data(), ids.data(), 5);
  const Results r = search(index, {0.5f, 1.f, 1.5f}, 5);
  EXPECT_EQ(r.ids[0], 50);
  EXPECT_EQ(r.ids[1], 30);
  EXPECT_EQ(r.ids[2], 10);
  EXPECT_EQ(r.ids[4], 20);
  EXPECT_EQ(r.distances[0], r.distances[1]);
  EXPECT_EQ(r.distances[1], r.distances[2]);
}

TEST(ExactIndex, EmptyIndexReturnsOnlyEmptySlots) {
  const ExactIndex index(4, IndexMetric::l2);
  const Results r = search(index, std::vector<float>(8, 1.f), 3);
  EXPECT_EQ(r.ids, std::vector<int64_t>(6, -1));
  EXPECT_EQ(r.distances, std::vector<float>(6, kInf));
}

// Ids are the caller's, duplicates included.
TEST(ExactIndex, ReturnsIdsNotRowNumbers) {
  const std::vector<float> rows = {0, 0, 10, 0, 1, 0};
  const std::vector<int64_t> ids = {7, 7, int64_t(1) << 40};
  ExactIndex index(2, IndexMetric::l2);
  index.add(rows.data(), ids.data(), 3);
  const Results r = search(index, {9.f, 0.f}, 3);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{7, int64_t(1) << 40, 7}));
  EXPECT_EQ(r.distances, (std::vector<float>{1.f, 64.f, 81.f}));
}

// Adds in parts of every size class (one row, across buffer growth) give
// the same results bit for bit as one add.
TEST(ExactIndex, AddInPartsEqualsOneAdd) {
  const int64_t dim = 5, n = 1000;
  const std::vector<float> rows = normal_rows(n, dim, 5);
  const std::vector<int64_t> ids = spaced_ids(n);
  const std::vector<float> queries = normal_rows(7, dim, 6);
  for (IndexMetric metric : {IndexMetric::l2, IndexMetric::cosine}) {
    const ExactIndex whole = filled(dim, metric, rows);
    ExactIndex parts(dim, metric);
    int64_t begin = 0;
    for (int64_t part : {1, 0, 63, 1, 64, 200, 671}) {
      parts.add(rows.data() + begin * dim, ids.data() + begin, part);
      begin += part;
    }
    ASSERT_EQ(begin, n);
    EXPECT_EQ(parts.size(), n);
    const Results a = search(whole, queries, 50), b = search(parts, queries, 50);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.distances, b.distances);
  }
}

TEST(ExactIndex, FailedAddAddsNothing) {
  ExactIndex index(2, IndexMetric::l2);
  const std::vector<float> good = {1, 2, 3, 4};
  const std::vector<int64_t> ids = {0, 1};
  index.add(good.data(), ids.data(), 2);
  const std::vector<float> nan_row = {1, 2, 3, std::nanf("")};
  expect_error([&] { index.add(nan_row.data(), ids.data(), 2); },
               {"ExactIndex::add", "row 1", "NaN"});
  const std::vector<float> huge = {1, 2, 3e30f, 0};  // its square overflows f32
  expect_error([&] { index.add(huge.data(), ids.data(), 2); }, {"row 1", "overflow"});
  const std::vector<int64_t> negative = {4, -2};
  expect_error([&] { index.add(good.data(), negative.data(), 2); }, {"id -2", "row 1", ">= 0"});
  EXPECT_EQ(index.size(), 2);
  const Results r = search(index, {3.f, 4.f}, 4);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{1, 0, -1, -1}));
}

// A batch large enough to be checked on several threads still names the
// first bad row.
TEST(ExactIndex, FailedAddNamesTheFirstBadRow) {
  const int64_t n = 40000;
  std::vector<float> rows(static_cast<size_t>(2 * n), 1.f);
  rows[2 * 30000] = kInf;
  rows[2 * 12345 + 1] = std::nanf("");
  const std::vector<int64_t> ids = spaced_ids(n);
  ExactIndex index(2, IndexMetric::l2);
  expect_error([&] { index.add(rows.data(), ids.data(), n); }, {"row 12345 "});
  EXPECT_EQ(index.size(), 0);
}

TEST(ExactIndex, RefusesBadArguments) {
  expect_error([] { ExactIndex(0, IndexMetric::l2); }, {"dim = 0", ">= 1"});
  ExactIndex index(2, IndexMetric::l2);
  const std::vector<float> q = {1, 2};
  int64_t id = 0;
  float distance = 0;
  expect_error([&] { index.search(q.data(), 1, 0, &id, &distance); }, {"k = 0", ">= 1"});
  expect_error([&] { index.search(nullptr, 1, 1, &id, &distance); }, {"queries is null"});
  expect_error([&] { index.add(q.data(), nullptr, 1); }, {"ids is null"});
  expect_error([&] { index.add(q.data(), &id, -1); }, {"count = -1"});
  const std::vector<float> inf_query = {kInf, 0};
  index.add(q.data(), &id, 1);
  expect_error([&] { index.search(inf_query.data(), 1, 1, &id, &distance); },
               {"ExactIndex::search", "query 0", "inf"});
}

// ---- files -------------------------------------------------------------

TEST(ExactIndex, SaveLoadRoundTripsBitForBit) {
  TempDir dir;
  const int64_t dim = 6, n = 300;
  const std::vector<float> rows = normal_rows(n, dim, 7);
  const std::vector<float> queries = normal_rows(11, dim, 8);
  for (IndexMetric metric : {IndexMetric::l2, IndexMetric::cosine}) {
    const ExactIndex index = filled(dim, metric, rows);
    const std::string path = dir.file("index.safetensors");
    index.save(path);
    ExactIndex loaded = ExactIndex::load(path);
    EXPECT_EQ(loaded.size(), n);
    EXPECT_EQ(loaded.dim(), dim);
    EXPECT_EQ(loaded.metric(), metric);
    const Results a = search(index, queries, 20), b = search(loaded, queries, 20);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.distances, b.distances);

    const SafetensorsFile file = read_safetensors(path);
    EXPECT_EQ(file.metadata.at("format"), "dml-index-1");
    EXPECT_EQ(file.metadata.at("metric"), metric == IndexMetric::l2 ? "l2" : "cosine");
    ASSERT_EQ(file.tensors.size(), 2u);
    // A cosine index holds (and writes) its rows normalised.
    const Tensor added = from_vector(rows, {n, dim});
    EXPECT_EQ(file.tensors[0].second.to_vector<float>(),
              (metric == IndexMetric::l2 ? added : l2_normalize(added, 1)).to_vector<float>());
    EXPECT_EQ(file.tensors[1].second.to_vector<int64_t>(), spaced_ids(n));

    // A loaded index grows like any other, and searches like one built whole.
    const std::vector<float> more = normal_rows(40, dim, 9);
    loaded.add(more.data(), spaced_ids(n + 40).data() + n, 40);
    std::vector<float> all(rows);
    all.insert(all.end(), more.begin(), more.end());
    const Results c = search(loaded, queries, 30),
                  d = search(filled(dim, metric, all), queries, 30);
    EXPECT_EQ(c.ids, d.ids);
    EXPECT_EQ(c.distances, d.distances);
  }
}

// A cosine file whose rows are not of unit length (written elsewhere) loads
// normalised: it searches like an index its rows were added to.
TEST(ExactIndex, CosineFileOfRawRowsLoadsNormalised) {
  TempDir dir;
  const std::vector<float> rows = {3, 4, 0, 0, -1, 0, 0.5f, 0.5f};
  write_safetensors(dir.file("raw"),
                    {{"vectors", from_vector(rows, {4, 2})},
                     {"ids", from_vector<int64_t>({1000, 1003, 1006, 1009}, {4})}},
                    {{"format", "dml-index-1"}, {"metric", "cosine"}});
  const std::vector<float> queries = {1, 1, -2, 0.5f};
  const Results a = search(ExactIndex::load(dir.file("raw")), queries, 4);
  const Results b = search(filled(2, IndexMetric::cosine, rows), queries, 4);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.distances, b.distances);
}

TEST(ExactIndex, EmptyIndexRoundTrips) {
  TempDir dir;
  ExactIndex(3, IndexMetric::cosine).save(dir.file("empty"));
  const ExactIndex loaded = ExactIndex::load(dir.file("empty"));
  EXPECT_EQ(loaded.size(), 0);
  EXPECT_EQ(loaded.dim(), 3);
  EXPECT_EQ(loaded.metric(), IndexMetric::cosine);
}

// An index file made from the given parts, to be refused by load().
struct Forged {
  Tensor vectors = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor ids = from_vector<int64_t>({0, 1}, {2});
  std::map<std::string, std::string> metadata = {{"format", "dml-index-1"}, {"metric", "l2"}};
  NamedTensors extra;
};

void expect_refused(const Forged& f, const std::vector<std::string>& fragments) {
  TempDir dir;
  const std::string path = dir.file("forged.safetensors");
  NamedTensors tensors = {{"vectors", f.vectors}, {"ids", f.ids}};
  tensors.insert(tensors.end(), f.extra.begin(), f.extra.end());
  write_safetensors(path, tensors, f.metadata);
  std::vector<std::string> all = {"ExactIndex::load", path};
  all.insert(all.end(), fragments.begin(), fragments.end());
  expect_error([&] { ExactIndex::load(path); }, all);
}

TEST(ExactIndex, RefusesForgedFiles) {
  {
    Forged f;
    f.metadata.erase("format");
    expect_refused(f, {"no \"format\""});
  }
  {
    Forged f;
    f.metadata["format"] = "dml-model-1";
    expect_refused(f, {"\"dml-model-1\"", "dml-index-1"});
  }
  {
    Forged f;
    f.metadata["metric"] = "inner_product";
    expect_refused(f, {"metric \"inner_product\""});
  }
  {
    Forged f;
    f.metadata.erase("metric");
    expect_refused(f, {"no \"metric\""});
  }
  {
    Forged f;
    f.ids = from_vector<int64_t>({0, 1, 2}, {3});
    expect_refused(f, {"\"ids\" has 3 rows", "\"vectors\" 2"});
  }
  {
    Forged f;
    f.ids = from_vector<int64_t>({0, -5}, {2});
    expect_refused(f, {"row 1", "negative"});
  }
  {
    Forged f;
    f.vectors = from_vector<float>({1, 2, std::nanf(""), 4}, {2, 2});
    expect_refused(f, {"row 1", "NaN"});
  }
  {
    Forged f;
    f.vectors = from_vector<double>({1, 2, 3, 4}, {2, 2});
    expect_refused(f, {"\"vectors\" is f64", "expected f32"});
  }
  {
    Forged f;
    f.ids = from_vector<int32_t>({0, 1}, {2});
    expect_refused(f, {"\"ids\" is i32", "expected i64"});
  }
  {
    Forged f;
    f.vectors = from_vector<float>({1, 2}, {2});
    expect_refused(f, {"\"vectors\" is f32[2]", "[rows, dim]"});
  }
  {
    Forged f;
    f.vectors = Tensor::empty({2, 0});
    expect_refused(f, {"dim >= 1"});
  }
  {
    Forged f;
    f.extra = {{"labels", from_vector<int64_t>({0, 1}, {2})}};
    expect_refused(f, {"3 tensors"});
  }
  {
    const Forged f;
    TempDir dir;
    const std::string path = dir.file("no_ids");
    write_safetensors(path, {{"vectors", f.vectors}, {"labels", f.ids}}, f.metadata);
    expect_error([&] { ExactIndex::load(path); }, {path, "lacks tensor \"ids\""});
  }
}

TEST(ExactIndex, RefusesUnreadableFiles) {
  TempDir dir;
  const std::string good = dir.file("good");
  filled(2, IndexMetric::l2, integer_rows(10, 2, 10)).save(good);
  const std::string bytes = test::read_text(good);
  for (size_t cut : {size_t(0), size_t(5), size_t(20), bytes.size() - 1}) {
    const std::string path = dir.file("cut" + std::to_string(cut));
    test::write_plain(path, test::Bytes(bytes.begin(), bytes.begin() + std::ptrdiff_t(cut)));
    expect_error([&] { ExactIndex::load(path); }, {path});
  }
  expect_error([&] { ExactIndex::load(dir.file("missing")); }, {dir.file("missing")});
  std::filesystem::create_directory(dir.file("folder"));
  expect_error([&] { ExactIndex::load(dir.file("folder")); }, {dir.file("folder"), "directory"});
}

// The temporary file cannot be created: the save fails and the old file
// stays whole.
TEST(ExactIndex, FailedSaveKeepsTheExistingFile) {
  TempDir dir;
  const std::string path = dir.file("index");
  filled(2, IndexMetric::l2, integer_rows(10, 2, 11)).save(path);
  const std::string before = test::read_text(path);
  std::filesystem::create_directory(path + ".tmp");
  expect_error([&] { filled(2, IndexMetric::l2, integer_rows(20, 2, 12)).save(path); }, {path});
  EXPECT_EQ(test::read_text(path), before);
  EXPECT_EQ(ExactIndex::load(path).size(), 10);
}

// ---- threads -------------------------------------------------------------

// Four threads search while a fifth adds rows in batches: an add is never
// seen in part, so every search returns exactly the rows of the first m
// batches, for some m.
TEST(ExactIndex, SearchesDuringAddsSeeAPrefixOfTheAdds) {
  const int64_t dim = 4, batch = 16, batches = 60, n = batch * batches;
  const std::vector<float> rows = normal_rows(n, dim, 13);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  ExactIndex index(dim, IndexMetric::l2);
  std::atomic<bool> done{false};
  std::atomic<int64_t> searches{0}, partial{0};
  std::vector<std::thread> searchers;
  for (int t = 0; t < 4; ++t)
    searchers.emplace_back([&, t] {
      const std::vector<float> query = normal_rows(1, dim, 100 + uint64_t(t));
      std::vector<int64_t> found(static_cast<size_t>(n));
      std::vector<float> distances(static_cast<size_t>(n));
      while (!done.load()) {
        index.search(query.data(), 1, n, found.data(), distances.data());
        const auto end = std::find(found.begin(), found.end(), int64_t(-1));
        const int64_t m = int64_t(end - found.begin());
        std::vector<int64_t> seen(found.begin(), end);
        std::sort(seen.begin(), seen.end());
        std::vector<int64_t> prefix(static_cast<size_t>(m));
        std::iota(prefix.begin(), prefix.end(), 0);
        if (m % batch != 0 || seen != prefix) ++partial;
        if (m > 0 && m < n) ++searches;
      }
    });
  for (int64_t b = 0; b < batches; ++b) {
    index.add(rows.data() + b * batch * dim, ids.data() + b * batch, batch);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  done = true;
  for (std::thread& t : searchers) t.join();
  EXPECT_EQ(partial.load(), 0);
  EXPECT_EQ(index.size(), n);
  EXPECT_GT(searches.load(), 0) << "no search ran between two adds";
}

}  // namespace
}  // namespace dml::api
