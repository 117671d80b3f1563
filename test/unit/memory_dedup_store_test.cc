// MemoryDedupStore against the DedupStore contract, with a std::map as the
// reference: an entry is live while its event time >= the watermark, an
// expired entry behaves exactly as if it were absent, and RecordIfNew returns
// false only for a live entry. Plus the two promises of its design: memory
// bounded by the live entries (not the stream), about 32 bytes per live entry.

#include "state/memory_dedup_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "core/watermark.h"

namespace tally {
namespace {

constexpr size_t kSlotBytes = 24;  // the design's slot: a UUID and one packed word

// The contract, written out plainly: every id ever recorded with its latest
// recorded time. Nothing is ever dropped; expiry is decided at lookup.
class ReferenceDedup {
 public:
  bool RecordIfNew(const Uuid& id, Micros t, Micros watermark) {
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second >= watermark) return false;
    entries_[id] = t;
    return true;
  }
  size_t Live(Micros watermark) const {
    size_t n = 0;
    for (const auto& [id, t] : entries_) n += t >= watermark ? 1 : 0;
    return n;
  }
  size_t Recorded() const { return entries_.size(); }
  const std::map<Uuid, Micros>& entries() const { return entries_; }

 private:
  std::map<Uuid, Micros> entries_;
};

// Full check at `watermark`: every live reference entry is live in the store
// (RecordIfNew on a live entry returns false and changes nothing), and the
// store holds at least the live entries and at most what was ever recorded.
void ExpectHoldsLiveEntries(MemoryDedupStore* store, const ReferenceDedup& ref, Micros watermark,
                            const std::string& where) {
  size_t live = 0;
  for (const auto& [id, t] : ref.entries()) {
    if (t < watermark) continue;
    ++live;
    ASSERT_FALSE(store->RecordIfNew(id, t, watermark))
        << where << ": live entry " << FormatUuid(id) << " at " << t << " (watermark " << watermark << ") was lost";
  }
  EXPECT_GE(store->size(), live) << where;
  EXPECT_LE(store->size(), ref.Recorded()) << where;
  EXPECT_LE(store->size(), store->capacity()) << where;
  EXPECT_GE(store->MemoryBytes(), store->size() * kSlotBytes) << where << ": MemoryBytes under-reports";
}

// Ids whose hashes share their top `bits` bits. The store maps a hash onto a
// slot by its high bits (h * capacity >> 64), so these all have their home in
// the same 1/2^bits of the table at every capacity: one long cluster.
std::vector<Uuid> ClusteredIds(size_t n, int bits, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t target = rng() >> (64 - bits);
  std::vector<Uuid> ids;
  while (ids.size() < n) {
    const Uuid id{rng(), rng()};
    if ((absl::Hash<Uuid>{}(id) >> (64 - bits)) == target) ids.push_back(id);
  }
  return ids;
}

// A pool of ids with many near neighbours: consecutive values, single-bit
// flips, the all-zero and all-one UUIDs, a shared hi or lo word, plus clustered
// and random ones.
std::vector<Uuid> MixedPool(std::mt19937_64& rng, size_t n) {
  std::vector<Uuid> pool = {Uuid{0, 0}, Uuid{~uint64_t{0}, ~uint64_t{0}}, Uuid{0, 1}, Uuid{1, 0}};
  const Uuid base{rng(), rng()};
  for (uint64_t k = 1; pool.size() < n / 4; ++k) {
    pool.push_back(Uuid{base.hi, base.lo + k});
    pool.push_back(Uuid{base.hi ^ (uint64_t{1} << (k % 64)), base.lo});
    pool.push_back(Uuid{base.hi, base.lo ^ (uint64_t{1} << (k % 64))});
  }
  for (const Uuid& id : ClusteredIds(n / 4, 8, rng())) pool.push_back(id);
  while (pool.size() < n) pool.push_back(Uuid{rng(), rng()});
  std::sort(pool.begin(), pool.end());
  pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
  std::shuffle(pool.begin(), pool.end(), rng);
  return pool;
}

TEST(MemoryDedupStore, RandomOperationsMatchTheReference) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const size_t initial_capacities[] = {0, 1, 64, 100, 1024};
    MemoryDedupStore store(initial_capacities[rng() % 5]);
    ReferenceDedup ref;
    const std::vector<Uuid> pool = MixedPool(rng, 200 + rng() % 4000);
    // Event times live in a band above the watermark; a few are exactly at it.
    const Micros span = 1 + static_cast<Micros>(rng() % 5000);
    Micros watermark = Watermark::kNone;  // before the first valid record
    Micros base = 1'704'067'200 * kMicrosPerSecond;
    const int ops = 25'000;
    for (int op = 0; op < ops; ++op) {
      const uint64_t r = rng() % 1000;
      if (r < 80) {  // the watermark moves up, by a little or by a lot
        if (watermark == Watermark::kNone) watermark = base - span;
        watermark += static_cast<Micros>(rng() % (r < 5 ? 20 * span : span / 4 + 1));
      } else if (r < 100) {
        store.Purge(watermark);
        ASSERT_EQ(store.size(), ref.Live(watermark)) << "Purge must drop exactly the expired entries, op " << op;
      } else if (r < 150) {
        store.Prefetch(pool[rng() % pool.size()]);  // a hint: changes nothing
      } else {
        const Uuid& id = pool[rng() % pool.size()];
        const Micros floor = watermark == Watermark::kNone ? base : std::max<Micros>(watermark, 0);
        Micros t = floor + static_cast<Micros>(rng() % static_cast<uint64_t>(span));
        if (r < 250) t = floor;                                  // exactly at the watermark: live
        if (r < 160 && watermark != Watermark::kNone) t = watermark - 1;  // already expired when recorded
        t = std::clamp<Micros>(t, 0, kEndOfEventTime - 1);
        ASSERT_EQ(store.RecordIfNew(id, t, watermark), ref.RecordIfNew(id, t, watermark))
            << "op " << op << " id " << FormatUuid(id) << " t " << t << " watermark " << watermark;
      }
      if (op % 1000 == 999) {
        ExpectHoldsLiveEntries(&store, ref, watermark, "op " + std::to_string(op));
        if (testing::Test::HasFatalFailure()) return;
      }
    }
    EXPECT_GT(ref.Recorded(), 0u);
  }
}

