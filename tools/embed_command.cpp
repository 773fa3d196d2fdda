// dml embed: images (files, or a split of the model's dataset) to embeddings
// in .npy, with their labels (and attribute labels, when the dataset has
// them) beside them.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "dml/train/datasets.h"
#include "dml/train/embed.h"
#include "dml/train/finite_values.h"
#include "dml/train/model_factory.h"
#include "dml/train/run_names.h"
#include "engine/npy.h"
#include "tools/commands.h"

namespace dml::tools {

namespace {

void remove_stale_file(const std::string& path) {
  std::error_code error;
  std::filesystem::remove(path, error);
  DML_CHECK(!error, "embed: cannot remove ", path,
            ", left by an earlier embedding: ", error.message(),
            "; remove it, or choose another --output");
}

struct EmbedArgs {
  ModelArgs model;
  std::string split, output;
  std::vector<std::string> images;
};

}  // namespace

Command add_embed_command(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app.add_subcommand(
      "embed", "Embed images or a dataset split: <out>.embeddings.npy and <out>.labels.npy");
  add_model_options(cmd, args->model);
  auto* split =
      cmd->add_option("--split", args->split, "train or test split of the model's dataset")
          ->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--images", args->images, "Image files (JPEG, PNG) to embed instead of a split")
      ->excludes(split);
  cmd->add_option("--output", args->output, "Output prefix")->required();
  return [args] {
    DML_CHECK(!args->split.empty() || !args->images.empty(),
              "embed: give --split train|test or --images FILE...");
    train::TrainedModel m = train::load_trained_model(
        args->model.checkpoint, args->model.overrides(), parse_device(args->model.device));
    data::SampleSet set;
    if (args->images.empty()) {
      set = train::open_split(m.typed.data, args->split);
    } else {
      set.name = "images";
      for (const std::string& path : args->images) set.samples.push_back({.path = path});
    }
    train::Embedded e = train::embed_samples(
        *m.model, set, train::make_sample_loader(m.typed, false), 256, m.typed.run.workers);
    // Nothing is written when a row is not finite.
    train::check_finite_embeddings(e.embeddings, "embed " + set.name);
    // All files or none: each is written under its temporary name before any
    // is renamed. Without attributes, an earlier embedding's file of that
    // name would pair its rows with these: it goes.
    const std::string attributes = args->output + ".attributes.npy";
    const bool with_attributes = e.attributes.size(1) > 0;
    const auto npy = [](std::string path, const Tensor& t) {
      return FileToWrite{path, [path, &t](AtomicFile& out) { write_npy_to(out, path, t); }};
    };
    std::vector<FileToWrite> files = {npy(args->output + ".embeddings.npy", e.embeddings),
                                      npy(args->output + ".labels.npy", e.labels)};
    if (with_attributes) files.push_back(npy(attributes, e.attributes));
    const std::string names = train::names_json({&set}).dump(2) + "\n";
    files.push_back({train::embedding_names_path(args->output),
                     [&names](AtomicFile& out) { out.write(names); }});
    write_files_atomically(files);
    if (!with_attributes) remove_stale_file(attributes);
    std::printf("%s: %lld embeddings of size %lld -> %s.embeddings.npy\n", set.name.c_str(),
                (long long)e.embeddings.size(0), (long long)e.embeddings.size(1),
                args->output.c_str());
  };
}

}  // namespace dml::tools
