// Durable task state: the codec round-trips, and a task that crashes at random
// points and resumes from its local store (the last commit) ends exactly where
// an uninterrupted run ends: the same table, the same counts, every dead
// letter once.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/daily_count_processor.h"
#include "state/durable_task_state.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"
#include "state/state_codec.h"

namespace tally {
namespace {

namespace codec = state_codec;

TEST(StateCodec, MetaRoundTrips) {
  codec::Meta m;
  m.has_watermark = true;
  m.max_seen = -123456789;
  m.next_chunk_seq = 42;
  m.counts.records = 10;
  m.counts.invalid = 3;
  m.counts.late = 2;
  m.counts.duplicates = 1;
  m.counts.counted = 4;
  m.counts.invalid_by_reason[1] = 3;
  auto back = codec::DecodeMeta(codec::EncodeMeta(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->max_seen, m.max_seen);
  EXPECT_EQ(back->next_chunk_seq, 42);
  EXPECT_EQ(back->counts.counted, 4);
  EXPECT_EQ(back->counts.invalid_by_reason, m.counts.invalid_by_reason);
  EXPECT_FALSE(codec::DecodeMeta("garbage").has_value());
}

// Meta version 2 (state format 2) has every reason up to wrong_key: one
// short of it, one word too many or the first version's meta is malformed.
// (Reasons added later go last, and a shorter meta then still decodes.)
TEST(StateCodec, MetaOfAnotherShapeIsMalformed) {
  codec::Meta m;
  m.counts.records = 5;
  m.counts.invalid = 5;
  m.counts.invalid_by_reason[static_cast<int>(DeadLetterReason::kBadTime)] = 5;
  m.retained_events = 12345;
  const std::string good = codec::EncodeMeta(m);
  auto back = codec::DecodeMeta(good);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->counts.invalid_by_reason, m.counts.invalid_by_reason);
  EXPECT_EQ(back->retained_events, 12345);
  EXPECT_FALSE(codec::DecodeMeta(good.substr(0, good.size() - 8)).has_value());
  EXPECT_FALSE(codec::DecodeMeta(good + std::string(8, '\0')).has_value());
  std::string first_version = good;
  first_version[0] = 1;
  EXPECT_FALSE(codec::DecodeMeta(first_version).has_value());
}

TEST(StateCodec, ChunksOfCountedEventsRoundTripAndSort) {
  const Uuid user{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  const std::string a = codec::EncodeDedupChunkKey({-2, 5, 0});
  const std::string b = codec::EncodeDedupChunkKey({1, 0, 3});
  EXPECT_LT(a, b);  // days sort by value, negative ones first
  auto k = codec::DecodeDedupChunkKey(b);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->day, 1);
  EXPECT_EQ(k->seq, 0);
  EXPECT_EQ(k->chunk, 3u);
  EXPECT_EQ(codec::DecodeDedupChunkKey(a)->day, -2);
  EXPECT_FALSE(codec::DecodeDedupChunkKey("D").has_value());

  std::string value;
  codec::AppendCountedEvent({user, Uuid{3, 4}, 99}, &value);
  codec::AppendCountedEvent({Uuid{1, 2}, user, -3}, &value);
  std::vector<CountedEvent> events;
  ASSERT_TRUE(codec::ForEachCountedEvent(value, [&](const CountedEvent& e) { events.push_back(e); }));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, user);
  EXPECT_EQ(events[0].user, (Uuid{3, 4}));
  EXPECT_EQ(events[0].time, 99);
  EXPECT_EQ(events[1].user, user);
  EXPECT_EQ(events[1].time, -3);
  EXPECT_FALSE(codec::ForEachCountedEvent("short", [](const CountedEvent&) {}));
}

std::vector<std::string> MakeStream(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> lines;
  int64_t clock = 1'704'067'200;
  for (int i = 0; i < n; ++i) {
    const uint64_t r = rng() % 100;
    if (r < 10 && !lines.empty()) {
      lines.push_back(lines[lines.size() - 1 - rng() % std::min<size_t>(lines.size(), 400)]);
      continue;
    }
    if (r < 13) {
      lines.push_back("not json");
      continue;
    }
    clock += static_cast<int64_t>(rng() % 300);
    const int64_t lag = r < 18 ? 5 * 3600 : static_cast<int64_t>(rng() % 7200);
    lines.push_back(absl::StrFormat(
        R"({"EventUUID":"00000000-0000-4000-8000-%012x","UserUUID":"10000000-0000-4000-8000-%012x","EventName":"e","CreatedAt":%d})",
        rng() % 20000, rng() % 30, clock - lag));
  }
  return lines;
}

using Table = std::map<std::pair<Uuid, Day>, int64_t>;
using Letters = std::map<int64_t, DeadLetterReason>;  // by offset

// A task as the runtime holds it: durable state, memory stores, processor.
struct DurableTask {
  DurableTask(const std::string& path, const ProcessorOptions& options) {
    auto store = LocalStateStore::Open(path);
    EXPECT_TRUE(store.ok()) << store.status();
    durable = std::make_unique<DurableTaskState>(std::move(*store));
    dedup = std::make_unique<MemoryDedupStore>(64);
    auto meta = durable->Load(dedup.get(), &windows, options.lateness);
    EXPECT_TRUE(meta.ok()) << meta.status();
    processor = std::make_unique<DailyCountProcessor>(options, dedup.get(), &windows, durable.get());
    processor->Restore(meta->has_watermark, meta->max_seen, meta->counts);
  }
  std::unique_ptr<DurableTaskState> durable;
  std::unique_ptr<MemoryDedupStore> dedup;
  MemoryWindowStore windows;
  std::unique_ptr<DailyCountProcessor> processor;
};

TEST(DurableTaskState, CrashesAnywhereEndExactlyWhereAnUninterruptedRunEnds) {
  ProcessorOptions options;
  options.lateness = 3 * 3600 * kMicrosPerSecond;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const std::vector<std::string> lines = MakeStream(seed, 6000);

    // The reference: memory state, no crash.
    Table expected_table;
    Letters expected_letters;
    RecordCounts expected_counts;
    {
      MemoryDedupStore dedup(64);
      MemoryWindowStore windows;
      DailyCountProcessor p(options, &dedup, &windows);
      for (size_t i = 0; i < lines.size(); ++i) p.Process(lines[i], false, RecordOrigin{0, static_cast<int64_t>(i)});
      TriggerOutput out;
      p.Trigger(&out, /*end_of_input=*/true);
      for (const DailyCount& r : out.updates) expected_table[{r.user, r.day}] = r.count;
      for (const DeadLetter& l : p.dead_letters()) expected_letters[l.origin.position] = l.reason;
      expected_counts = p.counts();
    }

    // Durable: triggers every few hundred records; at random, a crash before
    // the commit (the trigger's rows may be written already, its state and
    // letters are not) or after it.
    const std::string path = absl::StrFormat("%s/durable-%d-%d", ::testing::TempDir(), getpid(), seed);
    std::filesystem::remove_all(path);
    std::mt19937_64 rng(seed * 104729);
    Table table;  // as Cassandra keeps it: a row's write with the larger count wins
    Letters letters;
    int64_t letter_copies = 0;
    int64_t committed = 0;  // the input position of the last commit
    int crashes = 0;
    auto task = std::make_unique<DurableTask>(path, options);
    for (int64_t i = committed; i <= static_cast<int64_t>(lines.size());) {
      const int64_t stop = std::min<int64_t>(static_cast<int64_t>(lines.size()), i + 1 + static_cast<int64_t>(rng() % 400));
      for (; i < stop; ++i) task->processor->Process(lines[static_cast<size_t>(i)], false, RecordOrigin{0, i});
      TriggerOutput out;
      task->processor->Trigger(&out);
      task->durable->Stage(task->processor->watermark(), task->processor->counts());
      for (const DailyCount& r : out.updates) {
        int64_t& cell = table[{r.user, r.day}];
        cell = std::max(cell, r.count);
      }
      const uint64_t fate = rng() % 10;
      if (fate < 3) {  // crash before the commit: redo from the last one
        task.reset();
        task = std::make_unique<DurableTask>(path, options);
        i = committed;
        ++crashes;
        continue;
      }
      for (const DeadLetter& l : task->processor->dead_letters()) {
        letters[l.origin.position] = l.reason;
        ++letter_copies;
      }
      task->processor->dead_letters().clear();
      ASSERT_TRUE(task->durable->Checkpoint(task->durable->store().checkpoint() + 1).ok());
      committed = i;
      if (fate < 5) {  // crash after the commit
        task.reset();
        task = std::make_unique<DurableTask>(path, options);
        ++crashes;
      }
      if (i == static_cast<int64_t>(lines.size())) break;
    }
    EXPECT_GT(crashes, 5);
    EXPECT_EQ(table, expected_table) << "seed " << seed;
    EXPECT_EQ(letters, expected_letters) << "seed " << seed;
    EXPECT_EQ(letter_copies, static_cast<int64_t>(expected_letters.size())) << "seed " << seed;
    EXPECT_EQ(task->processor->counts().records, expected_counts.records);
    EXPECT_EQ(task->processor->counts().counted, expected_counts.counted);
    EXPECT_EQ(task->processor->counts().duplicates, expected_counts.duplicates);
    EXPECT_EQ(task->processor->counts().late, expected_counts.late);
    task.reset();
    std::filesystem::remove_all(path);
  }
}

