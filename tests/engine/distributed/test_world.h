#pragma once
// The world these tests run in: one process (ctest's plain run) or the ranks
// of `mpirun -n 2` (Distributed.TwoRanks). Every test computes what it
// expects from the rank and size, so one binary checks both.
#include <gtest/gtest.h>

#include "engine/distributed/communicator.h"

namespace dml::test {

// The world, with a timeout short enough that a rank left waiting by a
// failed test fails too instead of holding the job until ctest's limit.
inline dist::Communicator& test_world() {
  dist::Communicator& w = dist::world();
  w.set_timeout(15);
  return w;
}

}  // namespace dml::test

// For tests that need another rank to talk to.
#define SKIP_UNLESS_SEVERAL_RANKS()                                         \
  do {                                                                      \
    if (::dml::test::test_world().size() < 2)                               \
      GTEST_SKIP() << "needs several ranks (ctest's Distributed.TwoRanks)"; \
  } while (0)
