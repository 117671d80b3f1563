#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "state/state_record.h"

namespace rocksdb {
class DB;
}

namespace tally {

// One task's state on local disk, in RocksDB: the materialization of the
// task's changelog partition up to a checkpoint, the changelog offset after
// the last record it holds. A restart reads the changelog from the checkpoint
// on (nothing, if the checkpoint is the changelog's end), so the store never
// needs to be durable on its own: it is written without RocksDB's WAL and
// without sync. Whatever a crash loses (the writes since the last memtable
// flush) the changelog still has, and Apply's records and checkpoint go in
// one write batch, which RocksDB never splits across flushes, so after a
// crash the store is always some earlier, whole checkpoint. A close flushes,
// so after a clean stop it is current.
//
// Not thread-safe; one per task.
class LocalStateStore {
 public:
  // Opens the store in `path` (a directory), creating it if missing.
  // DataLoss if RocksDB finds it corrupt (the caller destroys it and restores
  // from the changelog); another code, with the path in the message, if it
  // cannot be opened at all.
  static absl::StatusOr<std::unique_ptr<LocalStateStore>> Open(const std::string& path);

  // Deletes the store at `path`, files and directory; ok if it is not there.
  static absl::Status Destroy(const std::string& path);

  ~LocalStateStore();
  LocalStateStore(const LocalStateStore&) = delete;
  LocalStateStore& operator=(const LocalStateStore&) = delete;

  // The changelog offset after the last record this store holds; 0 for a new
  // store.
  int64_t checkpoint() const { return checkpoint_; }

  // Applies `records` in order (a put, or a delete for a tombstone) and sets
  // the checkpoint, in one atomic write. Not logged nor synced: see the
  // class comment.
  absl::Status Apply(std::span<const StateRecord> records, int64_t checkpoint);

  // Calls f(key, value) for every key that starts with `prefix`, in key
  // order, with checksums verified. DataLoss if a block is corrupt.
  absl::Status Scan(std::string_view prefix, const std::function<void(std::string_view, std::string_view)>& f) const;

  // Bytes of the store's files on disk, for benchmarks.
  uint64_t DiskBytes() const;

  // Writes what is in memory to SST files and waits for it, for tests and
  // benchmarks; the pipeline never needs it (see the class comment).
  absl::Status Flush();

  const std::string& path() const { return path_; }

 private:
  LocalStateStore(std::string path, std::unique_ptr<rocksdb::DB> db, int64_t checkpoint);

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  int64_t checkpoint_ = 0;
};

}  // namespace tally
