#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "kafka/changelog_topic.h"
#include "kafka/kafka_config.h"
#include "state/state_dir.h"
#include "state/store_provider.h"

namespace tally {

struct ChangelogStoreOptions {
  std::string bootstrap_servers;
  KafkaProperties properties;
  std::string changelog_topic;
  // The job's input topic and consumer group: a task whose changelog holds no
  // state while the group has committed offsets for its partition refuses to
  // open. Empty group: no such check (tests).
  std::string input_topic;
  std::string group;
  Micros lateness = 0;  // the processor's: which restored dedup entries are live
  // Makes each task's dedup store (--state-memory); empty: in memory.
  DedupStoreFactory dedup;
  // Told what a task's opening did (restored how much, from where, or why
  // the local store was rebuilt). May be empty.
  std::function<void(const std::string&)> log;
};

// Durable task state: each task's stores are kept in memory as its working
// set, and backed by its local store (RocksDB, under the state dir) and its
// changelog partition. Open brings the local store up to the changelog's
// end, reading from the store's checkpoint on (nothing, after a clean stop),
// then loads it into fresh memory stores. A local store that is corrupt or
// missing is rebuilt from the whole changelog.
//
// A changelog that lost state is never taken as the truth (rebuilding from
// it would forget the dedup entries and restart the counts): Open fails with
// FailedPrecondition, naming the topic, the partition, the offsets and what
// to do, and leaves the local store as it is, when
//   - the local checkpoint is outside the changelog partition (past its end:
//     the topic was deleted and made anew; before its start: truncated), or
//   - the changelog partition holds no state at all while the group has
//     committed an input offset for the partition (the topic was made anew
//     and the local store is missing too).
// The first is repaired from an intact local store by ReseedChangelog.
class ChangelogStoreProvider final : public StoreProvider {
 public:
  ChangelogStoreProvider(StateDir& dir, ChangelogStoreOptions options) : dir_(dir), options_(std::move(options)) {}

  absl::StatusOr<TaskStores> Open(int32_t partition) override;
  bool durable() const override { return true; }

  // Opens the local store of `partition` (rebuilding a corrupt one) and
  // brings it up to the changelog's end (CatchUp), without loading it into
  // memory; logs what it restored. Serves Open, and a standby replica's
  // first opening (`standby`: so its log lines say).
  absl::StatusOr<std::unique_ptr<LocalStateStore>> Restore(int32_t partition, bool standby = false);
  // Applies the changelog of `partition` from `store`'s checkpoint to the
  // partition's end to `store`; returns the records applied. The refusals of
  // the class comment apply (a checkpoint outside the partition).
  // `report_progress`: a task's restore, reported as
  // tally_restore_remaining_records (a standby's catching up is not).
  absl::StatusOr<int64_t> CatchUp(int32_t partition, LocalStateStore& store, bool report_progress = false) const;

  // Called by Open before it opens a partition's local store, with the
  // partition: whoever else holds that store open (a standby replica) closes
  // it first (RocksDB locks a store to one handle).
  void SetBeforeOpen(std::function<void(int32_t)> f) { before_open_ = std::move(f); }

 private:
  // The refusal of a local checkpoint outside the changelog partition.
  absl::Status LostChangelogError(int32_t partition, int64_t checkpoint, const ChangelogOffsets& offsets) const;
  // A task that restored no state at all: refused if its input partition has
  // a committed offset (see the class comment).
  absl::Status CheckStateOfCommittedInput(int32_t partition, const LocalStateStore& store) const;
  void Log(const std::string& message) const {
    if (options_.log) options_.log(message);
  }

  StateDir& dir_;
  ChangelogStoreOptions options_;
  std::function<void(int32_t)> before_open_;
};

}  // namespace tally
