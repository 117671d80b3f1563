// ProcessBatch must have exactly the effects of Process on each record: the same
// counts, the same dead letters in the same order, the same rows at every trigger.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/daily_count_processor.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

// A stream with every kind of record: new events, re-sends, late ones, invalid ones.
std::vector<std::string> MakeStream(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> lines;
  int64_t clock = 1'704'067'200;  // 2024-01-01T00:00:00Z
  for (int i = 0; i < n; ++i) {
    const uint64_t r = rng() % 100;
    if (r < 8 && !lines.empty()) {  // a re-send of a recent line (maybe invalid, maybe late by now)
      lines.push_back(lines[lines.size() - 1 - rng() % std::min<size_t>(lines.size(), 50)]);
      continue;
    }
    if (r < 12) {
      lines.push_back(r % 2 ? "not json" : R"({"EventUUID":"x","UserUUID":"y","EventName":"e","CreatedAt":1})");
      continue;
    }
    clock += static_cast<int64_t>(rng() % 600);
    const int64_t lag = r < 20 ? 4 * 3600 : static_cast<int64_t>(rng() % 1800);  // some beyond the 2h lateness
    lines.push_back(absl::StrFormat(
        R"({"EventUUID":"00000000-0000-4000-8000-%012x","UserUUID":"10000000-0000-4000-8000-%012x","EventName":"e","CreatedAt":%d})",
        rng() % 5000, rng() % 40, clock - lag));
  }
  return lines;
}

struct Pipeline {
  explicit Pipeline(const ProcessorOptions& options) : processor(options, &dedup, &windows) {}
  MemoryDedupStore dedup{64};
  MemoryWindowStore windows;
  DailyCountProcessor processor;
  std::vector<TriggerOutput> triggers;
};

void ExpectSameTrigger(const TriggerOutput& a, const TriggerOutput& b) {
  auto key = [](const DailyCount& r) { return std::tie(r.user, r.day, r.count); };
  auto sorted = [&](std::vector<DailyCount> v) {
    std::sort(v.begin(), v.end(), [&](const DailyCount& x, const DailyCount& y) { return key(x) < key(y); });
    return v;
  };
  EXPECT_EQ(sorted(a.updates), sorted(b.updates));
  EXPECT_EQ(sorted(a.finalized), sorted(b.finalized));
}

TEST(ProcessBatch, HasExactlyTheEffectsOfProcessOnEachRecord) {
  ProcessorOptions options;
  options.lateness = 2 * 3600 * kMicrosPerSecond;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<std::string> lines = MakeStream(seed, 3000);
    Pipeline one(options), batched(options);
    std::mt19937_64 rng(seed * 7919);
    size_t i = 0;
    while (i < lines.size()) {
      const size_t n = std::min<size_t>(lines.size() - i, rng() % 40);  // 0 to 39, lookahead is 8
      std::vector<SourceRecord> records;
      for (size_t k = i; k < i + n; ++k) {
        records.push_back(SourceRecord{lines[k], RecordOrigin{3, static_cast<int64_t>(k)}});
        one.processor.Process(lines[k], /*padded=*/false, records.back().origin);
      }
      batched.processor.ProcessBatch(records, /*padded=*/false);
      i += n;
      const bool end = i == lines.size();
      one.triggers.emplace_back();
      batched.triggers.emplace_back();
      one.processor.Trigger(&one.triggers.back(), end);
      batched.processor.Trigger(&batched.triggers.back(), end);
    }
    const RecordCounts& a = one.processor.counts();
    const RecordCounts& b = batched.processor.counts();
    ASSERT_EQ(a.records, static_cast<int64_t>(lines.size()));
    EXPECT_GT(a.late, 0) << "the stream should exercise late records";
    EXPECT_GT(a.duplicates, 0);
    EXPECT_GT(a.invalid, 0);
    EXPECT_EQ(a.records, b.records);
    EXPECT_EQ(a.invalid, b.invalid);
    EXPECT_EQ(a.late, b.late);
    EXPECT_EQ(a.duplicates, b.duplicates);
    EXPECT_EQ(a.counted, b.counted);
    const auto& da = one.processor.dead_letters();
    const auto& db = batched.processor.dead_letters();
    ASSERT_EQ(da.size(), db.size());
    for (size_t k = 0; k < da.size(); ++k) {
      EXPECT_EQ(da[k].reason, db[k].reason);
      EXPECT_EQ(da[k].detail, db[k].detail);
      EXPECT_EQ(da[k].bytes, db[k].bytes);
      EXPECT_EQ(da[k].origin.partition, db[k].origin.partition);
      EXPECT_EQ(da[k].origin.position, db[k].origin.position);
    }
    ASSERT_EQ(one.triggers.size(), batched.triggers.size());
    for (size_t k = 0; k < one.triggers.size(); ++k) ExpectSameTrigger(one.triggers[k], batched.triggers[k]);
  }
}

}  // namespace
}  // namespace tally
