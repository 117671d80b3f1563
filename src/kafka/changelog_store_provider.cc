#include "kafka/changelog_store_provider.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "kafka/changelog_topic.h"
#include "kafka/committed_offset.h"
#include "runtime/metrics.h"
#include "state/state_codec.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

// Records, and bytes, applied to the local store per write while restoring,
// at most: a chunk record is up to 640 KiB, so a batch of records alone
// could hold the whole changelog in memory.
constexpr size_t kRestoreBatch = 4096;
constexpr size_t kRestoreBatchBytes = size_t{16} << 20;

// True if `store` holds the meta record every commit writes: some state.
absl::StatusOr<bool> HoldsState(const LocalStateStore& store) {
  bool found = false;
  absl::Status s = store.Scan(state_codec::kMetaKey, [&](std::string_view key, std::string_view) {
    found |= key == state_codec::kMetaKey;
  });
  if (!s.ok()) return s;
  return found;
}

}  // namespace

absl::Status ChangelogStoreProvider::LostChangelogError(int32_t partition, int64_t checkpoint,
                                                        const ChangelogOffsets& offsets) const {
  const bool past_end = checkpoint > offsets.end;
  return absl::FailedPreconditionError(absl::StrCat(
      "changelog topic '", options_.changelog_topic, "' partition ", partition,
      past_end ? absl::StrCat(" ends at offset ", offsets.end)
               : absl::StrCat(" starts at offset ", offsets.start),
      ", but the local state ", dir_.TaskPath(partition), " has checkpoint ", checkpoint,
      past_end ? ": the topic was deleted and made anew" : ": the topic was truncated",
      "; refusing to start, as restoring from it would forget the job's state (dedup, counts). If this local state "
      "is the partition's latest (this process owned it last), copy it back: run the job once with "
      "--reseed-changelog added; else the state is lost (docs/fault-tolerance.md)"));
}

absl::Status ChangelogStoreProvider::CheckStateOfCommittedInput(int32_t partition,
                                                                const LocalStateStore& store) const {
  if (options_.group.empty()) return absl::OkStatus();
  auto holds = HoldsState(store);
  if (!holds.ok()) return holds.status();
  if (*holds) return absl::OkStatus();
  auto committed = ReadCommittedOffset(options_.bootstrap_servers, options_.properties, options_.group,
                                       options_.input_topic, partition);
  if (!committed.ok()) return committed.status();
  // Offset 0 covers no record: nothing was counted, no state is missing.
  if (*committed <= 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "changelog topic '", options_.changelog_topic, "' partition ", partition, " holds no state, but group '",
      options_.group, "' has committed offset ", *committed, " of topic '", options_.input_topic, "' partition ",
      partition, ": the topic was deleted and made anew, and the local state ", dir_.TaskPath(partition),
      " is missing too; refusing to start, as counting on from that offset would forget the job's state (dedup, "
      "counts). If a state dir of this job still holds the partition's latest state, run the job once on it with "
      "--reseed-changelog added; else the state is lost: count the input again under a new --group, into a new "
      "table (docs/fault-tolerance.md)"));
}

