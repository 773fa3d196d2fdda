#pragma once
// Which rank of how many this process is, as the launcher that started it
// says in the environment: mpirun (OMPI_COMM_WORLD_*), a PMI launcher
// (PMI_SIZE / PMI_RANK) or srun (SLURM_*). Read before MPI is initialised,
// so that a process started alone never initialises it.
#include <functional>
#include <string>

namespace dml::dist {

struct LaunchEnvironment {
  int rank = 0;
  int size = 1;
  // This rank among the ranks on its machine and how many there are; -1
  // where the launcher does not say (they are then found from host names).
  int local_rank = -1;
  int local_size = -1;
  std::string size_variable;  // the variable that gave the size ("" alone)
};

using EnvironmentLookup = std::function<const char*(const char* name)>;

// From `lookup` (tests pass their own); an Error for a value that is not a
// number or a rank outside the size.
LaunchEnvironment read_launch_environment(const EnvironmentLookup& lookup);
// From the process's environment.
LaunchEnvironment launch_environment();

}  // namespace dml::dist
