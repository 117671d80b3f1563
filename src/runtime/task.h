#pragma once

#include <cstdint>

#include "core/daily_count_processor.h"
#include "state/store_provider.h"

namespace tally {

// The unit of work and of state: one input partition, its stores and the
// processor that runs the job's semantics over it (Kafka Streams' StreamTask).
class Task {
 public:
  Task(int32_t partition, TaskStores stores, const ProcessorOptions& options)
      : partition_(partition),
        stores_(std::move(stores)),
        processor_(options, stores_.dedup.get(), stores_.windows.get()) {}
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  int32_t partition() const { return partition_; }
  DailyCountProcessor& processor() { return processor_; }
  const TaskStores& stores() const { return stores_; }

 private:
  int32_t partition_;
  TaskStores stores_;  // declared before processor_, which points into it
  DailyCountProcessor processor_;
};

}  // namespace tally
