#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/event_time.h"
#include "state/dedup_store.h"
#include "state/spilling_dedup_store.h"

namespace tally {

// A process's memory budget for dedup state (--state-memory) and the local
// directory where what exceeds it spills (SpillingDedupStore).
//
// The budget covers, shared equally among the open stores, each store's hot
// table and what its cold part holds in memory (the runs' bloom filters and
// block indexes, and room for the filter a merge builds). Not in it, the
// documented constant: a spill in flight (a chunk of up to
// SpillingDedupStore::kSpillChunk entries, 3 MiB, and buffers of a few
// hundred KiB, one store at a time). Reads of the run files go through the
// kernel's page cache, which the kernel may reclaim.
//
// Directory: with a state dir, STATE_DIR/spill/partition-N (never mixed
// with the durable local stores STATE_DIR/partition-N), emptied when a
// store opens; else a new directory under $TMPDIR, removed with this object.
// Either way the contents are a cache, and no one reads them after the run.
class SpillSpace {
 public:
  // The least budget a process can run on.
  static constexpr uint64_t kMinBytes = uint64_t{16} << 20;

  // `state_dir` empty: a temporary directory. Fails if the directory cannot
  // be made, or `bytes` < kMinBytes.
  static absl::StatusOr<std::unique_ptr<SpillSpace>> Open(uint64_t bytes, const std::string& state_dir);
  ~SpillSpace();
  SpillSpace(const SpillSpace&) = delete;
  SpillSpace& operator=(const SpillSpace&) = delete;

  // A store for the task of `partition`. It must be destroyed before this
  // object.
  absl::StatusOr<std::unique_ptr<DedupStore>> OpenDedupStore(int32_t partition, Micros lateness);

  const std::string& path() const { return path_; }

 private:
  SpillSpace(uint64_t bytes, std::string path, bool temporary);

  std::string path_;
  bool temporary_;
  DedupMemoryShare share_;
};

}  // namespace tally
