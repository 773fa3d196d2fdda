// world(), built_with_mpi() and abort_world(): the process-wide world, one
// process or the ranks of a job (engine/distributed/communicator.h).
#include <cstdio>
#include <cstdlib>

#include "engine/distributed/communicator.h"
#include "engine/distributed/launch_environment.h"
#include "engine/distributed/single_communicator.h"
#ifdef DML_HAVE_MPI
#include "engine/distributed/mpi_communicator.h"
#endif

namespace dml::dist {

namespace {

// Alone (or a launcher's world of one) MPI is never initialised, so a
// plain `dml train` starts as fast as ever and needs no launcher.
std::unique_ptr<Communicator> make_world() {
  const LaunchEnvironment env = launch_environment();
  if (env.size == 1) return std::make_unique<SingleCommunicator>();
#ifdef DML_HAVE_MPI
  return make_mpi_world(env);
#else
  throw Error(detail::concat("dml was built without MPI, but this process is rank ", env.rank,
                             " of ", env.size, " (", env.size_variable,
                             "); install libopenmpi-dev and rebuild"));
#endif
}

bool g_world_started = false;

}  // namespace

Communicator& world() {
  static const std::unique_ptr<Communicator> the_world = [] {
    auto w = make_world();
    g_world_started = true;
    return w;
  }();
  return *the_world;
}

bool built_with_mpi() {
#ifdef DML_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void abort_world(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
#ifdef DML_HAVE_MPI
  if (g_world_started && world().size() > 1) abort_mpi_job(exit_code);
#endif
  std::exit(exit_code);
}

}  // namespace dml::dist
