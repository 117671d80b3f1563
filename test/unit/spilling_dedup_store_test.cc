// SpillingDedupStore under a budget far below its state: the same verdicts
// as MemoryDedupStore on the same random streams (duplicates, late ids,
// expiry, ids re-used after they expired), while most entries live on disk
// and its memory stays within its share.

#include "state/spilling_dedup_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/watermark.h"
#include "state/memory_dedup_store.h"

namespace tally {
namespace {

constexpr Micros kSecond = 1000 * 1000;
constexpr Micros kHour = 3600 * kSecond;

std::string TestDir(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
           std::to_string(getpid())))
      .string();
}

struct StreamOptions {
  uint64_t seed = 1;
  int events = 120000;
  int id_pool = 40000;        // ids recur: duplicates while live, re-use once expired
  Micros step = kSecond / 8;  // event time advances this much per event, on average
  Micros jitter = kHour;  // ... give or take up to this (some of it late)
  Micros lateness = kHour;
};

// Feeds one stream to both stores, as DailyCountProcessor does (a late
// record, before the watermark, never reaches the store), and compares
// every verdict.
void ExpectSameVerdicts(const StreamOptions& o, size_t share_bytes) {
  const std::string dir = TestDir("tally-spill-test");
  DedupMemoryShare share(share_bytes);
  auto spilling = SpillingDedupStore::Open(dir, o.lateness, &share);
  ASSERT_TRUE(spilling.ok()) << spilling.status();
  MemoryDedupStore memory;
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> pick(0, o.id_pool - 1);
  std::uniform_int_distribution<Micros> jitter(-o.jitter, o.jitter);
  Micros newest = Watermark::kNone;
  size_t new_ids = 0, duplicates = 0, peak_cold = 0, peak_memory = 0, peak_runs = 0, spills = 0;
  for (int i = 0; i < o.events; ++i) {
    const int n = pick(rng);
    const Uuid id{0x1234567800000000ull ^ static_cast<uint64_t>(n) * 0x9e3779b97f4a7c15ull,
                  static_cast<uint64_t>(n)};
    const Micros t = 1700000000 * kSecond + i * o.step + jitter(rng);
    const Micros watermark = newest == Watermark::kNone ? Watermark::kNone : newest - o.lateness;
    if (t < watermark) continue;  // late
    const bool expected = memory.RecordIfNew(id, t, watermark);
    ASSERT_EQ((*spilling)->RecordIfNew(id, t, watermark), expected) << "event " << i << " id " << n;
    ASSERT_TRUE((*spilling)->status().ok()) << (*spilling)->status();
    (expected ? new_ids : duplicates)++;
    newest = std::max(newest, t);
    spills += (*spilling)->cold_size() > peak_cold;
    peak_cold = std::max(peak_cold, (*spilling)->cold_size());
    peak_runs = std::max(peak_runs, (*spilling)->run_count());
    peak_memory = std::max(peak_memory, (*spilling)->MemoryBytes());
  }
  // The stream must have exercised what it is for.
  EXPECT_GT(duplicates, 1000u);
  EXPECT_GT(new_ids, static_cast<size_t>(o.id_pool));  // ids re-used after expiry
  EXPECT_GT(peak_cold, 2 * (*spilling)->hot_size()) << "most of the state should have spilled";
  EXPECT_LE(peak_memory, share_bytes);
  // Merges keep few runs to probe: with segments as wide as the lateness,
  // about three are live, each with about log2(spills) runs.
  EXPECT_LE(peak_runs, 3 * (1 + static_cast<size_t>(std::log2(std::max<size_t>(spills, 1)))));
  spilling->reset();
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the store removes its directory";
}

TEST(SpillingDedupStore, SameVerdictsAsMemoryUnderATinyBudget) {
  ExpectSameVerdicts(StreamOptions{}, 128 << 10);
}

TEST(SpillingDedupStore, SameVerdictsWithLongLatenessAndManySegments) {
  StreamOptions o;
  o.seed = 7;
  o.lateness = 4 * kHour;  // segments of 2 h; ids recur within the lateness
  o.jitter = 3 * kHour;
  o.step = kSecond / 2;
  ExpectSameVerdicts(o, 256 << 10);
}

TEST(SpillingDedupStore, SameVerdictsWhenEverythingIsLive) {
  StreamOptions o;
  o.seed = 3;
  o.lateness = 10000 * kHour;  // nothing expires: every spilled entry stays live
  o.id_pool = 40000;
  o.events = 100000;
  const std::string dir = TestDir("tally-spill-live");
  DedupMemoryShare share(256 << 10);
  auto spilling = SpillingDedupStore::Open(dir, o.lateness, &share);
  ASSERT_TRUE(spilling.ok()) << spilling.status();
  MemoryDedupStore memory;
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> pick(0, o.id_pool - 1);
  size_t spills = 0, last_cold = 0;
  for (int i = 0; i < o.events; ++i) {
    const int n = pick(rng);
    const Uuid id{static_cast<uint64_t>(n) * 0x9e3779b97f4a7c15ull, ~static_cast<uint64_t>(n)};
    const Micros t = 1700000000 * kSecond + i * kSecond;
    const Micros watermark = t - o.lateness;
    ASSERT_EQ((*spilling)->RecordIfNew(id, t, watermark), memory.RecordIfNew(id, t, watermark))
        << i << " " << (*spilling)->status() << " hot " << (*spilling)->hot_size() << " cold "
        << (*spilling)->cold_size() << " n " << n;
    spills += (*spilling)->cold_size() > last_cold;
    last_cold = (*spilling)->cold_size();
  }
  // One segment (nothing expires), written by many spills: its runs merge
  // down to about log2(spills) of them, each more than twice the next newer.
  EXPECT_GT(spills, 8u);
  EXPECT_LE((*spilling)->run_count(), 1 + static_cast<size_t>(std::log2(static_cast<double>(spills))));
  EXPECT_EQ((*spilling)->size(), memory.size());
  EXPECT_GT((*spilling)->cold_size(), (*spilling)->hot_size());
}

TEST(SpillingDedupStore, StoresShareTheBudget) {
  DedupMemoryShare share(1 << 20);
  EXPECT_EQ(share.PerStore(), 1u << 20);
  auto a = SpillingDedupStore::Open(TestDir("tally-spill-a"), kHour, &share);
  auto b = SpillingDedupStore::Open(TestDir("tally-spill-b"), kHour, &share);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(share.PerStore(), 1u << 19);
  b->reset();
  EXPECT_EQ(share.PerStore(), 1u << 20);
}

}  // namespace
}  // namespace tally
