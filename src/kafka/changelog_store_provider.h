#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "kafka/kafka_config.h"
#include "state/state_dir.h"
#include "state/store_provider.h"

namespace tally {

struct ChangelogStoreOptions {
  std::string bootstrap_servers;
  KafkaProperties properties;
  std::string changelog_topic;
  Micros lateness = 0;  // the processor's: which restored dedup entries are live
  // Told what a task's opening did (restored how much, from where, or why
  // the local store was rebuilt). May be empty.
  std::function<void(const std::string&)> log;
};

// Durable task state: each task's stores are kept in memory as its working
// set, and backed by its local store (RocksDB, under the state dir) and its
// changelog partition. Open brings the local store up to the changelog's
// end, reading from the store's checkpoint on (nothing, after a clean stop),
// then loads it into fresh memory stores. A local store that is corrupt,
// missing, or that does not fit the changelog (a checkpoint past its end:
// the topic was made anew) is rebuilt from the whole changelog.
class ChangelogStoreProvider final : public StoreProvider {
 public:
  ChangelogStoreProvider(StateDir& dir, ChangelogStoreOptions options) : dir_(dir), options_(std::move(options)) {}

  absl::StatusOr<TaskStores> Open(int32_t partition) override;
  bool durable() const override { return true; }

 private:
  // Opens the local store of `partition` and reads the changelog into it.
  absl::StatusOr<std::unique_ptr<LocalStateStore>> Restore(int32_t partition);
  void Log(const std::string& message) const {
    if (options_.log) options_.log(message);
  }

  StateDir& dir_;
  ChangelogStoreOptions options_;
};

}  // namespace tally
