#include "engine/distributed/mpi_communicator.h"

#include <mpi.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>

#include "engine/distributed/collective_args.h"
#include "engine/distributed/collective_wait.h"
#include "engine/distributed/peer_watch.h"
#include "engine/distributed/single_communicator.h"
#ifdef DML_HAVE_NCCL
#include "engine/distributed/nccl_collectives.h"
#endif

namespace dml::dist {

namespace {

void check_mpi(int rc, const char* call, const char* collective) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(detail::concat(collective, ": ", call, " failed: ", std::string(text, length)));
}

int mpi_count(size_t n, const char* collective) {
  DML_CHECK(n <= size_t(INT_MAX), collective, ": ", n,
            " elements or bytes exceed what one MPI call carries (2^31 - 1); split the tensor");
  return int(n);
}

MPI_Datatype sum_type(DType d) {
  switch (d) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    case DType::i32:
      return MPI_INT32_T;
    case DType::i64:
      return MPI_INT64_T;
    default:
      return MPI_DATATYPE_NULL;  // refused by check_reducible before
  }
}

// Without NCCL only CPU tensors travel between ranks.
void check_on_cpu(const Tensor& t, const char* collective) {
  DML_CHECK(t.device().is_cpu(), collective, ": ", describe(t),
            " is on a GPU but dml was built without NCCL; rebuild with CUDA's NCCL (nccl.h, "
            "libnccl.so) or pass CPU tensors");
}

// What a request writes into or reads from: it must outlive the request,
// even one abandoned by a failed wait.
using KeepAlive = std::vector<std::shared_ptr<const void>>;

template <class T>
std::shared_ptr<std::vector<T>> buffer(size_t n) {
  return std::make_shared<std::vector<T>>(n);
}

// Where each rank runs: "pid host" in a fixed-size record.
constexpr int kProcessRecord = 320;

class MpiWorld;

class MpiPending final : public PendingCollective {
 public:
  MpiPending(MpiWorld& world, MPI_Request request, KeepAlive keep, CollectiveLabel label)
      : world_(world), request_(request), keep_(std::move(keep)), label_(label) {}
  ~MpiPending() override;
  bool test() override;
  void wait() override;

 private:
  MpiWorld& world_;
  MPI_Request request_;
  KeepAlive keep_;
  CollectiveLabel label_;
};

class MpiWorld final : public Communicator {
 public:
  explicit MpiWorld(const LaunchEnvironment& env);
  ~MpiWorld() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce_sum(Tensor& t) override { all_reduce_sum_async(t)->wait(); }
  std::unique_ptr<PendingCollective> all_reduce_sum_async(Tensor& t) override;
  Tensor all_gather_rows(const Tensor& local, std::vector<int64_t>* counts = nullptr) override;
  void broadcast(Tensor& t, int root) override;
  void barrier() override;
  std::vector<int64_t> all_gather_value(int64_t value) override;
  void set_timeout(double seconds) override {
    check_timeout(seconds);
    timeout_s_ = seconds;
  }

  // True when `request` is done (then MPI_REQUEST_NULL).
  bool test(MPI_Request& request, const char* collective);
  // Until `request` is done; on an Error the request and its buffers are
  // kept (MPI cannot cancel a collective) and the Error goes on.
  void wait(MPI_Request& request, const CollectiveLabel& label, const KeepAlive& keep);
  void abandon(MPI_Request request, KeepAlive keep);

 private:
  WaitPolicy policy() const { return {rank_, size_, timeout_s_, &peers_}; }
  void learn_processes(const LaunchEnvironment& env);
#ifdef DML_HAVE_NCCL
  NcclCollectives& nccl();
#endif
  Tensor gather_on_cpu(const Tensor& local, const std::vector<int64_t>& counts, Tensor out);

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owns_mpi_ = false;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  double timeout_s_ = 600;
  PeerWatch peers_;
  struct Abandoned {
    MPI_Request request;
    KeepAlive keep;
  };
  std::vector<Abandoned> abandoned_;
#ifdef DML_HAVE_NCCL
  std::unique_ptr<NcclCollectives> nccl_;
#endif
};

MpiPending::~MpiPending() {
  if (request_ != MPI_REQUEST_NULL) world_.abandon(request_, std::move(keep_));
}
bool MpiPending::test() {
  return world_.test(request_, label_.name);
}
void MpiPending::wait() {
  world_.wait(request_, label_, keep_);
}

