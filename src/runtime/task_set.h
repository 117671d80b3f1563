#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/record_counts.h"
#include "runtime/task.h"
#include "state/store_provider.h"

namespace tally {

// The tasks of one process, one per input partition it currently owns (Kafka
// Streams' TaskManager, minus the threads). A task is created, and its stores
// opened, the first time its partition is needed; it is dropped when the
// partition is revoked. Counts of dropped tasks are kept, so a run's summary
// covers every record it processed. Not thread-safe.
class TaskSet {
 public:
  TaskSet(StoreProvider& stores, const ProcessorOptions& options) : stores_(stores), options_(options) {}

  // The task of `partition`, created on first use.
  absl::StatusOr<Task*> Get(int32_t partition);

  // The task of `partition`, or null if there is none.
  Task* Find(int32_t partition) {
    return partition >= 0 && static_cast<size_t>(partition) < tasks_.size() ? tasks_[partition].get() : nullptr;
  }

  // Drops the task of `partition`, if any. Its rows must have been written,
  // or its state be durable (`keep_counts` false: its counts are in that
  // state, and come back when it is opened again).
  void Remove(int32_t partition, bool keep_counts = true);

  // The partitions of the tasks held.
  std::vector<int32_t> Partitions() const;

  template <typename F>
  void ForEach(F&& f) {
    for (auto& t : tasks_) {
      if (t) f(*t);
    }
  }

  // Counts of every task, past and present.
  RecordCounts TotalCounts() const;

 private:
  StoreProvider& stores_;
  const ProcessorOptions& options_;
  std::vector<std::unique_ptr<Task>> tasks_;  // indexed by partition
  RecordCounts removed_counts_;
};

}  // namespace tally