absl::StatusOr<int64_t> ChangelogStoreProvider::CatchUp(int32_t partition, LocalStateStore& store,
                                                         bool report_progress) const {
  const int64_t from = store.checkpoint();
  std::vector<StateRecord> batch;
  size_t batch_bytes = 0;
  int64_t records = 0;
  // Restore progress (tally_restore_remaining_records): the end as it is
  // now; unknown (not reported) if the cluster does not say.
  Metrics& metrics = Metrics::Get();
  int64_t restore_end = -1;
  if (report_progress) {
    auto offsets =
        ReadChangelogOffsets(options_.bootstrap_servers, options_.properties, options_.changelog_topic, partition);
    if (offsets.ok()) {
      restore_end = offsets->end;
      metrics.SetRestoreRemaining(partition, std::max<int64_t>(0, restore_end - from));
    }
  }
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
        batch_bytes += record.key.size() + record.value.size();
        if (batch.size() < kRestoreBatch && batch_bytes < kRestoreBatchBytes) return absl::OkStatus();
        absl::Status s = store.Apply(batch, r.offset + 1);
        batch.clear();
        if (restore_end >= 0) metrics.SetRestoreRemaining(partition, std::max<int64_t>(0, restore_end - r.offset - 1));
        batch_bytes = 0;
        return s;
      });
  if (absl::IsOutOfRange(end.status()) && from > 0) {
    // The checkpoint is outside the partition: the topic lost state. Never
    // rebuild from it (see the class comment); keep the local store.
    auto offsets =
        ReadChangelogOffsets(options_.bootstrap_servers, options_.properties, options_.changelog_topic, partition);
    if (!offsets.ok()) return offsets.status();
    if (from > offsets->end || from < offsets->start) return LostChangelogError(partition, from, *offsets);
  }
  if (!end.ok()) {
    return absl::Status(end.status().code(), absl::StrCat("restoring the state of partition ", partition, " from ",
                                                          options_.changelog_topic, ": ", end.status().message()));
  }
  if (auto s = store.Apply(batch, *end); !s.ok()) return s;
  if (restore_end >= 0) metrics.SetRestoreRemaining(partition, 0);
  return records;
}

absl::StatusOr<std::unique_ptr<LocalStateStore>> ChangelogStoreProvider::Restore(int32_t partition, bool standby) {
  const std::string path = dir_.TaskPath(partition);
  const std::string what = absl::StrCat(standby ? "standby " : "", "partition ", partition);
  for (int attempt = 0;; ++attempt) {
    auto store = LocalStateStore::Open(path);
    if (!store.ok()) {
      if (!absl::IsDataLoss(store.status()) || attempt > 0) return store.status();
      Log(absl::StrCat(what, ": the local state is corrupt (", store.status().message(),
                       "); rebuilding it from the changelog"));
      if (auto s = LocalStateStore::Destroy(path); !s.ok()) return s;
      continue;
    }
    const absl::Time start = absl::Now();
    const int64_t from = (*store)->checkpoint();
    auto records = CatchUp(partition, **store, /*report_progress=*/!standby);
    if (!records.ok()) return records.status();
    if (from == 0) {
      if (auto s = CheckStateOfCommittedInput(partition, **store); !s.ok()) return s;
    }
    if (*records > 0 || from == 0) {
      Log(absl::StrFormat("%s: restored %d changelog records (offsets %d to %d) in %.2f s", what, *records, from,
                          (*store)->checkpoint(), absl::ToDoubleSeconds(absl::Now() - start)));
    } else {
      Log(absl::StrFormat("%s: local state is current (checkpoint %d); nothing to restore", what, from));
    }
    return std::move(*store);
  }
}

absl::StatusOr<TaskStores> ChangelogStoreProvider::Open(int32_t partition) {
  if (before_open_) before_open_(partition);
  // A task restoring is not ready (/readyz) until it runs.
  prometheus::Gauge& restoring = Metrics::Get().tasks_restoring();
  restoring.Increment();
  struct Restored {
    prometheus::Gauge& gauge;
    ~Restored() { gauge.Decrement(); }
  } restored{restoring};
  for (int attempt = 0;; ++attempt) {
    auto store = Restore(partition);
    if (!store.ok()) return store.status();
    auto durable = std::make_unique<DurableTaskState>(std::move(*store));
    auto made = MakeDedupStore(options_.dedup, partition);
    if (!made.ok()) return made.status();
    std::unique_ptr<DedupStore> dedup = std::move(*made);
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
    stores.dedup = std::move(dedup);
    stores.windows = std::move(windows);
    stores.resume = *meta;
    stores.durable = std::move(durable);
    return stores;
  }
}

}  // namespace tally
