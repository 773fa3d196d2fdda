#pragma once
// Index kernels over [outer, n, inner] views. Indices are i64 and already
// validated by the caller (engine/ops checks bounds and names the op).
#include <cstdint>

namespace dml::cpu {

// out[o, j, i] = x[o, index[j], i]; out is [outer, k, inner], x is [outer, n, inner].
template <class T>
void index_select(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
                  int64_t inner);
// x[o, index[j], i] += src[o, j, i] (the backward of index_select).
template <class T>
void index_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
               int64_t inner);

// out[o, j, i] = x[o, index[o, j, i], i]; index and out are [outer, k, inner].
template <class T>
void gather(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
            int64_t inner);
// x[o, index[o, j, i], i] += src[o, j, i].
template <class T>
void scatter_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
                 int64_t inner);

// out[r, labels[r]] = 1 over a zeroed [rows, classes] buffer.
template <class T>
void one_hot(const int64_t* labels, T* out, int64_t rows, int64_t classes);

// First index out of [0, n), or -1 when all are in range.
int64_t find_out_of_range(const int64_t* index, int64_t count, int64_t n);

}  // namespace dml::cpu