MpiWorld::MpiWorld(const LaunchEnvironment& env) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread",
              "world");
    owns_mpi_ = true;
    DML_CHECK(provided >= MPI_THREAD_FUNNELED, "world: MPI offers thread level ", provided,
              ", below MPI_THREAD_FUNNELED (only the main thread calls MPI); rebuild with an MPI "
              "that supports it");
  }
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup", "world");
  // Errors come back as codes, so that they become Errors naming the
  // collective rather than MPI's abort.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  DML_CHECK(rank_ == env.rank && size_ == env.size, "world: MPI says this process is rank ", rank_,
            " of ", size_, " but ", env.size_variable, " says rank ", env.rank, " of ", env.size,
            "; start the job with the mpirun of the MPI that dml was built with");
  learn_processes(env);
}

void MpiWorld::learn_processes(const LaunchEnvironment& env) {
  const std::string host = host_name();
  auto mine = buffer<char>(kProcessRecord);
  std::snprintf(mine->data(), kProcessRecord, "%ld %.*s", long(getpid()), kProcessRecord - 32,
                host.c_str());
  auto all = buffer<char>(size_t(size_) * kProcessRecord);
  MPI_Request request;
  check_mpi(MPI_Iallgather(mine->data(), kProcessRecord, MPI_CHAR, all->data(), kProcessRecord,
                           MPI_CHAR, comm_, &request),
            "MPI_Iallgather", "world start-up");
  wait(request, {"world start-up", size_t(kProcessRecord)}, {mine, all});
  std::vector<RankProcess> processes(size_);
  local_rank_ = 0;
  local_size_ = 0;
  for (int r = 0; r < size_; ++r) {
    const char* record = all->data() + size_t(r) * kProcessRecord;
    char name[kProcessRecord] = {};
    std::sscanf(record, "%ld %s", &processes[r].pid, name);
    processes[r].rank = r;
    processes[r].host = name;
    if (processes[r].host == host) {
      local_rank_ += r < rank_;
      ++local_size_;
    }
  }
  if (env.local_rank >= 0) {  // the launcher's word over host names
    local_rank_ = env.local_rank;
    local_size_ = env.local_size;
  }
  peers_ = PeerWatch(processes, rank_, host);
}

MpiWorld::~MpiWorld() {
  // A collective still open (its peer hung or gone) would hold
  // MPI_Finalize forever: leave MPI as it is and let the launcher end the
  // job when this process exits.
  bool open = false;
  for (Abandoned& a : abandoned_) {
    int done = 0;
    open = open || MPI_Test(&a.request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || !done;
  }
  if (open || !owns_mpi_) return;
  MPI_Comm_free(&comm_);
  MPI_Finalize();
}

bool MpiWorld::test(MPI_Request& request, const char* collective) {
  if (request == MPI_REQUEST_NULL) return true;
  int done = 0;
  check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test", collective);
  return done != 0;
}

void MpiWorld::wait(MPI_Request& request, const CollectiveLabel& label, const KeepAlive& keep) {
  try {
    wait_for([&] { return test(request, label.name); }, label, policy());
  } catch (...) {
    abandon(request, keep);
    request = MPI_REQUEST_NULL;
    throw;
  }
}

void MpiWorld::abandon(MPI_Request request, KeepAlive keep) {
  std::erase_if(abandoned_, [](Abandoned& a) {  // those finished since
    int done = 0;
    return MPI_Test(&a.request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done;
  });
  if (request != MPI_REQUEST_NULL) abandoned_.push_back({request, std::move(keep)});
}

std::unique_ptr<PendingCollective> MpiWorld::all_reduce_sum_async(Tensor& t) {
  check_reducible(t, "all_reduce_sum");
#ifdef DML_HAVE_NCCL
  if (t.device().is_cuda()) return nccl().all_reduce_sum(t, policy());
#endif
  check_on_cpu(t, "all_reduce_sum");
  MPI_Request request;
  check_mpi(
      MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), mpi_count(size_t(t.numel()), "all_reduce_sum"),
                     sum_type(t.dtype()), MPI_SUM, comm_, &request),
      "MPI_Iallreduce", "all_reduce_sum");
  return std::make_unique<MpiPending>(*this, request, KeepAlive{t.impl().storage},
                                      CollectiveLabel{"all_reduce_sum", t.nbytes()});
}

