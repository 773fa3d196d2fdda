#include "engine/distributed/nccl_collectives.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>

#include "engine/distributed/collective_args.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::dist {

struct NcclState {
  ncclComm_t comm = nullptr;
  int rank = 0, size = 1, device = 0;
  bool aborted = false;  // after a failed or timed-out collective

  // ncclSuccess and ncclInProgress (a non-blocking communicator still
  // working) go on; anything else is an Error naming the collective.
  void check(ncclResult_t r, const char* call, const char* collective) const {
    if (r == ncclSuccess || r == ncclInProgress) return;
    const char* last = comm ? ncclGetLastError(comm) : "";
    throw Error(detail::concat(collective, ": ", call, " failed on rank ", rank, " of ", size, ": ",
                               ncclGetErrorString(r), last && last[0] ? " (" : "", last ? last : "",
                               last && last[0] ? ")" : ""));
  }

  // True once the communicator has no call in progress; throws on its
  // asynchronous error (a peer's failure, a network error).
  bool idle(const char* collective) const {
    ncclResult_t state = ncclSuccess;
    check(ncclCommGetAsyncError(comm, &state), "ncclCommGetAsyncError", collective);
    check(state, "a queued operation", collective);
    return state != ncclInProgress;
  }

  // Polls `done` under the policy; on an Error the communicator is aborted
  // (NCCL cannot cancel one collective), so later ones fail at once.
  void wait(const std::function<bool()>& done, const CollectiveLabel& label,
            const WaitPolicy& policy) {
    try {
      wait_for(done, label, policy);
    } catch (...) {
      abort();
      throw;
    }
  }

  void abort() {
    if (aborted) return;
    aborted = true;
    ncclCommAbort(comm);
  }

  cudaStream_t stream_for(const Tensor& t, const char* collective) const {
    DML_CHECK(!aborted, collective, ": rank ", rank,
              "'s NCCL communicator was aborted after an earlier failure; the job cannot go on");
    DML_CHECK(t.device() == Device::cuda(device), collective, ": ", describe(t),
              " is not on cuda:", device, ", this rank's GPU (cuda:local_rank)");
    return cuda::use_device(device);
  }

  // Makes `call` (one NCCL collective on the stream) and waits until the
  // communicator has queued it.
  void enqueue(const std::function<ncclResult_t()>& call, const char* name,
               const CollectiveLabel& label, const WaitPolicy& policy) {
    check(call(), name, label.name);
    wait([&] { return idle(label.name); }, label, policy);
  }
};

namespace {

ncclDataType_t nccl_type(DType d) {
  switch (d) {
    case DType::f32:
      return ncclFloat32;
    case DType::f64:
      return ncclFloat64;
    case DType::bf16:
      return ncclBfloat16;
    case DType::f16:
      return ncclFloat16;
    case DType::i32:
      return ncclInt32;
    case DType::i64:
      return ncclInt64;
    case DType::u8:
      return ncclUint8;
  }
  return ncclUint8;
}

// An event recorded after the collective on the stream; done when it is.
class NcclPending final : public PendingCollective {
 public:
  NcclPending(std::shared_ptr<NcclState> state, cudaStream_t stream, CollectiveLabel label,
              WaitPolicy policy, Tensor keep)
      : state_(std::move(state)), label_(label), policy_(policy), keep_(std::move(keep)) {
    DML_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming));
    DML_CUDA_CHECK(cudaEventRecord(event_, stream));
  }
  ~NcclPending() override { cudaEventDestroy(event_); }

  bool test() override {
    if (!state_->idle(label_.name)) return false;
    const cudaError_t r = cudaEventQuery(event_);
    if (r == cudaErrorNotReady) return false;
    DML_CUDA_CHECK(r);
    return true;
  }
  void wait() override {
    state_->wait([&] { return test(); }, label_, policy_);
  }

 private:
  std::shared_ptr<NcclState> state_;
  CollectiveLabel label_;
  WaitPolicy policy_;
  Tensor keep_;  // the buffer the collective writes, alive until it is done
  cudaEvent_t event_ = nullptr;
};

}  // namespace

