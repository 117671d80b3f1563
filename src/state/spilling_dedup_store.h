#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "state/dedup_store.h"
#include "state/memory_dedup_store.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace tally {

// The memory that a process's spilling dedup stores share (--state-memory,
// less the RocksDB block cache): each open store may hold an equal part.
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
// rest in RocksDB on local disk (the cold part), as Kafka Streams' segmented
// stores and Flink's RocksDB backend do. Same verdicts as MemoryDedupStore.
//
// The cold part is one RocksDB database per store, one column family per
// *segment* of event time (as wide as the lateness, at least an hour), keyed
// by the 16 bytes of the EventUUID, valued by the event time. Each table file
// has a whole-key bloom filter, held in memory: a lookup of a new event (the
// common case) reads no disk. A segment is dropped whole once the watermark
// passes its end (no tombstone per entry). No WAL: the database is a cache of
// state that is durable elsewhere (the changelog) or lives as long as the run,
// so Open clears it.
//
// RecordIfNew checks the live segments, then the hot part. When the hot part
// would grow past its share (the share less what RocksDB holds for this
// store: filters, indexes, memtables), it first moves its oldest entries out
// in bulk (about half of it: WriteBatches of at most kSpillChunk entries,
// each flushed to a table file at once). Growth of the hot table is allowed
// only while the old and the new table together fit in the share.
//
// A failed disk write (a full disk) leaves every entry in memory, so verdicts
// stay right, and sets status(): the caller must stop (the budget may then be
// exceeded until it does). Not thread-safe.
class SpillingDedupStore final : public DedupStore {
 public:
  // Entries per WriteBatch, each flushed at once: bounds the memory of a spill
  // in flight (about 10 MiB of memtable and batch).
  static constexpr size_t kSpillChunk = 128 * 1024;

  // Opens a store at `path` (a directory, emptied first), taking a part of
  // `share`; `cache` is RocksDB's block cache, shared by the process's
  // stores. Both must outlive the store. `lateness` sets the segment width.
  static absl::StatusOr<std::unique_ptr<SpillingDedupStore>> Open(const std::string& path, Micros lateness,
                                                                   DedupMemoryShare* share,
                                                                   std::shared_ptr<rocksdb::Cache> cache);
  ~SpillingDedupStore() override;
  SpillingDedupStore(const SpillingDedupStore&) = delete;
  SpillingDedupStore& operator=(const SpillingDedupStore&) = delete;

  bool RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) override;
  void Prefetch(const Uuid& id) const override { hot_.Prefetch(id); }
  void Purge(Micros watermark) override;
  // Entries in memory plus entries written to live segments (an id written
  // twice counts twice).
  size_t size() const override { return hot_.size() + cold_entries_; }
  // The hot table plus what RocksDB holds for this store (as of the last
  // spill or growth).
  size_t MemoryBytes() const override { return hot_.MemoryBytes() + rocks_bytes_; }
  absl::Status status() const override { return error_; }

  // Entries in memory; entries on disk. For tests and the report.
  size_t hot_size() const { return hot_.size(); }
  size_t cold_size() const { return cold_entries_; }

 private:
  struct Segment {
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    size_t entries = 0;
  };

  SpillingDedupStore(std::string path, Micros segment_width, DedupMemoryShare* share);

  int64_t SegmentOf(Micros t) const;
  bool ColdHolds(const Uuid& id, Micros watermark);
  void DropExpired(Micros watermark);
  // Called when the hot part reaches spill_at_: purge, spill, shrink.
  void MakeRoom(Micros watermark);
  // Moves the oldest live entries to disk until about `keep` stay in memory.
  void Spill(Micros watermark, size_t keep);
  absl::StatusOr<Segment*> SegmentFor(Micros t);
  // Recomputes spill_at_ from the share and what RocksDB holds now.
  void Plan();
  size_t Allowance() const;
  void Fail(const std::string& doing, const std::string& message, bool no_space);

  const std::string path_;
  const Micros segment_width_;
  DedupMemoryShare* share_;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<int64_t, Segment> segments_;  // by segment number
  MemoryDedupStore hot_;
  size_t cold_entries_ = 0;
  size_t rocks_bytes_ = 0;
  size_t spill_at_ = 0;          // hot size at which RecordIfNew first makes room
  size_t planned_capacity_ = 0;  // hot capacity spill_at_ was planned for
  absl::Status error_;
};

}  // namespace tally
