#pragma once

#include <cstdint>
#include <vector>

#include "core/daily_count_processor.h"
#include "state/store_provider.h"

namespace tally {

// The unit of work and of state: one input partition, its stores and the
// processor that runs the job's semantics over it (Kafka Streams' StreamTask).
//
// A trigger *stages* what the task's next commit carries: its position in
// the input, and (when they are part of the commit) its dead letters and
// state changes, as of the trigger. What the task processes after that
// belongs to the next commit.
class Task {
 public:
  Task(int32_t partition, TaskStores stores, const ProcessorOptions& options)
      : partition_(partition),
        stores_(std::move(stores)),
        processor_(options, stores_.dedup.get(), stores_.windows.get(), stores_.durable.get()) {
    if (stores_.resume) {
      processor_.Restore(stores_.resume->has_watermark, stores_.resume->max_seen, stores_.resume->counts);
    }
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  int32_t partition() const { return partition_; }
  DailyCountProcessor& processor() { return processor_; }
  const TaskStores& stores() const { return stores_; }
  // The durable half of the state, or null.
  DurableTaskState* durable() { return stores_.durable.get(); }

  // The position after the last record processed (-1: none yet this run),
  // and whether any record was processed since the last trigger.
  int64_t next_position = -1;
  bool dirty = false;

  // Staged by the last trigger, for its commit (see Committer).
  bool staged = false;
  int64_t staged_position = -1;
  std::vector<DeadLetter> staged_letters;

 private:
  int32_t partition_;
  TaskStores stores_;  // declared before processor_, which points into it
  DailyCountProcessor processor_;
};

}  // namespace tally