TEST(DurableTaskState, ExpiredDedupBucketsLeaveTheStore) {
  ProcessorOptions options;
  options.lateness = 3600 * kMicrosPerSecond;
  const std::string path = absl::StrFormat("%s/durable-expiry-%d", ::testing::TempDir(), getpid());
  std::filesystem::remove_all(path);
  auto task = std::make_unique<DurableTask>(path, options);
  // 200 events an hour apart, then one a day later: every bucket but the
  // last few has expired.
  for (int i = 0; i <= 200; ++i) {
    const int64_t t = 1'704'067'200 + (i < 200 ? i * 3600 : 200 * 3600 + 86400);
    task->processor->Process(
        absl::StrFormat(R"({"EventUUID":"00000000-0000-4000-8000-%012x","UserUUID":"10000000-0000-4000-8000-000000000001","EventName":"e","CreatedAt":%d})",
                        i, t),
        false, RecordOrigin{0, i});
    if (i % 50 == 0 || i == 200) {
      TriggerOutput out;
      task->processor->Trigger(&out);
      task->durable->Stage(task->processor->watermark(), task->processor->counts());
      ASSERT_TRUE(task->durable->Checkpoint(task->durable->store().checkpoint() + 1).ok());
    }
  }
  int chunks = 0;
  ASSERT_TRUE(task->durable->store()
                  .Scan(std::string(1, codec::kDedupPrefix), [&](std::string_view, std::string_view) { ++chunks; })
                  .ok());
  EXPECT_LE(chunks, 2);  // the live bucket(s) only, not 200
  task.reset();
  std::filesystem::remove_all(path);
}

