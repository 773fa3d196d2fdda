#pragma once
// The world of one process: every collective is a copy or nothing, after
// the same argument checks a world of N makes.
#include "engine/distributed/communicator.h"

namespace dml::dist {

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string backend() const override { return "single"; }

  void all_reduce_sum(Tensor& t) override;
  std::unique_ptr<PendingCollective> all_reduce_sum_async(Tensor& t) override;
  Tensor all_gather_rows(const Tensor& local, std::vector<int64_t>* counts = nullptr) override;
  void broadcast(Tensor& t, int root) override;
  void barrier() override {}
  std::vector<int64_t> all_gather_value(int64_t value) override { return {value}; }
  void set_timeout(double seconds) override;
};

// A collective that finished when it started.
class CompletedCollective final : public PendingCollective {
 public:
  bool test() override { return true; }
  void wait() override {}
};

// set_timeout's check, shared by every communicator.
void check_timeout(double seconds);

}  // namespace dml::dist
