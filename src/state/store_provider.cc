#include "state/store_provider.h"

#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {

absl::StatusOr<TaskStores> MemoryStoreProvider::Open(int32_t) {
  return TaskStores{std::make_unique<MemoryDedupStore>(), std::make_unique<MemoryWindowStore>()};
}

}  // namespace tally
