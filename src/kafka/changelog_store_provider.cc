#include "kafka/changelog_store_provider.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "kafka/changelog_topic.h"
#include "state/change_logging_dedup_store.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

// Records applied to the local store per write while restoring.
constexpr size_t kRestoreBatch = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<LocalStateStore>> ChangelogStoreProvider::Restore(int32_t partition) {
  const std::string path = dir_.TaskPath(partition);
  for (int attempt = 0;; ++attempt) {
    auto store = LocalStateStore::Open(path);
    if (!store.ok()) {
      if (!absl::IsDataLoss(store.status()) || attempt > 0) return store.status();
      Log(absl::StrCat("partition ", partition, ": the local state is corrupt (", store.status().message(),
                       "); rebuilding it from the changelog"));
      if (auto s = LocalStateStore::Destroy(path); !s.ok()) return s;
      continue;
    }
    const absl::Time start = absl::Now();
    const int64_t from = (*store)->checkpoint();
    std::vector<StateRecord> batch;
    int64_t records = 0;
    auto end = ReadChangelog(
        options_.bootstrap_servers, options_.properties, options_.changelog_topic, partition, from,
        [&](const ChangelogRecord& r) -> absl::Status {
          StateRecord& record = batch.emplace_back();
          record.key.assign(r.key);
          if (r.value) {
            record.value.assign(*r.value);
          } else {
            record.tombstone = true;
          }
          ++records;
          if (batch.size() < kRestoreBatch) return absl::OkStatus();
          absl::Status s = (*store)->Apply(batch, r.offset + 1);
          batch.clear();
          return s;
        });
    if (absl::IsOutOfRange(end.status()) && attempt == 0) {
      Log(absl::StrCat("partition ", partition, ": the local state does not fit the changelog (",
                       end.status().message(), "); rebuilding it from the changelog"));
      store->reset();
      if (auto s = LocalStateStore::Destroy(path); !s.ok()) return s;
      continue;
    }
    if (!end.ok()) {
      return absl::Status(end.status().code(), absl::StrCat("restoring the state of partition ", partition,
                                                            " from ", options_.changelog_topic, ": ",
                                                            end.status().message()));
    }
    if (auto s = (*store)->Apply(batch, *end); !s.ok()) return s;
    if (records > 0 || from == 0) {
      Log(absl::StrFormat("partition %d: restored %d changelog records (offsets %d to %d) in %.2f s", partition,
                          records, from, *end, absl::ToDoubleSeconds(absl::Now() - start)));
    } else {
      Log(absl::StrFormat("partition %d: local state is current (checkpoint %d); nothing to restore", partition,
                          from));
    }
    return std::move(*store);
  }
}

absl::StatusOr<TaskStores> ChangelogStoreProvider::Open(int32_t partition) {
  for (int attempt = 0;; ++attempt) {
    auto store = Restore(partition);
    if (!store.ok()) return store.status();
    auto durable = std::make_unique<DurableTaskState>(std::move(*store));
    auto dedup = std::make_unique<MemoryDedupStore>();
    auto windows = std::make_unique<MemoryWindowStore>();
    auto meta = durable->Load(dedup.get(), windows.get(), options_.lateness);
    if (!meta.ok()) {
      // A checksum can pass and a record still be garbage (a store written
      // by a broken build): rebuild once from the changelog.
      if (!absl::IsDataLoss(meta.status()) || attempt > 0) return meta.status();
      Log(absl::StrCat("partition ", partition, ": ", meta.status().message(), "; rebuilding it from the changelog"));
      const std::string path = durable->store().path();
      durable.reset();
      if (auto s = LocalStateStore::Destroy(path); !s.ok()) return s;
      continue;
    }
    TaskStores stores;
    stores.dedup = std::make_unique<ChangeLoggingDedupStore>(std::move(dedup), durable->dedup_log());
    stores.windows = std::move(windows);
    stores.resume = *meta;
    stores.durable = std::move(durable);
    return stores;
  }
}

}  // namespace tally
