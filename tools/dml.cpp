// dml: the command-line front end. Subcommands parse their options with
// CLI11 and call into the library; every failure ends as one line on stderr
// and a non-zero exit status: 2 for a command line that does not parse, 1
// for a command that fails. Started as one of several ranks (mpirun, srun),
// rank 0 alone prints what a command reports; a rank's error names the rank
// and ends the whole job at once, rather than leaving the other ranks to
// wait for it until their collectives time out.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>

#include "base/error.h"
#include "engine/distributed/communicator.h"
#include "tools/commands.h"

namespace dml::tools {

CLI::Option* add_model_options(CLI::App* cmd, ModelArgs& args, bool checkpoint_required) {
  CLI::Option* checkpoint = cmd->add_option("--checkpoint", args.checkpoint,
                                            "checkpoint.safetensors or model.safetensors")
                                ->required(checkpoint_required);
  cmd->add_option("--set", args.sets,
                  "Override a config key, e.g. data.root=/data/CUB_200_2011 (repeatable)");
  cmd->add_option("--device", args.device, "Where the model runs: cpu, cuda or cuda:N")
      ->capture_default_str();
  add_threads_option(cmd, args.threads);
  return checkpoint;
}

std::vector<std::string> ModelArgs::overrides() const {
  std::vector<std::string> out = sets;
  for (const std::string& t : threads_override(threads)) out.push_back(t);
  return out;
}

void add_threads_option(CLI::App* cmd, int64_t& threads) {
  cmd->add_option("--threads", threads,
                  "OpenMP threads for the kernels (0: all cores; default: the config's "
                  "train.threads)")
      ->check(at_least(0));
}

CLI::Validator at_least(int64_t minimum) {
  return CLI::Validator(
      [minimum](std::string& text) -> std::string {
        size_t used = 0;
        try {
          if (std::stoll(text, &used) >= minimum && used == text.size()) return "";
        } catch (const std::exception&) {
        }
        return "'" + text + "' is not an integer >= " + std::to_string(minimum);
      },
      "", "at least " + std::to_string(minimum));
}

std::vector<std::string> threads_override(int64_t threads) {
  if (threads == kConfigThreads) return {};
  return {"train.threads=" + std::to_string(threads)};
}

namespace {

// The deepest subcommand the parse reached, whose --help lists what it takes.
const CLI::App& deepest_command(const CLI::App& app) {
  const CLI::App* cmd = &app;
  while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
  return *cmd;
}

// "dml train", "dml experiment findml".
std::string command_path(const CLI::App& cmd) {
  return cmd.get_parent() ? command_path(*cmd.get_parent()) + " " + cmd.get_name() : "dml";
}

// Instead of CLI11's "A subcommand is required": the word that is not a
// command, if any, and the commands there are.
std::string missing_command(const CLI::App& cmd) {
  std::string names;
  for (const CLI::App* sub : cmd.get_subcommands([](const CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  const std::vector<std::string> stray = cmd.remaining();
  return (stray.empty() ? "'" + command_path(cmd) + "' needs a command"
                        : "unknown command '" + stray.front() + "'") +
         " (commands: " + names + ")";
}

// CLI11's messages, on one line with the tool's prefix and where to look.
int report_parse_error(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == int(CLI::ExitCodes::Success)) return app.exit(e);  // --help
  const CLI::App& cmd = deepest_command(app);
  std::string what = e.what();
  if (what == "A subcommand is required") what = missing_command(cmd);
  for (char& c : what)
    if (c == '\n') c = ' ';
  // CLI11 says "--seeds: At Most 1 required but received 2" for a flag given twice.
  if (const size_t at = what.find(": At Most 1 required but received "); at != std::string::npos)
    what = what.substr(0, at) + " was given " + what.substr(at + 34) + " times; give it once";
  std::fprintf(stderr, "dml: error: %s; run '%s --help'\n", what.c_str(),
               command_path(cmd).c_str());
  return 2;
}

// An error is one line, also when what it names holds a line break (a file
// name may): the break is shown escaped.
std::string on_one_line(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : std::string(1, c);
  return out;
}

// The job this process is a rank of (a world of one outside mpirun or srun).
// Ranks other than 0 print nothing on stdout: their progress and results
// would repeat rank 0's; their errors still reach stderr.
const dist::Communicator& join_world() {
  const dist::Communicator& ranks = dist::world();
  if (ranks.size() > 1 && ranks.rank() != 0 && !std::freopen("/dev/null", "w", stdout))
    throw Error(detail::concat("rank ", ranks.rank(), ": cannot silence its output (/dev/null: ",
                               std::strerror(errno), ")"));
  return ranks;
}

// Commands that split their work over ranks (train, eval) or only print
// (list, config) run under mpirun; the others would have every rank repeat
// the whole command and write the same files, so several ranks are refused.
void refuse_ranks_unless_shared(const std::string& command, const dist::Communicator& ranks) {
  for (const char* shared : {"train", "eval", "list", "config"})
    if (command == shared) return;
  DML_CHECK(ranks.size() == 1, "dml ", command, " runs in one process, but this is one of ",
            ranks.size(), " ranks: start it without mpirun or srun (dml train and dml eval use ",
            "several ranks)");
}

}  // namespace

}  // namespace dml::tools

int main(int argc, char** argv) {
  using namespace dml::tools;
  CLI::App app{"dml: deep metric learning engine (train, evaluate and embed with DML models)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text, "Version, commit, CPU kernel paths and CUDA");
  std::map<std::string, Command> commands = {
      {"train", add_train_command(app)},  {"eval", add_eval_command(app)},
      {"embed", add_embed_command(app)},  {"list", add_list_command(app)},
      {"audit", add_audit_command(app)},  {"experiment", add_experiment_command(app)},
      {"config", add_config_command(app)}};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return report_parse_error(app, e);
  }
  const dml::dist::Communicator* ranks = nullptr;  // once this process has joined its job
  try {
    ranks = &join_world();
    for (auto& [name, run] : commands)
      if (app.got_subcommand(name)) {
        refuse_ranks_unless_shared(name, *ranks);
        run();
      }
  } catch (const std::exception& e) {
    if (ranks && ranks->size() > 1) {
      std::fprintf(stderr, "dml: error: rank %d of %d: %s\n", ranks->rank(), ranks->size(),
                   on_one_line(e.what()).c_str());
      dml::dist::abort_world(1);
    }
    std::fprintf(stderr, "dml: error: %s\n", on_one_line(e.what()).c_str());
    return 1;
  }
  return 0;
}
