#pragma once
// A flag that is shorthand for one config key (`dml train --lr` for
// optimizer.lr), typed and defaulted in --help like the key's value in
// default_config() (INT, FLOAT, BOOL or TEXT).
#include <CLI/CLI.hpp>

#include <string>

namespace dml::tools {

// The value stays text and goes through the config's checks as an override;
// a value of the wrong type (--lr 1e-3x, --epochs 2.5) is refused here too,
// as a command-line error before anything runs. `value` stays empty unless
// the flag is given.
CLI::Option* add_config_flag(CLI::App* cmd, const std::string& flag, const std::string& key,
                             const std::string& help, std::string& value);

}  // namespace dml::tools