Tensor MpiWorld::all_gather_rows(const Tensor& local, std::vector<int64_t>* counts_out) {
  auto mine = std::make_shared<std::vector<int64_t>>(encode_row_layout(local));
  auto layouts = buffer<int64_t>(size_t(size_) * kRowLayoutInts);
  MPI_Request request;
  check_mpi(MPI_Iallgather(mine->data(), kRowLayoutInts, MPI_INT64_T, layouts->data(),
                           kRowLayoutInts, MPI_INT64_T, comm_, &request),
            "MPI_Iallgather", "all_gather_rows");
  wait(request, {"all_gather_rows", local.nbytes()}, {mine, layouts});
  const std::vector<int64_t> counts = check_row_layouts(*layouts, size_);
  if (counts_out) *counts_out = counts;
  Shape shape = local.shape();
  shape[0] = 0;
  for (int64_t n : counts) shape[0] += n;
  Tensor out = Tensor::empty(shape, local.dtype(), local.device());
#ifdef DML_HAVE_NCCL
  if (local.device().is_cuda()) {
    nccl().all_gather_rows(local, counts, out, policy());
    return out;
  }
#endif
  check_on_cpu(local, "all_gather_rows");
  return gather_on_cpu(local, counts, out);
}

Tensor MpiWorld::gather_on_cpu(const Tensor& local, const std::vector<int64_t>& counts,
                               Tensor out) {
  const size_t row = row_bytes(local);
  auto sizes = buffer<int>(size_);
  auto offsets = buffer<int>(size_);
  size_t offset = 0;
  for (int r = 0; r < size_; ++r) {
    (*sizes)[r] = mpi_count(size_t(counts[r]) * row, "all_gather_rows");
    (*offsets)[r] = mpi_count(offset, "all_gather_rows");
    offset += size_t(counts[r]) * row;
  }
  MPI_Request request;
  check_mpi(MPI_Iallgatherv(local.raw_data(), (*sizes)[rank_], MPI_BYTE, out.raw_data(),
                            sizes->data(), offsets->data(), MPI_BYTE, comm_, &request),
            "MPI_Iallgatherv", "all_gather_rows");
  wait(request, {"all_gather_rows", local.nbytes()},
       {local.impl().storage, out.impl().storage, sizes, offsets});
  return out;
}

void MpiWorld::broadcast(Tensor& t, int root) {
  check_root(root, size_, "broadcast");
#ifdef DML_HAVE_NCCL
  if (t.device().is_cuda()) return nccl().broadcast(t, root, policy());
#endif
  check_on_cpu(t, "broadcast");
  MPI_Request request;
  check_mpi(
      MPI_Ibcast(t.raw_data(), mpi_count(t.nbytes(), "broadcast"), MPI_BYTE, root, comm_, &request),
      "MPI_Ibcast", "broadcast");
  wait(request, {"broadcast", t.nbytes()}, {t.impl().storage});
}

void MpiWorld::barrier() {
  MPI_Request request;
  check_mpi(MPI_Ibarrier(comm_, &request), "MPI_Ibarrier", "barrier");
  wait(request, {"barrier", 0}, {});
}

std::vector<int64_t> MpiWorld::all_gather_value(int64_t value) {
  auto mine = std::make_shared<std::vector<int64_t>>(1, value);
  auto all = buffer<int64_t>(size_);
  MPI_Request request;
  check_mpi(
      MPI_Iallgather(mine->data(), 1, MPI_INT64_T, all->data(), 1, MPI_INT64_T, comm_, &request),
      "MPI_Iallgather", "all_gather_value");
  wait(request, {"all_gather_value", sizeof(int64_t)}, {mine, all});
  return *all;
}

#ifdef DML_HAVE_NCCL
NcclCollectives& MpiWorld::nccl() {
  if (!nccl_) {
    // Rank 0's unique id to every rank over MPI, then one NCCL communicator
    // on this rank's GPU, cuda:local_rank.
    auto share_id = [this](void* bytes, size_t n) {
      auto id = buffer<char>(n);
      std::memcpy(id->data(), bytes, n);
      MPI_Request request;
      check_mpi(MPI_Ibcast(id->data(), int(n), MPI_BYTE, 0, comm_, &request), "MPI_Ibcast",
                "NCCL start-up");
      wait(request, {"NCCL start-up", n}, {id});
      std::memcpy(bytes, id->data(), n);
    };
    nccl_ = std::make_unique<NcclCollectives>(rank_, size_, local_rank_, share_id, policy());
  }
  return *nccl_;
}
#endif

}  // namespace

std::unique_ptr<Communicator> make_mpi_world(const LaunchEnvironment& env) {
  return std::make_unique<MpiWorld>(env);
}

void abort_mpi_job(int exit_code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
}

}  // namespace dml::dist
