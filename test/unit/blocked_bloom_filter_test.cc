// BlockedBloomFilter: no false negatives, and about the false-positive rate
// its 10 bits a key promise, on random ids and on ids that differ in few bits.

#include "state/blocked_bloom_filter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace tally {
namespace {

double FalsePositiveRate(bool sequential) {
  constexpr int kKeys = 100000;
  BlockedBloomFilter filter(kKeys);
  std::mt19937_64 rng(5);
  auto id = [&](int i) {
    return sequential ? Uuid{0x0123456789abcdefull, static_cast<uint64_t>(i)} : Uuid{rng(), rng()};
  };
  for (int i = 0; i < kKeys; ++i) {
    const Uuid u = id(i);
    filter.Add(BlockedBloomFilter::HashOf(u));
    EXPECT_TRUE(filter.MayContain(BlockedBloomFilter::HashOf(u)));
  }
  int hits = 0;
  constexpr int kProbes = 200000;
  for (int i = 0; i < kProbes; ++i) hits += filter.MayContain(BlockedBloomFilter::HashOf(id(kKeys + i)));
  EXPECT_EQ(filter.MemoryBytes(), (kKeys * BlockedBloomFilter::kBitsPerKey + 511) / 512 * 64);
  return static_cast<double>(hits) / kProbes;
}

TEST(BlockedBloomFilter, FewFalsePositivesOnRandomIds) {
  const double rate = FalsePositiveRate(false);
  EXPECT_LT(rate, 0.02);
  EXPECT_GT(rate, 0.0);  // a filter, not a set: it does err
}

TEST(BlockedBloomFilter, FewFalsePositivesOnIdsThatDifferInFewBits) { EXPECT_LT(FalsePositiveRate(true), 0.02); }

TEST(BlockedBloomFilter, AnEmptyFilterHoldsNothing) {
  BlockedBloomFilter filter(0);
  EXPECT_EQ(filter.MemoryBytes(), 64u);
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_FALSE(filter.MayContain(BlockedBloomFilter::HashOf(Uuid{i, i})));
}

}  // namespace
}  // namespace tally