NcclCollectives::NcclCollectives(int rank, int size, int device, const ShareId& share_id,
                                 const WaitPolicy& policy)
    : state_(std::make_shared<NcclState>()) {
  NcclState& s = *state_;
  s.rank = rank;
  s.size = size;
  s.device = device;
  ncclUniqueId id;
  if (rank == 0) s.check(ncclGetUniqueId(&id), "ncclGetUniqueId", "NCCL start-up");
  share_id(&id, sizeof id);
  DML_CUDA_CHECK(cudaSetDevice(device));
  // Non-blocking: a rank that never joins is a timeout, not a hang.
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  s.check(ncclCommInitRankConfig(&s.comm, size, id, rank, &config), "ncclCommInitRankConfig",
          "NCCL start-up");
  s.wait([&] { return s.idle("NCCL start-up"); }, {"NCCL start-up", sizeof id}, policy);
}

std::unique_ptr<PendingCollective> NcclCollectives::all_reduce_sum(Tensor& t,
                                                                   const WaitPolicy& policy) {
  NcclState& s = *state_;
  const CollectiveLabel label{"all_reduce_sum", t.nbytes()};
  cudaStream_t stream = s.stream_for(t, label.name);
  s.enqueue(
      [&] {
        return ncclAllReduce(t.raw_data(), t.raw_data(), size_t(t.numel()), nccl_type(t.dtype()),
                             ncclSum, s.comm, stream);
      },
      "ncclAllReduce", label, policy);
  return std::make_unique<NcclPending>(state_, stream, label, policy, t);
}

void NcclCollectives::all_gather_rows(const Tensor& local, const std::vector<int64_t>& counts,
                                      Tensor& out, const WaitPolicy& policy) {
  NcclState& s = *state_;
  const CollectiveLabel label{"all_gather_rows", local.nbytes()};
  cudaStream_t stream = s.stream_for(local, label.name);
  const size_t row = row_bytes(local);
  const int64_t most = *std::max_element(counts.begin(), counts.end());
  const size_t slot = size_t(most) * row;  // every rank's rows, padded to the most
  const bool even = std::all_of(counts.begin(), counts.end(), [&](int64_t n) { return n == most; });
  Tensor send = local;
  Tensor padded = out;
  if (!even) {
    send = Tensor::empty({int64_t(slot)}, DType::u8, local.device());
    if (local.nbytes())
      DML_CUDA_CHECK(cudaMemcpyAsync(send.raw_data(), local.raw_data(), local.nbytes(),
                                     cudaMemcpyDeviceToDevice, stream));
    padded = Tensor::empty({int64_t(slot) * s.size}, DType::u8, local.device());
  }
  s.enqueue(
      [&] {
        return ncclAllGather(send.raw_data(), padded.raw_data(), slot, ncclUint8, s.comm, stream);
      },
      "ncclAllGather", label, policy);
  if (!even) {  // each rank's rows out of its padded slot
    size_t offset = 0;
    for (int r = 0; r < s.size; ++r) {
      const size_t bytes = size_t(counts[r]) * row;
      if (bytes)
        DML_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(out.raw_data()) + offset,
                                       static_cast<char*>(padded.raw_data()) + size_t(r) * slot,
                                       bytes, cudaMemcpyDeviceToDevice, stream));
      offset += bytes;
    }
  }
  NcclPending(state_, stream, label, policy, padded).wait();
}

void NcclCollectives::broadcast(Tensor& t, int root, const WaitPolicy& policy) {
  NcclState& s = *state_;
  const CollectiveLabel label{"broadcast", t.nbytes()};
  cudaStream_t stream = s.stream_for(t, label.name);
  s.enqueue(
      [&] {
        return ncclBroadcast(t.raw_data(), t.raw_data(), t.nbytes(), ncclUint8, root, s.comm,
                             stream);
      },
      "ncclBroadcast", label, policy);
  NcclPending(state_, stream, label, policy, t).wait();
}

}  // namespace dml::dist
