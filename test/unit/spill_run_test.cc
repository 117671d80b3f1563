// SpillRun: what a run holds is found (in any block, first and last
// included), what it does not is not; a merge keeps the later time of an id
// in both runs and drops what is expired; a run's file is gone from its
// directory as soon as it is made. (A full disk: test/cli/state_memory_test.sh.)

#include "state/spill_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace tally {
namespace {

class SpillRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("tally-spill-run-test-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `n` entries with random ids, sorted; times 0..n-1 in id order scrambled.
  static std::vector<SpillEntry> Random(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<SpillEntry> entries;
    for (size_t i = 0; i < n; ++i) entries.push_back(SpillEntry{rng(), rng(), static_cast<Micros>(rng() % 1000)});
    std::sort(entries.begin(), entries.end());
    return entries;
  }

  static std::optional<Micros> Find(const SpillRun& run, const Uuid& id) {
    auto t = run.Find(id, BlockedBloomFilter::HashOf(id));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : std::nullopt;
  }

  std::string dir_;
};

TEST_F(SpillRunTest, FindsWhatItHoldsAndNothingElse) {
  // Several blocks and a partial last one.
  const auto entries = Random(5 * SpillRun::kBlockEntries + 17, 1);
  auto run = SpillRun::Write(dir_, entries);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->entries(), entries.size());
  for (const SpillEntry& e : entries) EXPECT_EQ(Find(**run, e.id()), e.time);
  // Absent ids: below the first, above the last, between two neighbours.
  EXPECT_EQ(Find(**run, Uuid{0, 0}), std::nullopt);
  EXPECT_EQ(Find(**run, Uuid{~0ull, ~0ull}), std::nullopt);
  for (size_t i = 0; i + 1 < entries.size(); i += 7) {
    Uuid between = entries[i].id();
    ++between.lo;  // lo is random 64 bits: the next id is almost surely absent
    if (between == entries[i + 1].id()) continue;
    EXPECT_EQ(Find(**run, between), std::nullopt);
  }
  // The file is unlinked: the directory stays empty.
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(SpillRunTest, MergeKeepsTheLaterTimeAndDropsTheExpired) {
  auto older_entries = Random(1000, 2);
  auto newer_entries = Random(700, 3);
  // Ids in both, with an earlier and a later time in the newer run.
  for (size_t i = 0; i < 100; ++i) {
    SpillEntry e = older_entries[i * 9];
    e.time = (i % 2 == 0) ? e.time + 500 : e.time / 2;
    newer_entries.push_back(e);
  }
  std::sort(newer_entries.begin(), newer_entries.end());
  std::map<Uuid, Micros> expected;
  for (const auto* side : {&older_entries, &newer_entries}) {
    for (const SpillEntry& e : *side) {
      auto [it, added] = expected.emplace(e.id(), e.time);
      if (!added) it->second = std::max(it->second, e.time);
    }
  }
  auto older = SpillRun::Write(dir_, older_entries);
  auto newer = SpillRun::Write(dir_, newer_entries);
  ASSERT_TRUE(older.ok() && newer.ok());
  constexpr Micros kWatermark = 300;
  auto merged = SpillRun::Merge(dir_, **older, **newer, kWatermark);
  ASSERT_TRUE(merged.ok()) << merged.status();
  size_t live = 0;
  for (const auto& [id, t] : expected) {
    if (t >= kWatermark) {
      ++live;
      EXPECT_EQ(Find(**merged, id), t);
    } else {
      EXPECT_EQ(Find(**merged, id), std::nullopt);
    }
  }
  EXPECT_EQ((*merged)->entries(), live);
  EXPECT_GT(live, 0u);
  EXPECT_LT(live, expected.size());
}

}  // namespace
}  // namespace tally
