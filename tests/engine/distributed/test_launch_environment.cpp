// What the launcher's environment says about this process's place in the job.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/error.h"
#include "engine/distributed/launch_environment.h"

namespace dml::dist {
namespace {

LaunchEnvironment read(const std::map<std::string, std::string>& vars) {
  return read_launch_environment([&](const char* name) -> const char* {
    auto found = vars.find(name);
    return found == vars.end() ? nullptr : found->second.c_str();
  });
}

TEST(LaunchEnvironment, AloneIsAWorldOfOne) {
  const LaunchEnvironment env = read({});
  EXPECT_EQ(env.size, 1);
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.local_rank, -1);
  EXPECT_EQ(env.size_variable, "");
}

TEST(LaunchEnvironment, ReadsMpirun) {
  const LaunchEnvironment env = read({{"OMPI_COMM_WORLD_SIZE", "4"},
                                      {"OMPI_COMM_WORLD_RANK", "3"},
                                      {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                      {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  EXPECT_EQ(env.size, 4);
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_size, 2);
  EXPECT_EQ(env.size_variable, "OMPI_COMM_WORLD_SIZE");
}

TEST(LaunchEnvironment, ReadsPmiWithoutLocalRanks) {
  const LaunchEnvironment env = read({{"PMI_SIZE", "2"}, {"PMI_RANK", "1"}});
  EXPECT_EQ(env.size, 2);
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.local_rank, -1);  // found from host names after start-up
}

TEST(LaunchEnvironment, ReadsSrunIncludingPerNodeLists) {
  const LaunchEnvironment env = read({{"SLURM_NTASKS", "6"},
                                      {"SLURM_PROCID", "5"},
                                      {"SLURM_LOCALID", "1"},
                                      {"SLURM_NTASKS_PER_NODE", "2(x3)"}});
  EXPECT_EQ(env.size, 6);
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_size, 2);
}

TEST(LaunchEnvironment, AnAllocationWithoutSrunIsOneProcess) {
  // An sbatch script has SLURM_NTASKS but no SLURM_PROCID until srun.
  EXPECT_EQ(read({{"SLURM_NTASKS", "8"}}).size, 1);
}

TEST(LaunchEnvironment, MpirunInsideAnAllocationWins) {
  const LaunchEnvironment env = read({{"SLURM_NTASKS", "8"},
                                      {"SLURM_PROCID", "0"},
                                      {"OMPI_COMM_WORLD_SIZE", "2"},
                                      {"OMPI_COMM_WORLD_RANK", "1"}});
  EXPECT_EQ(env.size, 2);
  EXPECT_EQ(env.rank, 1);
}

TEST(LaunchEnvironment, RefusesNonsense) {
  EXPECT_THROW(read({{"PMI_SIZE", "two"}, {"PMI_RANK", "0"}}), Error);
  EXPECT_THROW(read({{"PMI_SIZE", "-2"}, {"PMI_RANK", "0"}}), Error);
  try {
    read({{"PMI_SIZE", "2"}, {"PMI_RANK", "2"}});
    FAIL() << "a rank outside the size was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("PMI_RANK=2 is not a rank of PMI_SIZE=2"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dml::dist
