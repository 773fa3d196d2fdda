#pragma once
// The world of N ranks over MPI (only in a build with MPI; mpi.h stays in
// the .cpp, so nothing above sees it).
#include <memory>

#include "engine/distributed/communicator.h"
#include "engine/distributed/launch_environment.h"

namespace dml::dist {

// Initialises MPI (FUNNELED: only the main thread calls it), checks its
// rank and size against what the launcher said, and learns where every
// rank runs. Collective: every rank of the job calls it. MPI is finalised
// when the communicator is destroyed (at exit), unless a collective was
// left unfinished by a timeout or a lost rank (finalising would hang then;
// the launcher ends the job).
std::unique_ptr<Communicator> make_mpi_world(const LaunchEnvironment& env);

// MPI_Abort of the whole job when MPI is running; returns otherwise.
void abort_mpi_job(int exit_code);

}  // namespace dml::dist