TEST(MemoryDedupStore, EventTimeEqualToTheWatermarkIsLive) {
  MemoryDedupStore store;
  const Uuid id{0x1234, 0x5678};
  const Micros t = 1'000'000;
  EXPECT_TRUE(store.RecordIfNew(id, t, Watermark::kNone));
  EXPECT_FALSE(store.RecordIfNew(id, t, Watermark::kNone)) << "no watermark yet: everything is live";
  EXPECT_FALSE(store.RecordIfNew(id, t + 5, t - 1));
  EXPECT_FALSE(store.RecordIfNew(id, t + 5, t)) << "t == W is live";
  store.Purge(t);
  EXPECT_EQ(store.size(), 1u) << "Purge(W) keeps an entry at exactly W";
  EXPECT_TRUE(store.RecordIfNew(id, t + 5, t + 1)) << "t < W has expired, and expired is absent";
  EXPECT_FALSE(store.RecordIfNew(id, t + 5, t + 1)) << "the re-recorded entry carries its new time";
  EXPECT_FALSE(store.RecordIfNew(id, t + 5, t + 5));
  EXPECT_TRUE(store.RecordIfNew(id, t + 9, t + 6));
  EXPECT_EQ(store.size(), 1u) << "re-recording an expired id replaces its entry";
}

TEST(MemoryDedupStore, KeepsTheWholeRangeOfEventTimes) {
  // Times are packed with the probe distance into one word: the extremes of
  // [1970, 2100) must come back intact.
  MemoryDedupStore store(64);
  const Micros times[] = {0, 1, kMicrosPerDay, kEndOfEventTime - 2, kEndOfEventTime - 1};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(store.RecordIfNew(Uuid{0, static_cast<uint64_t>(i)}, times[i], 0));
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(store.RecordIfNew(Uuid{0, static_cast<uint64_t>(i)}, 0, times[i])) << "at its own time: live";
    EXPECT_TRUE(store.RecordIfNew(Uuid{1, static_cast<uint64_t>(i)}, times[i], 0));
  }
  store.Purge(kEndOfEventTime - 1);
  EXPECT_EQ(store.size(), 2u) << "only the two entries at kEndOfEventTime - 1 remain";
  EXPECT_FALSE(store.RecordIfNew(Uuid{0, 4}, 0, kEndOfEventTime - 1));
  EXPECT_TRUE(store.RecordIfNew(Uuid{0, 3}, kEndOfEventTime - 1, kEndOfEventTime - 1));
}

