#include "dml/data/random_streams.h"

#include <algorithm>
#include <array>

#include "base/error.h"

namespace dml::data {

namespace {

constexpr int kIdBits = 8, kIndexBits = 64 - kIdBits;

struct Layout {
  Stream stream;
  const char* name;
  std::array<int, 3> bits;  // the indices' field widths, most significant first; 0: none
};

constexpr std::array<Layout, kStreamCount> kLayouts = {{
    {Stream::model, "model", {}},
    {Stream::loss_init, "loss_init", {}},
    {Stream::parade_loss_init, "parade_loss_init", {}},
    {Stream::sampler, "sampler", {32}},
    {Stream::augmentation, "augmentation", {20, 20, 16}},
    {Stream::miner, "miner", {32}},
    {Stream::clustering, "clustering", {}},
    {Stream::tone_choice, "tone_choice", {8, 24}},
    {Stream::tone_noise, "tone_noise", {8, 24, 24}},
    {Stream::audit_alignment, "audit_alignment", {}},
    {Stream::audit_leakage, "audit_leakage", {}},
    {Stream::audit_downstream, "audit_downstream", {}},
    {Stream::audit_map, "audit_map", {}},
    {Stream::pattern_choice, "pattern_choice", {8, 24}},
    {Stream::pattern_noise, "pattern_noise", {8, 24, 24}},
    {Stream::audit_bootstrap, "audit_bootstrap", {}},
}};

constexpr bool layouts_fit() {
  for (size_t s = 0; s < kLayouts.size(); ++s) {
    const Layout& l = kLayouts[s];
    if (l.stream != Stream(s) || l.bits[0] + l.bits[1] + l.bits[2] > kIndexBits) return false;
    if ((l.bits[0] == 0 && l.bits[1] > 0) || (l.bits[1] == 0 && l.bits[2] > 0)) return false;
  }
  return true;
}
// In enum order (the id is the position); each stream's fields, leading, within its 56 bits.
static_assert(layouts_fit());
static_assert(kStreamCount <= 1 << kIdBits);

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const Layout& layout_of(Stream stream) {
  DML_CHECK(size_t(stream) < kLayouts.size(), "random streams: no stream ", int(stream));
  return kLayouts[size_t(stream)];
}

}  // namespace

const char* stream_name(Stream stream) {
  return layout_of(stream).name;
}

uint64_t stream_seed(uint64_t seed, Stream stream, std::initializer_list<uint64_t> indices) {
  const Layout& layout = layout_of(stream);
  const auto fields = size_t(
      std::count_if(layout.bits.begin(), layout.bits.end(), [](int bits) { return bits > 0; }));
  DML_CHECK(indices.size() == fields, "random stream ", layout.name, ": expects ", fields,
            fields == 1 ? " index" : " indices", ", got ", indices.size());
  uint64_t word = uint64_t(stream);
  int used = 0;
  for (size_t k = 0; k < fields; ++k) {
    const int bits = layout.bits[k];
    const uint64_t index = indices.begin()[k];
    DML_CHECK(index >> bits == 0, "random stream ", layout.name, ": index ", k, " = ", index,
              " needs more than its ", bits, " bits");
    word = word << bits | index;
    used += bits;
  }
  word <<= kIndexBits - used;  // the id in the top 8 bits
  return splitmix64(word ^ splitmix64(seed));
}

}  // namespace dml::data
