#include "state/store_provider.h"

#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {

absl::StatusOr<TaskStores> MemoryStoreProvider::Open(int32_t) {
  TaskStores stores;
  stores.dedup = std::make_unique<MemoryDedupStore>();
  stores.windows = std::make_unique<MemoryWindowStore>();
  return stores;
}

}  // namespace tally
