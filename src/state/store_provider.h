#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "state/dedup_store.h"
#include "state/durable_task_state.h"
#include "state/window_store.h"

namespace tally {

// The state of one task: everything needed to resume its input partition.
struct TaskStores {
  // Null for state that lives as long as the run; else the task's processor
  // logs the events it counts into it.
  std::unique_ptr<DurableTaskState> durable;
  std::unique_ptr<DedupStore> dedup;
  std::unique_ptr<WindowStore> windows;
  // Restored state: where the task's processor resumes (watermark, counts).
  std::optional<state_codec::Meta> resume;
};

// Makes the dedup store of the task of a partition (a SpillingDedupStore
// under --state-memory). Empty: a MemoryDedupStore.
using DedupStoreFactory = std::function<absl::StatusOr<std::unique_ptr<DedupStore>>(int32_t partition)>;

// The dedup store `factory` makes for `partition`, or a MemoryDedupStore.
absl::StatusOr<std::unique_ptr<DedupStore>> MakeDedupStore(const DedupStoreFactory& factory, int32_t partition);

// Opens the stores of a task. State is scoped per input partition, so that a
// partition's state can move to another process with the partition; a durable
// provider restores it here before the task sees a record.
class StoreProvider {
 public:
  virtual ~StoreProvider() = default;
  virtual absl::StatusOr<TaskStores> Open(int32_t partition) = 0;
  // True if state outlives the process (a restart resumes it); false if it
  // dies with the run, in which case a run's last trigger finalizes every row.
  // Durable state never finalizes a row of an open day: its restore derives
  // the open days' rows from the logged events (durable_task_state.h).
  virtual bool durable() const = 0;
};

// Fresh, empty in-memory stores: state that lives as long as the run.
class MemoryStoreProvider final : public StoreProvider {
 public:
  explicit MemoryStoreProvider(DedupStoreFactory dedup = {}) : dedup_(std::move(dedup)) {}
  absl::StatusOr<TaskStores> Open(int32_t partition) override;
  bool durable() const override { return false; }

 private:
  DedupStoreFactory dedup_;
};

}  // namespace tally