// All rows of one window store, as a table; the store ends up empty.
Table Rows(MemoryWindowStore& windows) {
  std::vector<DailyCount> rows;
  windows.EvictClosed(std::numeric_limits<Day>::max(), &rows);
  Table table;
  for (const DailyCount& r : rows) table[{r.user, r.day}] = r.count;
  return table;
}

// A restore derives the window rows from the logged events: every open row
// comes back with the count an uninterrupted run holds, unmarked (it was
// written), also where the watermark is inside a day, so that some of the
// day's events have expired for dedup but still count; closed days' rows do
// not come back, nor do their chunks stay in the store.
TEST(DurableTaskState, RestoreDerivesTheOpenRowsFromTheLoggedEvents) {
  ProcessorOptions options;
  options.lateness = 30 * 3600 * kMicrosPerSecond;  // the watermark ends mid-day
  const std::vector<std::string> lines = MakeStream(11, 20000);
  const std::string path = absl::StrFormat("%s/durable-derive-%d", ::testing::TempDir(), getpid());
  std::filesystem::remove_all(path);
  MemoryDedupStore ref_dedup(64);
  MemoryWindowStore ref_windows;
  DailyCountProcessor reference(options, &ref_dedup, &ref_windows);
  auto task = std::make_unique<DurableTask>(path, options);
  for (size_t i = 0; i < lines.size(); ++i) {
    reference.Process(lines[i], false, RecordOrigin{0, static_cast<int64_t>(i)});
    task->processor->Process(lines[i], false, RecordOrigin{0, static_cast<int64_t>(i)});
    if (i % 997 == 0 || i + 1 == lines.size()) {
      TriggerOutput a, b;
      reference.Trigger(&a);
      task->processor->Trigger(&b);
      task->durable->Stage(task->processor->watermark(), task->processor->counts());
      ASSERT_TRUE(task->durable->Checkpoint(task->durable->store().checkpoint() + 1).ok());
    }
  }
  const Watermark w = reference.watermark();
  ASSERT_TRUE(w.has_value());
  ASSERT_GT(w.value(), StartOfDay(w.FirstOpenDay()));  // inside its day
  ASSERT_GE(w.FirstOpenDay(), DayOf(1'704'067'200 * kMicrosPerSecond) + 2);  // some days closed
  task.reset();

  DurableTask restored(path, options);
  std::vector<DailyCount> changed;
  restored.windows.TakeChanged(&changed);
  EXPECT_TRUE(changed.empty());
  const Table expected = Rows(ref_windows);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Rows(restored.windows), expected);
  for (const auto& [key, count] : expected) EXPECT_GE(key.second, w.FirstOpenDay());

  // The dedup store holds the live entries: every line again gets the
  // reference's verdict (late or duplicate).
  for (size_t i = 0; i < lines.size(); ++i) {
    const RecordOrigin origin{0, static_cast<int64_t>(i)};
    ASSERT_EQ(restored.processor->Process(lines[i], false, origin), reference.Process(lines[i], false, origin))
        << "line " << i;
  }

  // Only open days' chunks are left in the store, and the meta counts
  // their events (what a restore sizes the dedup store for).
  int64_t events = 0;
  ASSERT_TRUE(restored.durable->store()
                  .Scan(std::string(1, codec::kDedupPrefix),
                        [&](std::string_view key, std::string_view value) {
                          auto k = codec::DecodeDedupChunkKey(key);
                          ASSERT_TRUE(k.has_value());
                          EXPECT_GE(k->day, w.FirstOpenDay());
                          events += static_cast<int64_t>(value.size() / codec::kCountedEventBytes);
                        })
                  .ok());
  std::optional<codec::Meta> meta;
  ASSERT_TRUE(restored.durable->store()
                  .Scan(codec::kMetaKey, [&](std::string_view, std::string_view value) { meta = codec::DecodeMeta(value); })
                  .ok());
  ASSERT_TRUE(meta.has_value());
  EXPECT_GT(events, 0);
  EXPECT_EQ(meta->retained_events, events);
  std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace tally