TEST(MemoryDedupStore, GrowsThroughSeveralResizesAndLosesNothing) {
  MemoryDedupStore store(64);
  ReferenceDedup ref;
  std::mt19937_64 rng(7);
  std::set<size_t> capacities = {store.capacity()};
  const Micros watermark = 5'000;
  for (int i = 0; i < 40'000; ++i) {
    // Half random ids, half consecutive ones (neighbours in both words).
    const Uuid id = i % 2 ? Uuid{rng(), rng()} : Uuid{0xABCDEF, static_cast<uint64_t>(i)};
    const Micros t = watermark + static_cast<Micros>(rng() % 1000);
    ASSERT_TRUE(store.RecordIfNew(id, t, watermark)) << i;
    ref.RecordIfNew(id, t, watermark);
    capacities.insert(store.capacity());
  }
  EXPECT_EQ(store.size(), 40'000u);
  EXPECT_GE(capacities.size(), 6u) << "the table should have grown through several resizes";
  ExpectHoldsLiveEntries(&store, ref, watermark, "after growth");
  store.Purge(watermark);
  EXPECT_EQ(store.size(), 40'000u) << "nothing had expired";
}

// A restore reserves for its entries: the table grows once, to their live
// load, keeps what it held, and then takes them all without another resize.
TEST(MemoryDedupStore, ReserveGrowsOnceAndLosesNothing) {
  MemoryDedupStore store(64);
  ReferenceDedup ref;
  std::mt19937_64 rng(9);
  const Micros watermark = 5'000;
  auto add = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const Uuid id{rng(), rng()};
      const Micros t = watermark + static_cast<Micros>(rng() % 1000);
      ASSERT_TRUE(store.RecordIfNew(id, t, watermark));
      ref.RecordIfNew(id, t, watermark);
    }
  };
  add(30);
  store.Reserve(40'000);
  const size_t reserved = store.capacity();
  EXPECT_GE(reserved, static_cast<size_t>((40'000 + 30) / 0.75));
  EXPECT_LE(reserved, static_cast<size_t>((40'000 + 30) / 0.75) + 1);
  ExpectHoldsLiveEntries(&store, ref, watermark, "after the reserve");
  add(40'000);
  EXPECT_EQ(store.capacity(), reserved) << "no resize after the reserve";
  EXPECT_EQ(store.size(), 40'030u);
  ExpectHoldsLiveEntries(&store, ref, watermark, "after the inserts");
  store.Reserve(10);  // already room: nothing changes
  EXPECT_EQ(store.capacity(), reserved);
}

TEST(MemoryDedupStore, PurgeThatRemovesMostEntriesKeepsTheRest) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    MemoryDedupStore store(64);
    ReferenceDedup ref;
    std::vector<Uuid> ids;
    const int n = 20'000;
    for (int i = 0; i < n; ++i) {
      ids.push_back(Uuid{rng(), seed % 2 ? rng() : static_cast<uint64_t>(i)});
      const Micros t = static_cast<Micros>(rng() % n);
      ASSERT_TRUE(store.RecordIfNew(ids.back(), t, 0));
      ref.RecordIfNew(ids.back(), t, 0);
    }
    // Expire about 97% of them, then purge.
    Micros watermark = n - n / 32;
    store.Purge(watermark);
    EXPECT_EQ(store.size(), ref.Live(watermark));
    EXPECT_LT(store.size(), static_cast<size_t>(n / 20));
    ExpectHoldsLiveEntries(&store, ref, watermark, "after a purge of most entries");
    if (HasFatalFailure()) return;
    // Re-insert every id: an expired one is new again, a live one a duplicate.
    for (const Uuid& id : ids) {
      const Micros t = watermark + static_cast<Micros>(rng() % 3);
      ASSERT_EQ(store.RecordIfNew(id, t, watermark), ref.RecordIfNew(id, t, watermark)) << FormatUuid(id);
    }
    EXPECT_EQ(store.size(), static_cast<size_t>(n)) << "every id is live again, exactly once";
    watermark += 1;  // those re-inserted at exactly the old watermark expire now
    ExpectHoldsLiveEntries(&store, ref, watermark, "after re-inserting expired ids");
    store.Purge(watermark);
    EXPECT_EQ(store.size(), ref.Live(watermark));
  }
}

// Many ids with the same home region: long Robin Hood clusters, displacement
// on insert and backward shifts on purge, while the watermark slides.
TEST(MemoryDedupStore, CollidingIdsMatchTheReference) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed * 31);
    const std::vector<Uuid> ids = ClusteredIds(1500, 8, seed);
    MemoryDedupStore store(64);
    ReferenceDedup ref;
    Micros watermark = 0;
    for (int op = 0; op < 30'000; ++op) {
      const uint64_t r = rng() % 100;
      if (r < 3) {
        watermark += static_cast<Micros>(rng() % 200);
      } else if (r < 4) {
        store.Purge(watermark);
        ASSERT_EQ(store.size(), ref.Live(watermark)) << op;
      } else {
        const Uuid& id = ids[rng() % ids.size()];
        const Micros t = watermark + static_cast<Micros>(rng() % 1000);
        ASSERT_EQ(store.RecordIfNew(id, t, watermark), ref.RecordIfNew(id, t, watermark)) << "op " << op;
      }
    }
    ExpectHoldsLiveEntries(&store, ref, watermark, "end");
  }
}

// More ids with one home region than a probe may be long (the store allows a
// probe distance up to 2^12 - 2 and then spreads the table): every id is new,
// so every RecordIfNew must say so, and all must stay remembered.
//
// FAILS against memory_dedup_store.cc as written (found by this test): when
// InsertNew gives up on a long probe it has already placed the new id and is
// carrying a *displaced* entry, which Rebuild then never sees. RecordIfNew
// retries, finds the new id it placed, and returns false: a new event is
// dropped as a duplicate, and the displaced entry is forgotten while live, so
// a later re-send of it would be counted twice. Six of 6,000 ids go wrong here,
// the first at about #4,100. It takes about 4,100 live ids sharing a home
// region, which random UUIDs will not produce (absl's hash is seeded per
// process), so it is a robustness bug of the overflow path, not an everyday one.
TEST(MemoryDedupStore, ClusterLongerThanTheLongestProbeLosesNothing) {
  const std::vector<Uuid> ids = ClusteredIds(6'000, 8, 99);
  MemoryDedupStore store(64);
  ReferenceDedup ref;
  const Micros watermark = 0;
  int wrong = 0;
  int first_wrong = -1;
  for (size_t i = 0; i < ids.size(); ++i) {
    ref.RecordIfNew(ids[i], 10, watermark);
    if (!store.RecordIfNew(ids[i], 10, watermark)) {
      if (first_wrong < 0) first_wrong = static_cast<int>(i);
      ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0) << "distinct new ids reported as duplicates, first at #" << first_wrong
                      << " (capacity now " << store.capacity() << ")";
  EXPECT_EQ(store.size(), ids.size());
  size_t lost = 0;
  for (const Uuid& id : ids) lost += store.RecordIfNew(id, 10, watermark) ? 1 : 0;
  EXPECT_EQ(lost, 0u) << "ids forgotten while live: a later re-send of each would be counted twice";
}

// A steady stream: one new event per microsecond of event time, in order, and
// a watermark `lateness` behind, so exactly lateness + 1 entries are live at
// any time while N >> that stream through.
TEST(MemoryDedupStore, SlidingWindowMemoryIsBoundedByTheLiveEntries) {
  const Micros lateness = 20'000;
  const int64_t n = 60 * (lateness + 1);
  MemoryDedupStore store;  // the default initial capacity
  std::mt19937_64 rng(3);
  std::vector<Uuid> recent(static_cast<size_t>(lateness + 1));
  size_t max_size = 0;
  size_t max_bytes = 0;
  double max_bytes_per_live_settled = 0;
  size_t settled_capacity = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Micros t = i;
    const Micros watermark = t - lateness;
    const Uuid id{rng(), rng()};
    ASSERT_TRUE(store.RecordIfNew(id, t, watermark)) << i;
    // A re-send of the previous event, still in the window, is a duplicate.
    if (i > lateness && i % 97 == 0) {
      ASSERT_FALSE(store.RecordIfNew(recent[static_cast<size_t>((i - 1) % (lateness + 1))], t, watermark)) << i;
    }
    recent[static_cast<size_t>(i % (lateness + 1))] = id;
    const size_t live = static_cast<size_t>(std::min<int64_t>(i + 1, lateness + 1));
    ASSERT_GE(store.size(), live);
    max_size = std::max(max_size, store.size());
    max_bytes = std::max(max_bytes, store.MemoryBytes());
    if (i >= 10 * (lateness + 1)) {  // settled: ten windows in
      if (settled_capacity == 0) settled_capacity = store.capacity();
      EXPECT_EQ(store.capacity(), settled_capacity) << "a steady window should not grow the table, at " << i;
      max_bytes_per_live_settled =
          std::max(max_bytes_per_live_settled, static_cast<double>(store.MemoryBytes()) / static_cast<double>(live));
    }
  }
  const double live = static_cast<double>(lateness + 1);
  const double bytes_per_live = static_cast<double>(store.MemoryBytes()) / live;
  const double size_per_live = static_cast<double>(max_size) / live;
  std::cout << "[ dedup    ] steady sliding window, " << lateness + 1 << " live of " << n
            << " streamed: " << store.MemoryBytes() << " bytes = " << bytes_per_live
            << " bytes per live entry (max " << max_bytes_per_live_settled << "), capacity " << store.capacity()
            << ", size up to " << size_per_live << " x live\n";
  testing::Test::RecordProperty("dedup_bytes_per_live_entry", std::to_string(bytes_per_live));
  // Bounded by the live entries, not by N: the whole table is a constant times
  // the window (N is 60 windows).
  EXPECT_LE(max_size, static_cast<size_t>(1.25 * live)) << "expired entries held: at most 0.93 / 0.76 of live";
  EXPECT_LE(static_cast<double>(max_bytes), 32.0 * live);
  // The design: purge at 0.93 load; grow only when live entries alone exceed
  // 0.84 and then to 0.76. In a steady window the table settles at a live load
  // in [0.76, 0.93]: 24 / 0.76 = 31.6 bytes per live entry at most.
  EXPECT_LE(max_bytes_per_live_settled, 32.0);
  EXPECT_GE(bytes_per_live, 24.0 / 0.93) << "fewer bytes than the slots hold: MemoryBytes under-reports";
}

// The same with out-of-order times and duplicates: the live count wanders, and
// the table is sized by the live counts it met at its purges.
TEST(MemoryDedupStore, OutOfOrderStreamMemoryIsBoundedByTheLiveEntries) {
  const Micros lateness = 10'000;
  const int64_t n = 400'000;
  MemoryDedupStore store;
  ReferenceDedup ref;
  std::mt19937_64 rng(11);
  std::priority_queue<Micros, std::vector<Micros>, std::greater<>> live_times;  // of entries recorded
  std::vector<std::pair<Uuid, Micros>> recent;
  Micros max_seen = 0;
  size_t peak_live = 0;
  double worst_per_live = 0;
  double worst_per_peak = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Micros watermark = i == 0 ? Watermark::kNone : max_seen - lateness;
    Uuid id{rng(), rng()};
    Micros t = std::max<Micros>(0, i - static_cast<Micros>(rng() % 3000));  // up to 3000 behind
    if (!recent.empty() && rng() % 20 == 0) {  // a re-send, maybe expired by now
      std::tie(id, t) = recent[rng() % recent.size()];
    }
    if (t < watermark) continue;  // late: the engine never asks the store
    const bool is_new = store.RecordIfNew(id, t, watermark);
    ASSERT_EQ(is_new, ref.RecordIfNew(id, t, watermark)) << i;
    if (is_new) {
      live_times.push(t);
      recent.emplace_back(id, t);
      if (recent.size() > 4096) recent.erase(recent.begin(), recent.begin() + 2048);
    }
    max_seen = std::max(max_seen, t);
    while (!live_times.empty() && live_times.top() < watermark) live_times.pop();
    const size_t live = live_times.size();
    ASSERT_GE(store.size(), live);
    peak_live = std::max(peak_live, live);
    if (i >= 20 * lateness) {
      worst_per_live = std::max(worst_per_live, static_cast<double>(store.MemoryBytes()) / static_cast<double>(live));
      worst_per_peak =
          std::max(worst_per_peak, static_cast<double>(store.MemoryBytes()) / static_cast<double>(peak_live));
      ASSERT_LE(store.size(), static_cast<size_t>(1.5 * static_cast<double>(peak_live))) << i;
    }
  }
  std::cout << "[ dedup    ] out-of-order window, live up to " << peak_live << " of " << n
            << " streamed: up to " << worst_per_live << " bytes per live entry, " << worst_per_peak
            << " per peak-live entry\n";
  // The table never shrinks, so it answers to the peak live count: at most
  // 24 / 0.76 bytes each (a growth sizes it to the live count then). Against
  // the live count of the moment, allow the live count to dip to half its peak.
  EXPECT_LE(worst_per_peak, 32.0);
  EXPECT_LE(worst_per_live, 24.0 / 0.5);
}

}  // namespace
}  // namespace tally
