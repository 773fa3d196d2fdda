// dml: the command-line front end. Subcommands parse their options with
// CLI11 and call into the library; every failure ends as one line on stderr
// and a non-zero exit status.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "engine/error.h"
#include "tools/train_command.h"

namespace {

void add_train_command(CLI::App& app, dml::tools::TrainOptions& o) {
  CLI::App* train = app.add_subcommand("train", "Train a tiny CNN on Fashion-MNIST (demo)");
  train->add_option("--data", o.data, "Directory holding the Fashion-MNIST IDX files")
      ->capture_default_str();
  train->add_option("--epochs", o.epochs, "Passes over the training images")->capture_default_str();
  train->add_option("--batch-size", o.batch_size, "Images per step")->capture_default_str();
  train->add_option("--lr", o.lr, "Adam learning rate")->capture_default_str();
  train->add_option("--seed", o.seed, "Seed for initialisation and shuffling")
      ->capture_default_str();
  train->add_option("--limit", o.limit, "Use only the first N training images")
      ->capture_default_str();
  train->add_option("--log-every", o.log_every, "Steps between loss reports")
      ->capture_default_str();
  train->add_option("--threads", o.threads, "CPU threads for OpenMP kernels (0: default)")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dml: deep metric learning engine"};
  app.require_subcommand(1);
  dml::tools::TrainOptions train_options;
  add_train_command(app, train_options);
  CLI11_PARSE(app, argc, argv);

  try {
    if (app.got_subcommand("train")) dml::tools::run_train(train_options);
  } catch (const dml::Error& e) {
    std::fprintf(stderr, "dml: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dml: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
