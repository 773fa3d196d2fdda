#include "fairness/inputs.h"

#include "engine/autograd.h"

namespace dml::fairness {

Tensor embedding_matrix(const Tensor& embeddings, DType dtype, const char* caller,
                        int64_t min_rows) {
  DML_CHECK(embeddings.defined() && embeddings.dim() == 2 && is_floating(embeddings.dtype()),
            caller, ": embeddings must be a floating matrix [N, D], got ",
            embeddings.defined() ? describe(embeddings) : "an undefined tensor");
  DML_CHECK(embeddings.size(0) >= min_rows && embeddings.size(1) >= 1, caller,
            ": embeddings need at least ", min_rows, " row(s) and 1 column, got ",
            describe(embeddings));
  NoGradGuard no_grad;
  Tensor out = embeddings.detach();
  if (!out.device().is_cpu()) out = out.to(Device::cpu());
  return out.dtype() == dtype ? out : out.to(dtype);
}

std::vector<int64_t> per_sample_ids(const Tensor& ids, int64_t rows, const char* what,
                                    const char* caller) {
  DML_CHECK(ids.defined() && ids.dim() == 1 && ids.dtype() == DType::i64, caller, ": ", what,
            " must be an i64 vector [N], got ", ids.defined() ? describe(ids) : "undefined");
  DML_CHECK(ids.size(0) == rows, caller, ": ", what, " has ", ids.size(0), " entries for ", rows,
            " embedding rows; pass one per row");
  return ids.device().is_cpu() ? ids.to_vector<int64_t>()
                               : ids.to(Device::cpu()).to_vector<int64_t>();
}

}  // namespace dml::fairness
