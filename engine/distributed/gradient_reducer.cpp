#include "engine/distributed/gradient_reducer.h"

#include <unordered_map>

#include "engine/distributed/bucket_plan.h"

namespace dml::dist {

namespace {

// One flat buffer of gradients, all-reduced as one collective.
struct Bucket {
  std::vector<size_t> params;
  std::vector<int64_t> offsets;  // each parameter's first element in `flat`
  Tensor flat;
  std::unique_ptr<PendingCollective> pending;
  size_t ready = 0;  // parameters whose gradient is final this step
};

}  // namespace

struct GradientReducer::State {
  State(Communicator& c, std::vector<Tensor> p) : comm(c), params(std::move(p)) {}

  Communicator& comm;
  std::vector<Tensor> params;
  std::vector<Bucket> buckets;
  std::vector<size_t> bucket_of;  // parameter -> bucket
  std::vector<bool> ready;        // parameter's gradient final this step
  // Buckets start strictly in order, so every rank issues the same
  // collectives in the same order even when backward reaches parameters in
  // another order, or one rank's loss leaves a parameter without gradient.
  size_t next_to_start = 0;
  std::unordered_map<const AutogradMeta*, size_t> index;  // watch()'s leaves
  LeafGradReady hook;

  Tensor view(const Bucket& b, size_t slot) const {
    const Tensor& p = params[b.params[slot]];
    return b.flat.slice(b.offsets[slot], b.offsets[slot] + p.numel()).reshape(p.shape());
  }

  // Packs the bucket's gradients (zeros for a missing one) and starts its sum.
  void start(Bucket& b) {
    for (size_t s = 0; s < b.params.size(); ++s) {
      const Tensor grad = params[b.params[s]].grad();
      copy_into(view(b, s), grad.defined() ? grad : zeros_like(params[b.params[s]]));
    }
    b.pending = comm.all_reduce_sum_async(b.flat);
  }

  void start_ready_buckets() {
    while (next_to_start < buckets.size() &&
           buckets[next_to_start].ready == buckets[next_to_start].params.size())
      start(buckets[next_to_start++]);
  }

  void on_ready(const AutogradMeta& leaf) {
    auto found = index.find(&leaf);
    if (found == index.end()) return;  // not one of ours
    const size_t i = found->second;
    Bucket& b = buckets[bucket_of[i]];
    DML_CHECK(!b.pending, "gradient reducer: parameter ", i, " (", describe(params[i]),
              ") got more gradient after its bucket's all-reduce started; run one backward per "
              "step inside watch() (accumulate earlier micro-batches outside it)");
    if (!ready[i]) {
      ready[i] = true;
      ++b.ready;
    }
    start_ready_buckets();
    // MPI moves a non-blocking collective only inside its calls.
    for (Bucket& started : buckets)
      if (started.pending) started.pending->test();
  }

  void unpack(const Bucket& b) const {
    for (size_t s = 0; s < b.params.size(); ++s) {
      const Tensor& p = params[b.params[s]];
      const Tensor grad = p.grad();
      if (grad.defined())
        copy_into(grad, view(b, s));
      else
        p.set_grad(view(b, s).clone());
    }
  }

  void reset_step() {
    for (Bucket& b : buckets) {
      b.pending.reset();
      b.ready = 0;
    }
    ready.assign(params.size(), false);
    next_to_start = 0;
  }
};

GradientReducer::GradientReducer(Communicator& comm, std::vector<Tensor> params, double bucket_mb)
    : state_(std::make_unique<State>(comm, std::move(params))) {
  State& s = *state_;
  std::unordered_map<const TensorImpl*, size_t> seen;
  for (size_t i = 0; i < s.params.size(); ++i) {
    const Tensor& p = s.params[i];
    DML_CHECK(p.defined() && p.requires_grad() && p.is_leaf(), "gradient reducer: parameter ", i,
              " must be a leaf tensor that requires grad, got ",
              p.defined() ? describe(p) : "an undefined tensor");
    auto [at, fresh] = seen.emplace(p.impl_ptr().get(), i);
    DML_CHECK(fresh, "gradient reducer: parameters ", at->second, " and ", i,
              " are the same tensor; list each parameter once");
  }
  s.bucket_of.resize(s.params.size());
  for (std::vector<size_t>& members : plan_buckets(s.params, bucket_mb)) {
    Bucket b;
    int64_t numel = 0;
    for (size_t i : members) {
      b.offsets.push_back(numel);
      numel += s.params[i].numel();
      s.bucket_of[i] = s.buckets.size();
    }
    const Tensor& first = s.params[members.front()];
    b.flat = Tensor::empty({numel}, first.dtype(), first.device());
    b.params = std::move(members);
    s.buckets.push_back(std::move(b));
  }
  s.ready.assign(s.params.size(), false);
  s.hook = [&s](const AutogradMeta& leaf) { s.on_ready(leaf); };
}

GradientReducer::~GradientReducer() = default;

void GradientReducer::broadcast_parameters(int root) {
  for (const Tensor& p : state_->params) {
    Tensor values = p.detach();  // the parameter's own storage, written in place
    state_->comm.broadcast(values, root);
  }
}

std::unique_ptr<LeafGradReadyScope> GradientReducer::watch() {
  // Looked up afresh each time: a parameter's autograd slot is the key.
  State& s = *state_;
  s.index.clear();
  for (size_t i = 0; i < s.params.size(); ++i) s.index[s.params[i].impl().autograd.get()] = i;
  return std::make_unique<LeafGradReadyScope>(&s.hook);
}

void GradientReducer::finish() {
  State& s = *state_;
  struct NextStep {
    State& s;
    ~NextStep() { s.reset_step(); }
  } next_step{s};
  while (s.next_to_start < s.buckets.size()) s.start(s.buckets[s.next_to_start++]);
  for (Bucket& b : s.buckets) {
    b.pending->wait();
    s.unpack(b);
  }
}

int64_t GradientReducer::buckets() const {
  return int64_t(state_->buckets.size());
}

}  // namespace dml::dist
