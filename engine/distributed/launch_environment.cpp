#include "engine/distributed/launch_environment.h"

#include <cstdlib>

#include "base/error.h"

namespace dml::dist {

namespace {

// The variables one launcher sets; empty names where it has none.
struct LauncherVariables {
  const char* size;
  const char* rank;
  const char* local_rank;
  const char* local_size;
};

// In order of precedence: mpirun's own names first, since OpenMPI started
// under a Slurm allocation also inherits the SLURM_* ones of the allocation.
constexpr LauncherVariables kLaunchers[] = {
    {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"},
    {"PMI_SIZE", "PMI_RANK", "", ""},
    // srun sets SLURM_PROCID per task; an sbatch script alone has
    // SLURM_NTASKS but runs one process, which SLURM_PROCID's absence tells.
    {"SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
};

// A count or index: digits, then (Slurm's per-node lists, "2(x3)" or "2,1")
// anything after them is this node's share described further, so only the
// leading number is read.
int parse_count(const EnvironmentLookup& lookup, const char* name) {
  const char* text = lookup(name);
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  DML_CHECK(end != text && value >= 0 && value < (1L << 30), "launch environment: ", name, "='",
            text, "' is not a rank or rank count; unset it or start the job with mpirun or srun");
  return int(value);
}

}  // namespace

LaunchEnvironment read_launch_environment(const EnvironmentLookup& lookup) {
  auto present = [&](const char* name) { return name[0] != '\0' && lookup(name) != nullptr; };
  LaunchEnvironment env;
  for (const LauncherVariables& vars : kLaunchers) {
    if (!present(vars.size) || !present(vars.rank)) continue;
    env.size = parse_count(lookup, vars.size);
    env.rank = parse_count(lookup, vars.rank);
    env.size_variable = vars.size;
    DML_CHECK(env.size >= 1 && env.rank < env.size, "launch environment: ", vars.rank, "=",
              env.rank, " is not a rank of ", vars.size, "=", env.size,
              "; start the job with mpirun or srun rather than setting them by hand");
    if (present(vars.local_rank) && present(vars.local_size)) {
      env.local_rank = parse_count(lookup, vars.local_rank);
      env.local_size = parse_count(lookup, vars.local_size);
    }
    return env;
  }
  return env;
}

LaunchEnvironment launch_environment() {
  return read_launch_environment([](const char* name) { return std::getenv(name); });
}

}  // namespace dml::dist
