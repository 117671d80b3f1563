#include "state/store_provider.h"

#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {

absl::StatusOr<std::unique_ptr<DedupStore>> MakeDedupStore(const DedupStoreFactory& factory, int32_t partition) {
  if (factory) return factory(partition);
  return std::make_unique<MemoryDedupStore>();
}

absl::StatusOr<TaskStores> MemoryStoreProvider::Open(int32_t partition) {
  TaskStores stores;
  auto dedup = MakeDedupStore(dedup_, partition);
  if (!dedup.ok()) return dedup.status();
  stores.dedup = std::move(*dedup);
  stores.windows = std::make_unique<MemoryWindowStore>();
  return stores;
}

}  // namespace tally
