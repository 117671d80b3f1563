#include "kafka/changelog_reseed.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "kafka/changelog_topic.h"
#include "state/local_state_store.h"
#include "state/state_codec.h"

namespace tally {
namespace {

// One partition to reseed: its open store.
struct Candidate {
  int32_t partition = 0;
  std::unique_ptr<LocalStateStore> store;
};

// The keys the changelog partition holds live (last record not a tombstone).
absl::StatusOr<absl::flat_hash_set<std::string>> LiveKeys(const ChangelogStoreOptions& options, int32_t partition,
                                                        int64_t start) {
  absl::flat_hash_set<std::string> keys;
  auto end = ReadChangelog(options.bootstrap_servers, options.properties, options.changelog_topic, partition, start,
                           [&](const ChangelogRecord& r) {
                             if (r.value) {
                               keys.emplace(r.key);
                             } else {
                               keys.erase(std::string(r.key));
                             }
                             return absl::OkStatus();
                           });
  if (!end.ok()) return end.status();
  return keys;
}

// Writes `store` to changelog partition `partition` in one transaction and
// moves its checkpoint past what was written. Returns the records written.
absl::StatusOr<int64_t> Reseed(const ChangelogStoreOptions& options, KafkaTransaction& transaction,
                               int32_t partition, int64_t start, LocalStateStore& store) {
  auto stale = LiveKeys(options, partition, start);
  if (!stale.ok()) return stale.status();
  KafkaProducer& producer = transaction.producer();
  // Chunks of counted events do not compress (see SendUncompressed).
  if (auto s = producer.SendUncompressed(options.changelog_topic); !s.ok()) return s;
  if (auto s = transaction.Begin(); !s.ok()) return s;
  int64_t written = 0;
  absl::Status status;  // the first produce error
  absl::Status scanned = store.Scan("", [&](std::string_view key, std::string_view value) {
    if (!status.ok()) return;
    status = producer.ProduceTo(options.changelog_topic, partition, key, value);
    stale->erase(std::string(key));
    ++written;
  });
  if (status.ok()) status = scanned;
  for (const std::string& key : *stale) {
    if (!status.ok()) break;
    status = producer.ProduceTo(options.changelog_topic, partition, key, std::nullopt);
    ++written;
  }
  if (status.ok()) status = transaction.Commit();
  if (!status.ok()) {
    (void)transaction.Abort();  // what counts is why it failed
    return status;
  }
  const int64_t last = producer.LastOffset(options.changelog_topic, partition);
  if (last < 0) {
    return absl::InternalError(absl::StrCat("the reseed of partition ", partition,
                                            " committed, but no changelog offset was acknowledged"));
  }
  if (auto s = store.Apply({}, last + 1); !s.ok()) return s;
  return written;
}

}  // namespace

absl::StatusOr<int> ReseedChangelog(StateDir& dir, int32_t partitions, const ChangelogStoreOptions& options,
                                    KafkaTransaction& transaction) {
  auto log = [&](const std::string& message) {
    if (options.log) options.log(message);
  };
  // Check every store before writing anything.
  std::vector<Candidate> candidates;
  std::vector<ChangelogOffsets> offsets_of;
  int stores = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    const std::string path = dir.TaskPath(p);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    auto store = LocalStateStore::Open(path);
    if (!store.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot reseed changelog topic '", options.changelog_topic, "' partition ", p, " from ", path, ": ",
          store.status().message(), "; only an intact local state can be copied back"));
    }
    bool holds_state = false;
    if (auto s = (*store)->Scan(state_codec::kMetaKey,
                                [&](std::string_view key, std::string_view) {
                                  holds_state |= key == state_codec::kMetaKey;
                                });
        !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("cannot reseed changelog topic '", options.changelog_topic,
                                                        "' partition ", p, " from ", path, ": ", s.message()));
    }
    if (!holds_state) continue;
    ++stores;
    auto offsets =
        ReadChangelogOffsets(options.bootstrap_servers, options.properties, options.changelog_topic, p);
    if (!offsets.ok()) return offsets.status();
    const int64_t checkpoint = (*store)->checkpoint();
    if (checkpoint >= offsets->start && checkpoint <= offsets->end) {
      log(absl::StrCat("partition ", p, ": the changelog holds the local checkpoint ", checkpoint,
                       " (it ends at offset ", offsets->end, "); nothing to reseed"));
      continue;
    }
    candidates.push_back(Candidate{p, std::move(*store)});
    offsets_of.push_back(*offsets);
  }
  if (stores == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the state dir ", dir.path(), " holds no local state of topic '", options.input_topic,
        "' to reseed changelog topic '", options.changelog_topic,
        "' from; run it with the state dir of the process that owned the partitions last. If none is left, the "
        "state is lost: count the input again under a new --group, into a new table (docs/fault-tolerance.md)"));
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    const int64_t old_checkpoint = c.store->checkpoint();
    auto written = Reseed(options, transaction, c.partition, offsets_of[i].start, *c.store);
    if (!written.ok()) {
      return absl::Status(written.status().code(),
                          absl::StrCat("reseeding changelog topic '", options.changelog_topic, "' partition ",
                                       c.partition, ": ", written.status().message()));
    }
    log(absl::StrCat("partition ", c.partition, ": reseeded changelog topic '", options.changelog_topic, "' with ",
                     *written, " records from ", c.store->path(), "; its checkpoint moved from ", old_checkpoint,
                     " to ", c.store->checkpoint()));
  }
  return static_cast<int>(candidates.size());
}

}  // namespace tally
