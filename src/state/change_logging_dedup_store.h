#pragma once

#include <memory>
#include <vector>

#include "state/dedup_store.h"
#include "state/state_codec.h"

namespace tally {

// A DedupStore that remembers every entry it records, so that a trigger can
// write them to the task's changelog (Kafka Streams' ChangeLogging stores).
// Expired entries need no record of their own: they leave the changelog a
// bucket at a time (see state_codec.h). Not thread-safe.
class ChangeLoggingDedupStore final : public DedupStore {
 public:
  // `log` receives each recorded entry; it must outlive this store.
  ChangeLoggingDedupStore(std::unique_ptr<DedupStore> inner, std::vector<state_codec::DedupEntry>* log)
      : inner_(std::move(inner)), log_(log) {}

  bool RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) override {
    if (!inner_->RecordIfNew(id, event_time, watermark)) return false;
    log_->push_back({id, event_time});
    return true;
  }
  void Prefetch(const Uuid& id) const override { inner_->Prefetch(id); }
  void Purge(Micros watermark) override { inner_->Purge(watermark); }
  size_t size() const override { return inner_->size(); }
  absl::Status status() const override { return inner_->status(); }
  size_t MemoryBytes() const override { return inner_->MemoryBytes() + log_->capacity() * sizeof(state_codec::DedupEntry); }

 private:
  std::unique_ptr<DedupStore> inner_;
  std::vector<state_codec::DedupEntry>* log_;
};

}  // namespace tally
