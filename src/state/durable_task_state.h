#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/record_counts.h"
#include "core/watermark.h"
#include "state/counted_event_log.h"
#include "state/dedup_store.h"
#include "state/local_state_store.h"
#include "state/state_codec.h"
#include "state/state_record.h"
#include "state/window_store.h"

namespace tally {

// The durable half of one task's state: its local store, and the counted
// events since the last commit, turned into records at each trigger.
//
// The task's memory stores stay its working set; this class keeps the local
// store and the changelog in step with them. What it keeps is the log of
// counted events (state_codec.h), not the stores' contents: the dedup store
// is the log's live entries, and each open window row's count is the number
// of logged events of its learner and day.
//   1. Load fills empty memory stores from the local store (after the
//      provider brought the local store up to the changelog's end).
//   2. The task's processor appends every event it counts (CountedEventLog);
//      at a trigger, Stage turns them, the days that closed and the
//      watermark into staged() records.
//   3. The runtime writes staged() to the changelog inside the trigger's
//      transaction; once that commits, Checkpoint writes the same records to
//      the local store with the changelog offset after them.
// If the transaction aborts instead, the runtime drops the task and opens it
// again from the local store, which never holds uncommitted changes.
//
// For the window counts to be right after a restore, the window store must
// evict a day's rows exactly when the day closes (the watermark's
// FirstOpenDay() passes it), and never finalize rows of an open day: a
// restore would bring them back (see StoreProvider::durable).
//
// Not thread-safe; one per task.
class DurableTaskState final : public CountedEventLog {
 public:
  explicit DurableTaskState(std::unique_ptr<LocalStateStore> store) : store_(std::move(store)) {}

  // Fills empty stores from the local store: the live entries into `dedup`,
  // the counts of open days into `windows` (not marked changed: they were
  // written). Returns the meta the processor resumes from (watermark,
  // counts). DataLoss if a record is malformed.
  absl::StatusOr<state_codec::Meta> Load(DedupStore* dedup, WindowStore* windows, Micros lateness);

  void Append(const CountedEvent& event) override { log_.push_back(event); }

  // Appends to staged() the records of every change since the previous
  // Stage: the counted events, in chunks by day; a tombstone for each chunk
  // of a day closed at `watermark`; and the meta (watermark, counts).
  void Stage(const Watermark& watermark, const RecordCounts& counts);
  const std::vector<StateRecord>& staged() const { return staged_; }

  // The transaction that carried staged() committed; `checkpoint` is the
  // changelog offset after its last record. Writes them to the local store.
  absl::Status Checkpoint(int64_t checkpoint);

  // Bytes of memory held for counted events not yet staged.
  size_t MemoryBytes() const { return log_.capacity() * sizeof(CountedEvent); }

  LocalStateStore& store() { return *store_; }

 private:
  std::unique_ptr<LocalStateStore> store_;
  std::vector<CountedEvent> log_;
  std::vector<StateRecord> staged_;
  // The chunks held, by day: what to delete when a day closes.
  struct DayChunks {
    std::vector<std::string> keys;
    int64_t events = 0;
  };
  std::map<Day, DayChunks> chunks_by_day_;
  int64_t retained_events_ = 0;  // in all of chunks_by_day_
  int64_t next_chunk_seq_ = 0;
};

}  // namespace tally
