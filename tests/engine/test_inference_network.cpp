// engine/inference: the memory plan's placement rule, and a Network's plan
// refusing an input too small for one of its steps.
#include <gtest/gtest.h>

#include "base/error.h"
#include "engine/inference/memory_plan.h"
#include "engine/inference/network.h"

namespace dml::inference {
namespace {

bool disjoint(const MemoryPlan& p, const std::vector<Lifetime>& v, size_t a, size_t b) {
  return p.offsets[a] + v[a].floats <= p.offsets[b] || p.offsets[b] + v[b].floats <= p.offsets[a];
}

TEST(MemoryPlan, ValuesAliveTogetherNeverOverlapAndDeadOnesAreReused) {
  // A chain a -> b -> c -> d with a skip from a to d (a residual), then e.
  const std::vector<Lifetime> v = {
      {1000, 0, 3}, {300, 1, 2}, {300, 2, 3}, {1000, 3, 4}, {500, 4, 5}};
  const MemoryPlan p = plan_memory(v);
  for (size_t a = 0; a < v.size(); ++a)
    for (size_t b = a + 1; b < v.size(); ++b) {
      if (v[a].first <= v[b].last && v[b].first <= v[a].last) {
        EXPECT_TRUE(disjoint(p, v, a, b)) << a << " and " << b << " are alive together";
      }
    }
  for (int64_t offset : p.offsets) EXPECT_EQ(offset % kPlanAlignment, 0);
  // The largest set alive at once, {a, c, d} at step 3, after alignment (1000
  // rounds up to 1008, 300 to 304): well below the 3100 floats of all five.
  EXPECT_EQ(p.floats, 1008 + 304 + 1008);
  // e (steps 4-5) takes a's place, dead since step 3.
  EXPECT_EQ(p.offsets[4], p.offsets[0]);
}

TEST(MemoryPlan, EmptyProgramNeedsNoArena) {
  EXPECT_EQ(plan_memory({}).floats, 0);
}

FoldedConv unpadded_3x3(int64_t in, int64_t out) {
  FoldedConv c;
  c.in_channels = in;
  c.out_channels = out;
  c.kernel = 3;
  c.weight.assign(size_t(9 * in * out), 0.f);
  c.bias.assign(size_t(out), 0.f);
  return c;
}

TEST(InferenceNetwork, RefusesAnImageTooSmallForAStepNamingIt) {
  Network net(2);
  const ValueId h = net.conv("first", Network::input(), unpadded_3x3(2, 4), kNoValue, true);
  const ValueId g = net.conv("second", h, unpadded_3x3(4, 4), kNoValue, true);
  EmbeddingHead head;
  head.weight.assign(4 * 3, 0.f);
  head.bias.assign(3, 0.f);
  net.head(g, head);
  EXPECT_EQ(net.plan(1, 5, 5, 1).shapes[size_t(g)].height, 1);
  try {
    net.plan(1, 4, 5, 1);
    FAIL() << "a 4 x 5 image planned";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("images of 4 x 5 px are too small: second"),
              std::string::npos)
        << e.what();
  }
}

FoldedConv pointwise(int64_t channels) {
  FoldedConv c;
  c.in_channels = c.out_channels = channels;
  c.weight.assign(size_t(channels * channels), 0.f);
  c.bias.assign(size_t(channels), 0.f);
  return c;
}

EmbeddingHead head_of(int64_t features) {
  EmbeddingHead head;
  head.weight.assign(size_t(features * 2), 0.f);
  head.bias.assign(2, 0.f);
  return head;
}

TEST(InferenceNetwork, ASumOverADyingResidualSharesItsBuffer) {
  // a -> b -> c = conv(b) + a: a dies with c, so c is written over a.
  Network net(4);
  const ValueId a = net.conv("a", Network::input(), pointwise(4), kNoValue, true);
  const ValueId b = net.conv("b", a, pointwise(4), kNoValue, true);
  const ValueId c = net.conv("c", b, pointwise(4), a, true);
  net.head(c, head_of(4));
  const Plan p = net.plan(2, 3, 3, 1);
  EXPECT_EQ(p.offsets[size_t(c)], p.offsets[size_t(a)]);
  EXPECT_NE(p.offsets[size_t(b)], p.offsets[size_t(a)]);
}

TEST(InferenceNetwork, AResidualReadLaterKeepsItsOwnBuffer) {
  // c = conv(b) + a, and d = conv(c) + a: c must not overwrite a.
  Network net(4);
  const ValueId a = net.conv("a", Network::input(), pointwise(4), kNoValue, true);
  const ValueId b = net.conv("b", a, pointwise(4), kNoValue, true);
  const ValueId c = net.conv("c", b, pointwise(4), a, true);
  const ValueId d = net.conv("d", c, pointwise(4), a, true);
  net.head(d, head_of(4));
  const Plan p = net.plan(2, 3, 3, 1);
  EXPECT_NE(p.offsets[size_t(c)], p.offsets[size_t(a)]);
  EXPECT_EQ(p.offsets[size_t(d)], p.offsets[size_t(a)]);
}

TEST(InferenceNetwork, ALargeBatchRunsInEvenPassesThroughAnArenaOfOnePass) {
  Network net(4);
  net.head(net.conv("a", Network::input(), pointwise(4), kNoValue, true), head_of(4));
  // 3 x 3 maps: 57 images give a pass its 512 rows, so 100 go in 2 passes of 50.
  const Plan small = net.plan(50, 3, 3, 1), large = net.plan(100, 3, 3, 1);
  EXPECT_EQ(small.pass, 50);
  EXPECT_EQ(large.pass, 50);
  EXPECT_EQ(large.arena_floats, small.arena_floats);
  EXPECT_EQ(net.plan(57, 3, 3, 1).pass, 57);
}

TEST(InferenceNetwork, RefusesAConvolutionOnTheWrongChannelCount) {
  Network net(3);
  try {
    net.conv("stem", Network::input(), unpadded_3x3(2, 4), kNoValue, true);
    FAIL() << "a 2-channel convolution took a 3-channel input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stem: takes 2 channels, but its input has 3"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dml::inference
