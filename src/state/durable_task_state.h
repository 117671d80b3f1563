#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/daily_count.h"
#include "core/record_counts.h"
#include "core/watermark.h"
#include "state/dedup_store.h"
#include "state/local_state_store.h"
#include "state/state_codec.h"
#include "state/state_record.h"
#include "state/window_store.h"

namespace tally {

// The durable half of one task's state: its local store, and the state
// changes made since the last commit, turned into records at each trigger.
//
// The task's memory stores stay its working set; this class keeps the local
// store and the changelog in step with them:
//   1. Load fills empty memory stores from the local store (after the
//      provider brought the local store up to the changelog's end).
//   2. Every entry the task's ChangeLoggingDedupStore records lands in
//      dedup_log(); at a trigger, Stage turns those entries, the trigger's
//      rows and the watermark into staged() records.
//   3. The runtime writes staged() to the changelog inside the trigger's
//      transaction; once that commits, Checkpoint writes the same records to
//      the local store with the changelog offset after them.
// If the transaction aborts instead, the runtime drops the task and opens it
// again from the local store, which never holds uncommitted changes.
//
// Not thread-safe; one per task.
class DurableTaskState {
 public:
  explicit DurableTaskState(std::unique_ptr<LocalStateStore> store) : store_(std::move(store)) {}

  // Fills empty stores from the local store. Returns the meta the processor
  // resumes from (watermark, counts). DataLoss if a record is malformed.
  absl::StatusOr<state_codec::Meta> Load(DedupStore* dedup, WindowStore* windows, Micros lateness);

  // Where the task's ChangeLoggingDedupStore logs the entries it records.
  std::vector<state_codec::DedupEntry>* dedup_log() { return &dedup_log_; }

  // Appends to staged() the records of every change since the previous
  // Stage: new dedup entries, `updates` (rows with their new counts),
  // `finalized` (rows that leave the state), expired dedup buckets, and the
  // meta (watermark, counts).
  void Stage(std::span<const DailyCount> updates, std::span<const DailyCount> finalized, const Watermark& watermark,
             const RecordCounts& counts);
  const std::vector<StateRecord>& staged() const { return staged_; }

  // The transaction that carried staged() committed; `checkpoint` is the
  // changelog offset after its last record. Writes them to the local store.
  absl::Status Checkpoint(int64_t checkpoint);

  LocalStateStore& store() { return *store_; }

 private:
  std::unique_ptr<LocalStateStore> store_;
  std::vector<state_codec::DedupEntry> dedup_log_;
  std::vector<StateRecord> staged_;
  // A window row's change, as Stage sorts them: cheaper than as records.
  struct RowChange {
    DailyCount row;
    bool tombstone = false;  // finalized: the row leaves the state
  };
  std::vector<RowChange> row_changes_;  // Stage's scratch, kept for its capacity
  // The dedup chunk keys held, by bucket: what to delete when a bucket expires.
  std::map<int64_t, std::vector<std::string>> chunks_by_bucket_;
  int64_t next_chunk_seq_ = 0;
};

}  // namespace tally
