#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "state/dedup_store.h"
#include "state/memory_dedup_store.h"
#include "state/spill_run.h"

namespace tally {

// The memory that a process's spilling dedup stores share (--state-memory): each open store may hold an equal part.
// A store opened later shrinks the others' parts; each gives memory back at
// its next spill. Thread-safe.
class DedupMemoryShare {
 public:
  explicit DedupMemoryShare(uint64_t bytes) : bytes_(bytes) {}
  uint64_t PerStore() const { return bytes_ / static_cast<uint64_t>(std::max(1, stores_.load())); }
  uint64_t bytes() const { return bytes_; }
  void Join() { ++stores_; }
  void Leave() { --stores_; }

 private:
  const uint64_t bytes_;
  std::atomic<int> stores_{0};
};

// A DedupStore that holds at most its part of a memory budget: the entries
// of recent event time in memory (a MemoryDedupStore, the hot part), the
// rest on local disk (the cold part), as Kafka Streams' segmented stores and
// Flink's RocksDB backend do. Same verdicts as MemoryDedupStore.
//
// The cold part is a set of *segments* of event time (as wide as the
// lateness, at least an hour), each a short stack of immutable sorted runs
// (SpillRun: a file, and in memory a blocked bloom filter and a sparse
// index). A lookup of a new event (the common case) probes one cache line of
// each live run's filter and reads no disk; a filter's hit reads one block.
// A spill writes each segment's part of it as a new run; a segment's two
// newest runs merge while the older holds no more than kMergeRatio (2) times
// the newer, so each run is more than twice the next newer: about
// log2(spills) runs a segment, each entry rewritten about as often (with 1,
// spills of slowly shrinking sizes would never merge). A segment is dropped
// whole once the watermark passes its end. The files are unlinked as they are
// made: the cold part is a cache of this run, durable elsewhere (the
// changelog) or needed only by this run.
//
// RecordIfNew checks the live segments, then the hot part. When the hot part
// would grow past its share (the share less the cold part's filters and
// indexes, and the room a merge needs for its new filter), it first moves its
// oldest entries out in bulk (about half of it, in chunks of at most
// kSpillChunk entries). Growth of the hot table is allowed only while the old
// and the new table together fit in the share.
//
// A failed disk write (a full disk) leaves every entry in memory, so verdicts
// stay right, and sets status(): the caller must stop (the budget may then be
// exceeded until it does). Not thread-safe.
class SpillingDedupStore final : public DedupStore {
 public:
  // Entries sorted and written at once: bounds the memory of a spill in
  // flight (kSpillChunk * 24 bytes), outside the budget.
  static constexpr size_t kSpillChunk = 128 * 1024;
  // A segment's newest two runs merge while the older has at most this many
  // times the newer's entries (see above).
  static constexpr size_t kMergeRatio = 2;

  // Opens a store at `path` (a directory, emptied first), taking a part of
  // `share`, which must outlive the store. `lateness` sets the segment width.
  static absl::StatusOr<std::unique_ptr<SpillingDedupStore>> Open(const std::string& path, Micros lateness,
                                                                   DedupMemoryShare* share);
  ~SpillingDedupStore() override;
  SpillingDedupStore(const SpillingDedupStore&) = delete;
  SpillingDedupStore& operator=(const SpillingDedupStore&) = delete;

  bool RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) override;
  void Prefetch(const Uuid& id) const override;
  void Purge(Micros watermark) override;
  // Entries in memory plus entries written to live segments (an id written
  // twice counts twice).
  size_t size() const override { return hot_.size() + cold_entries_; }
  // The hot table plus the runs' filters and indexes.
  size_t MemoryBytes() const override { return hot_.MemoryBytes() + cold_bytes_; }
  absl::Status status() const override { return error_; }

  // Entries in memory; entries on disk. For tests and the report.
  size_t hot_size() const { return hot_.size(); }
  size_t cold_size() const { return cold_entries_; }
  // Runs on disk, over all segments.
  size_t run_count() const;

 private:
  struct Segment {
    std::vector<std::unique_ptr<SpillRun>> runs;  // oldest first
    size_t entries = 0;
    size_t bytes = 0;  // the runs' MemoryBytes
  };

  SpillingDedupStore(std::string path, Micros segment_width, DedupMemoryShare* share);

  int64_t SegmentOf(Micros t) const;
  bool ColdHolds(const Uuid& id, Micros watermark);
  void DropExpired(Micros watermark);
  // Called when the hot part reaches spill_at_: purge, spill, shrink.
  void MakeRoom(Micros watermark);
  // Moves the oldest live entries to disk until about `keep` stay in memory.
  void Spill(Micros watermark, size_t keep);
  // Writes `chunk` (live entries, in any order) as one new run per segment.
  void WriteChunk(std::vector<SpillEntry>* chunk, Micros watermark);
  // Merges the segment's newest runs while the merge policy asks.
  void Compact(Segment* segment, Micros watermark);
  // Recomputes spill_at_ from the share and what the cold part holds now.
  void Plan();
  size_t Allowance() const;
  void Fail(const std::string& doing, const std::string& message, bool no_space);

  const std::string path_;
  const Micros segment_width_;
  DedupMemoryShare* share_;
  std::map<int64_t, Segment> segments_;  // by segment number
  MemoryDedupStore hot_;
  size_t cold_entries_ = 0;
  size_t cold_bytes_ = 0;     // the runs' filters and indexes
  size_t merge_reserve_ = 0;  // the filter and index a merge may build: the largest segment's
  size_t spill_at_ = 0;          // hot size at which RecordIfNew first makes room
  size_t planned_capacity_ = 0;  // hot capacity spill_at_ was planned for
  absl::Status error_;
};

}  // namespace tally
