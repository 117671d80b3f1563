// MemoryWindowStore against the WindowStore contract, with a std::map as the
// reference: Increment counts and marks a row; TakeChanged hands over exactly
// the marked rows with their absolute counts and clears the marks; EvictClosed
// removes the rows of days before the first open day and hands them over with
// their final counts; ClosedRows and size count what is held.

#include "state/memory_window_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace tally {
namespace {

using Key = std::pair<Uuid, Day>;

class ReferenceWindows {
 public:
  void Increment(const Uuid& user, Day day) {
    Row& row = rows_[Key{user, day}];
    ++row.count;
    row.changed = true;
  }
  std::map<Key, int64_t> TakeChanged() {
    std::map<Key, int64_t> out;
    for (auto& [key, row] : rows_) {
      if (!row.changed) continue;
      out[key] = row.count;
      row.changed = false;
    }
    return out;
  }
  std::map<Key, int64_t> EvictClosed(Day first_open_day) {
    std::map<Key, int64_t> out;
    for (auto it = rows_.begin(); it != rows_.end();) {
      if (it->first.second < first_open_day) {
        out[it->first] = it->second.count;
        it = rows_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }
  size_t ClosedRows(Day first_open_day) const {
    size_t n = 0;
    for (const auto& [key, row] : rows_) n += key.second < first_open_day ? 1 : 0;
    return n;
  }
  size_t size() const { return rows_.size(); }

 private:
  struct Row {
    int64_t count = 0;
    bool changed = false;
  };
  std::map<Key, Row> rows_;
};

// The rows appended to *out after its first `before` entries, as a map; fails
// the test if a row is there twice (a row is written once per batch).
std::map<Key, int64_t> Appended(const std::vector<DailyCount>& out, size_t before, const std::string& what) {
  std::map<Key, int64_t> rows;
  for (size_t i = before; i < out.size(); ++i) {
    const auto [it, inserted] = rows.emplace(Key{out[i].user, out[i].day}, out[i].count);
    EXPECT_TRUE(inserted) << what << ": row " << FormatUuid(out[i].user) << " day " << out[i].day
                          << " appended twice (counts " << it->second << " and " << out[i].count << ")";
  }
  return rows;
}

std::string Describe(const std::map<Key, int64_t>& rows) {
  std::string s;
  for (const auto& [key, count] : rows) {
    s += FormatUuid(key.first) + " " + std::to_string(key.second) + " = " + std::to_string(count) + "\n";
  }
  return s;
}

const DailyCount kSentinel{Uuid{42, 42}, -7, 99};

// Rows as (learner text, day) -> count, which gtest prints readably; a row
// twice is kept twice (a multimap), so duplicates show.
std::multimap<std::pair<std::string, Day>, int64_t> Readable(const std::vector<DailyCount>& rows) {
  std::multimap<std::pair<std::string, Day>, int64_t> out;
  for (const DailyCount& row : rows) out.emplace(std::pair{FormatUuid(row.user), row.day}, row.count);
  return out;
}

// One random sequence of operations. With `take_before_evict` the caller
// follows the contract's advice (and the processor's practice) of calling
// TakeChanged before EvictClosed; without, changed rows are evicted too.
// `capacity`: the store's initial capacity (slots).
void RunRandomSequence(uint64_t seed, bool take_before_evict, size_t capacity = 1024) {
  SCOPED_TRACE(testing::Message() << "seed " << seed << (take_before_evict ? ", take before evict" : "")
                                  << ", capacity " << capacity);
  std::mt19937_64 rng(seed);
  MemoryWindowStore store(capacity);
  ReferenceWindows ref;
  // Learners that differ in one word or one bit, and random ones.
  std::vector<Uuid> users = {Uuid{0, 0}, Uuid{0, 1}, Uuid{1, 0}, Uuid{~uint64_t{0}, ~uint64_t{0}}};
  const size_t n_users = 1 + rng() % 300;
  while (users.size() < n_users) users.push_back(rng() % 2 ? Uuid{rng(), rng()} : Uuid{7, users.size()});
  users.resize(n_users);
  Day open_day = 19'723 + static_cast<Day>(rng() % 100);  // early 2024
  Day highest_evicted = 0;  // the greatest first open day evicted at so far
  for (int op = 0; op < 20'000; ++op) {
    const uint64_t r = rng() % 1000;
    if (r < 700) {
      // Mostly open days; a few closed ones, evicted already or not. (Without
      // TakeChanged before EvictClosed, a row evicted while changed and then
      // incremented again is its own test below, RowIncrementedAfterItsEviction...)
      Day day = open_day + static_cast<Day>(rng() % 6) - (r < 20 ? 5 : 0);
      if (!take_before_evict) day = std::max(day, highest_evicted);
      const Uuid& user = users[rng() % users.size()];
      store.Prefetch(user, day);
      store.Increment(user, day);
      ref.Increment(user, day);
    } else if (r < 800) {
      std::vector<DailyCount> out = {kSentinel};
      store.TakeChanged(&out);
      ASSERT_FALSE(out.empty());
      EXPECT_EQ(out[0], kSentinel) << "TakeChanged appends, it does not clear";
      const auto expected = ref.TakeChanged();
      ASSERT_EQ(Appended(out, 1, "TakeChanged"), expected) << "op " << op << ", expected:\n" << Describe(expected);
    } else if (r < 850) {
      if (rng() % 4 != 0) open_day += static_cast<Day>(rng() % 3);  // the watermark moves on (or not)
      Day first_open = open_day;
      if (r < 805) first_open = open_day - static_cast<Day>(rng() % 10);  // an older day again
      if (r == 849 && take_before_evict) first_open = std::numeric_limits<Day>::max();  // end of input: all
      if (take_before_evict) {
        std::vector<DailyCount> taken;
        store.TakeChanged(&taken);
        ASSERT_EQ(Appended(taken, 0, "TakeChanged"), ref.TakeChanged()) << "op " << op;
      }
      EXPECT_EQ(store.ClosedRows(first_open), ref.ClosedRows(first_open)) << "op " << op;
      std::vector<DailyCount> out = {kSentinel};
      store.EvictClosed(first_open, &out);
      EXPECT_EQ(out[0], kSentinel) << "EvictClosed appends, it does not clear";
      const auto expected = ref.EvictClosed(first_open);
      highest_evicted = std::max(highest_evicted, first_open);
      ASSERT_EQ(Appended(out, 1, "EvictClosed"), expected)
          << "op " << op << " first open day " << first_open << ", expected:\n" << Describe(expected);
      EXPECT_EQ(store.ClosedRows(first_open), 0u) << "op " << op;
    } else if (r < 900) {
      const Day d = open_day + static_cast<Day>(rng() % 12) - 8;
      EXPECT_EQ(store.ClosedRows(d), ref.ClosedRows(d)) << "op " << op << " day " << d;
    }
    ASSERT_EQ(store.size(), ref.size()) << "op " << op;
    ASSERT_GE(store.MemoryBytes(), store.size() * (sizeof(Uuid) + sizeof(Day) + sizeof(int64_t)))
        << "MemoryBytes under-reports";
  }
  // The end of input: take the last changes, then every row is final.
  std::vector<DailyCount> out;
  store.TakeChanged(&out);
  EXPECT_EQ(Appended(out, 0, "last TakeChanged"), ref.TakeChanged());
  out.clear();
  store.EvictClosed(std::numeric_limits<Day>::max(), &out);
  EXPECT_EQ(Appended(out, 0, "last EvictClosed"), ref.EvictClosed(std::numeric_limits<Day>::max()));
  EXPECT_EQ(store.size(), 0u);
  out.clear();
  store.TakeChanged(&out);
  EXPECT_TRUE(out.empty()) << "nothing changed since the last TakeChanged";
}

TEST(MemoryWindowStore, RandomSequencesMatchTheReference) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    RunRandomSequence(seed, /*take_before_evict=*/true);
    if (HasFatalFailure()) return;
  }
}

// From the smallest table: it grows many times while rows are marked changed
// (the changed rows are listed by slot, and growth moves every row), and its
// probe runs wrap around its end often (eviction's backward shifts across the
// end).
TEST(MemoryWindowStore, RandomSequencesMatchTheReferenceFromASmallTable) {
  for (uint64_t seed = 201; seed <= 210; ++seed) {
    RunRandomSequence(seed, /*take_before_evict=*/seed % 2 == 0, /*capacity=*/64);
    if (HasFatalFailure()) return;
  }
}

TEST(MemoryWindowStore, RandomSequencesMatchTheReferenceWhenChangedRowsAreEvicted) {
  for (uint64_t seed = 101; seed <= 110; ++seed) {
    RunRandomSequence(seed, /*take_before_evict=*/false);
    if (HasFatalFailure()) return;
  }
}

TEST(MemoryWindowStore, TakeChangedHandsOverOnlyChangedRowsWithAbsoluteCounts) {
  MemoryWindowStore store;
  const Uuid a{1, 1}, b{2, 2};
  store.Increment(a, 10);
  store.Increment(a, 10);
  store.Increment(b, 10);
  std::vector<DailyCount> out;
  store.TakeChanged(&out);
  EXPECT_EQ(Readable(out), Readable({{a, 10, 2}, {b, 10, 1}}));
  out.clear();
  store.TakeChanged(&out);
  EXPECT_TRUE(out.empty()) << "marks are cleared";
  store.Increment(a, 10);
  store.Increment(a, 11);
  store.TakeChanged(&out);
  EXPECT_EQ(Readable(out), Readable({{a, 10, 3}, {a, 11, 1}})) << "the count, not the change since last time";
  EXPECT_EQ(store.size(), 3u);
}

TEST(MemoryWindowStore, EvictClosedRemovesDaysBeforeTheFirstOpenDayWithFinalCounts) {
  MemoryWindowStore store;
  const Uuid a{1, 1}, b{2, 2};
  for (int i = 0; i < 5; ++i) store.Increment(a, 9);
  store.Increment(b, 9);
  store.Increment(a, 10);
  store.Increment(b, 11);
  std::vector<DailyCount> out;
  store.TakeChanged(&out);
  out.clear();
  store.Increment(a, 9);  // changed, not taken: evicted all the same
  EXPECT_EQ(store.ClosedRows(9), 0u);
  EXPECT_EQ(store.ClosedRows(10), 2u);
  EXPECT_EQ(store.ClosedRows(11), 3u);
  store.EvictClosed(10, &out);
  EXPECT_EQ(Readable(out), Readable({{a, 9, 6}, {b, 9, 1}}));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.ClosedRows(10), 0u);
  EXPECT_EQ(store.ClosedRows(12), 2u);
  out.clear();
  store.EvictClosed(10, &out);
  EXPECT_TRUE(out.empty()) << "evicted rows are gone";
  store.TakeChanged(&out);
  EXPECT_TRUE(out.empty()) << "the evicted row's pending change left with it";
}

// The contract allows a row of a closed day to come back after its eviction,
// and allows EvictClosed without TakeChanged first (the changed row is then
// evicted all the same). The row that comes back is a new row, taken once.
//
// FAILS against memory_window_store.cc as written (found by this test): the
// evicted row's key stays in changed_, the new row's Increment appends it
// again, and TakeChanged finds the key twice and writes the row twice. The
// processor cannot reach it (it calls TakeChanged before EvictClosed, and a
// record for a closed day is late), so no output of tally is wrong today.
TEST(MemoryWindowStore, RowIncrementedAfterItsEvictionIsTakenOnce) {
  MemoryWindowStore store;
  const Uuid a{1, 1};
  store.Increment(a, 5);  // changed, then evicted without TakeChanged
  std::vector<DailyCount> out;
  store.EvictClosed(6, &out);
  EXPECT_EQ(Readable(out), Readable({{a, 5, 1}}));
  out.clear();
  store.Increment(a, 5);
  store.TakeChanged(&out);
  EXPECT_EQ(Readable(out), Readable({{a, 5, 1}}));
}

}  // namespace
}  // namespace tally
