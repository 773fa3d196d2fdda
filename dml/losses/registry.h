#pragma once
// Every loss by name: one entry per loss with its factory and its documented
// parameters (defaults, ranges), so configs and command lines pick a loss by
// its snake_case name and get clear errors for typos. Each loss registers its
// entry from its own .cpp (see dml/registry.h).
//
//   auto loss = dml::losses::make_loss("triplet", ctx, {{"margin", 0.1}});
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dml/losses/loss.h"
#include "dml/params.h"
#include "dml/registry.h"

namespace dml::losses {

using LossParams = ParamValues;
// Receives every parameter of its entry, defaults filled in and ranges checked.
using LossFactory = std::function<std::unique_ptr<Loss>(const LossContext&, const LossParams&)>;

// What a loss learns from, which decides what it needs and accepts.
enum class LossKind {
  tuple,  // pairs or triplets of the batch; takes a miner's tuples; no context needed
  proxy,  // learnable rows per class; needs ctx.num_classes, embedding_dim and gen;
          // ignores mined tuples
};

struct LossEntry {
  std::string name;
  LossKind kind;
  std::string summary;  // paper and one line on what it does
  std::vector<ParamSpec> params;
  LossFactory make;
};

// Where each loss's .cpp adds its entry.
Registry<LossEntry>& loss_registry();

// The entries, sorted by name.
const std::vector<LossEntry>& loss_table();

// Throws dml::Error for an unknown name (listing the known ones), an unknown
// parameter or a value out of range (naming the loss, parameter and the
// allowed keys).
std::unique_ptr<Loss> make_loss(const std::string& name, const LossContext& ctx,
                                const LossParams& params = {});
std::vector<std::string> loss_names();
const LossEntry& loss_entry(const std::string& name);

}  // namespace dml::losses
