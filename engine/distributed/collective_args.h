#pragma once
// What every communicator checks of a collective's arguments, so a world of
// one refuses what a world of N would: the same code fails the same way on
// a laptop and on a cluster.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace dml::dist {

// all_reduce_sum's dtypes: f32, f64, i32, i64 (and, on CUDA, bf16 and f16).
void check_reducible(const Tensor& t, const char* collective);
void check_root(int root, int size, const char* collective);

// One rank's all_gather_rows input as fixed-size integers (rows, dtype,
// device kind, rank count of dims, trailing dims), so that every rank can
// check every other's before the rows move.
constexpr int kMaxGatherDims = 8;
constexpr int kRowLayoutInts = 4 + kMaxGatherDims;
std::vector<int64_t> encode_row_layout(const Tensor& local);
// The layouts of every rank, rank after rank: every rank's row count, or an
// Error naming rank 0 and the first rank whose trailing shape, dtype or
// device differ from its, with both.
std::vector<int64_t> check_row_layouts(const std::vector<int64_t>& layouts, int size);

// Bytes of one row of `t` (its trailing dims).
size_t row_bytes(const Tensor& t);

// "48 B", "3.1 kB", "1.2 MB": a collective's payload in messages.
std::string payload_size(size_t bytes);

}  // namespace dml::dist
