#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/event_time.h"
#include "core/uuid.h"
#include "state/blocked_bloom_filter.h"

namespace tally {

// One dedup entry as a run file holds it: 24 bytes, native byte order (the
// file never outlives the process that wrote it).
struct SpillEntry {
  uint64_t hi;
  uint64_t lo;
  Micros time;

  Uuid id() const { return Uuid{hi, lo}; }
  friend bool operator<(const SpillEntry& a, const SpillEntry& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
};

// An immutable sorted run of dedup entries on local disk, as an LSM tree's
// table file but with nothing a cache of one process needs not: fixed 24-byte
// records sorted by id, one id at most once; in memory, a blocked bloom filter
// of its ids (a lookup of an absent id reads no disk and no index) and the
// first id of every block of kBlockEntries records (one pread on a filter's
// hit). The file is unlinked as soon as it is made, so it goes with its run
// (or with the process, killed or not). Lookups are thread-compatible.
class SpillRun {
 public:
  static constexpr size_t kBlockEntries = 128;  // 3 KiB: one read per lookup

  // Writes `entries`, sorted by id, each id once, to a new file in `dir`. On a
  // full disk: ResourceExhausted; another I/O error: Internal.
  static absl::StatusOr<std::unique_ptr<SpillRun>> Write(const std::string& dir, std::span<const SpillEntry> entries);

  // One run holding the entries of `older` and `newer` that are live at
  // `watermark`; an id in both keeps the later time. Errors as Write's.
  static absl::StatusOr<std::unique_ptr<SpillRun>> Merge(const std::string& dir, const SpillRun& older,
                                                         const SpillRun& newer, Micros watermark);

  ~SpillRun();
  SpillRun(const SpillRun&) = delete;
  SpillRun& operator=(const SpillRun&) = delete;

  // False: `id` (of BlockedBloomFilter::HashOf `hash`) is not in the run.
  bool MayContain(uint64_t hash) const { return filter_.MayContain(hash); }
  void Prefetch(uint64_t hash) const { filter_.Prefetch(hash); }
  // The time held for `id`, or nullopt; reads one block. Internal on an I/O
  // error.
  absl::StatusOr<std::optional<Micros>> Find(const Uuid& id, uint64_t hash) const;

  size_t entries() const { return entries_; }
  // The filter and the block index.
  size_t MemoryBytes() const { return filter_.MemoryBytes() + index_.capacity() * sizeof(Uuid); }

 private:
  class Writer;
  SpillRun(int fd, size_t entries, BlockedBloomFilter filter, std::vector<Uuid> index);
  // Reads entries [first, first + n) into `out`.
  absl::Status Read(size_t first, size_t n, SpillEntry* out) const;

  int fd_;
  size_t entries_;
  BlockedBloomFilter filter_;
  std::vector<Uuid> index_;  // the first id of each block
};

}  // namespace tally
