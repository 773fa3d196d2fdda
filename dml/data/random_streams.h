#pragma once
// Named random streams. Every random draw of a run comes from a Generator
// keyed by stream_seed(seed, stream, indices): the run's seed, the consumer's
// Stream and the coordinates that keep its draws apart (epoch, batch, class
// ...). Philox (base/philox.h) gives the same sequence for the same key, so
// two consumers drawing from one key would draw the same numbers. For one
// seed, stream_seed gives every (stream, indices) a key of its own, by
// construction rather than by chance:
//
// The stream's id fills the top 8 bits of a 64-bit word and its indices fixed
// fields of the 56 below (each stream's fields are listed with it; an index
// too large for its field is an error, never truncated), so the word is a
// one-to-one function of (stream, indices). The key is the word XOR a hash of
// the seed, passed through splitmix64; XOR with a constant, adding a
// constant, xor-shifts and products with odd constants are all bijections of
// 64-bit words, so distinct words give distinct keys. splitmix64 also makes
// nearby words (epoch 3 and 4) unrelated keys.
//
// Different seeds are different roots: their keys are unrelated hashes, not
// distinct by construction from each other's (the tone benchmark's data seed
// is a root of its own, so its images stay the same under any train.seed).
#include <cstdint>
#include <initializer_list>

namespace dml::data {

// Each consumer of randomness, with the indices (and their widths in bits)
// its key takes.
enum class Stream : uint8_t {
  // (): the process-wide generator (dml::manual_seed): the initial weights of
  // the model and of PARADE's branches, dropout. Checkpoints save its state.
  model,
  loss_init,         // (): the class loss's parameters (proxies)
  parade_loss_init,  // (): the parameters of PARADE's attribute losses
  sampler,           // (epoch: 32): the m-per-class batches
  augmentation,      // (epoch: 20, batch: 20, sample of the batch: 16): one image's transform
  miner,             // (epoch: 32): the miner's (and fused margin loss's) draws
  clustering,        // (): k-means++ seeding for the evaluation's NMI and F1
  tone_choice,       // (split: 8, class: 24): which images of a class the tone benchmark changes
  tone_noise,        // (split: 8, class: 24, image of the class: 24): its noise transform
  audit_alignment,   // (): the audit's sampled alignment pairs
  audit_leakage,     // (): the audit's split for the attribute probe
  audit_downstream,  // (): the audit's downstream split and subsampling
  audit_map,         // (): the audit's embedding-map points
  pattern_choice,    // (split: 8, class: 24): the tone benchmark's second attribute, as tone_choice
  pattern_noise,     // (split: 8, class: 24, image of the class: 24): as tone_noise
  audit_bootstrap,   // (): the audit's bootstrap resamples of the queries
};
inline constexpr int kStreamCount = int(Stream::audit_bootstrap) + 1;

const char* stream_name(Stream stream);

// The key of `stream`'s generator: indices as listed with the stream, in
// order. A wrong count or an index too large for its field throws.
uint64_t stream_seed(uint64_t seed, Stream stream, std::initializer_list<uint64_t> indices = {});

}  // namespace dml::data
