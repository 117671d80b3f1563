#include "state/local_state_store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// The store's own data lives under keys that start with 0x00, a byte no state
// key starts with (they start with a letter): Apply refuses such keys and Scan
// never returns them.
constexpr char kInternalPrefix = '\0';
constexpr std::string_view kCheckpointKey("\0checkpoint", 11);

constexpr size_t kWriteBufferBytes = 16 << 20;
constexpr size_t kInfoLogBytes = 1 << 20;
constexpr size_t kInfoLogFiles = 2;

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

std::string EncodeCheckpoint(int64_t checkpoint) {
  std::string bytes(8, '\0');
  const auto u = static_cast<uint64_t>(checkpoint);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(u >> (56 - 8 * i));
  return bytes;
}

int64_t DecodeCheckpoint(std::string_view bytes) {
  uint64_t u = 0;
  for (char c : bytes) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<int64_t>(u);
}

// RocksDB's verdict as a Status that names the store. Corruption (checksum
// mismatches included) is DataLoss: the caller's cue to destroy the store and
// restore it from the changelog. Trouble with the disk may pass; anything else
// is a bug or a misuse.
absl::Status FromRocks(const rocksdb::Status& s, const char* doing, const std::string& path) {
  const std::string message = absl::StrCat("local state store ", path, ": ", doing, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIncomplete()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::Status FromFilesystem(const std::error_code& ec, const char* doing, const std::string& path) {
  const std::string message = absl::StrCat("local state store ", path, ": ", doing, ": ", ec.message());
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted ||
      ec == std::errc::read_only_file_system) {
    return absl::PermissionDeniedError(message);
  }
  return absl::UnavailableError(message);
}

rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // Report corruption (on open, in background work) rather than carry on.
  options.paranoid_checks = true;
  options.write_buffer_size = kWriteBufferBytes;
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  options.compression = std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end()
                            ? rocksdb::kLZ4Compression
                            : rocksdb::kNoCompression;
  // Every write skips the WAL (see Apply): a close must flush the memtable.
  options.avoid_flush_during_shutdown = false;
  // RocksDB's info LOG lives in the store's dir: one per task, so keep it small.
  options.max_log_file_size = kInfoLogBytes;
  options.keep_log_file_num = kInfoLogFiles;
  return options;
}

// The smallest key greater than every key that starts with `prefix`; empty if
// there is none (the prefix is empty or all 0xff).
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalStateStore>> LocalStateStore::Open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return FromFilesystem(ec, "cannot create it", path);

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(StoreOptions(), path, &raw);
  if (!s.ok()) return FromRocks(s, "cannot open it", path);
  std::unique_ptr<rocksdb::DB> db(raw);

  // Opening reads only the metadata of the SST files; a corrupt data block
  // would surface at some later read, in the middle of the pipeline. Read
  // everything now, while a restore is cheap to start.
  rocksdb::ReadOptions verify;
  verify.fill_cache = false;
  s = db->VerifyChecksum(verify);
  if (!s.ok()) return FromRocks(s, "verifying its checksums", path);

  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  std::string value;
  s = db->Get(read, ToSlice(kCheckpointKey), &value);
  int64_t checkpoint = 0;
  if (s.ok()) {
    if (value.size() != 8) {
      return absl::DataLossError(
          absl::StrCat("local state store ", path, ": its checkpoint is ", value.size(), " bytes, not 8"));
    }
    checkpoint = DecodeCheckpoint(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading its checkpoint", path);
  }
  return absl::WrapUnique(new LocalStateStore(path, std::move(db), checkpoint));
}

absl::Status LocalStateStore::Destroy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!ec) return absl::OkStatus();
    return FromFilesystem(ec, "cannot delete it", path);
  }
  // DestroyDB takes the store's lock first, so it refuses (and deletes
  // nothing) while the store is open, here or in another process. It does not
  // read the store's metadata, so a corrupt store is deleted all the same.
  rocksdb::Status s = rocksdb::DestroyDB(path, StoreOptions());
  if (!s.ok()) return FromRocks(s, "cannot delete it", path);
  // What RocksDB did not recognize as its own, and the dir itself.
  std::filesystem::remove_all(path, ec);
  if (ec) return FromFilesystem(ec, "cannot delete it", path);
  return absl::OkStatus();
}

LocalStateStore::LocalStateStore(std::string path, std::unique_ptr<rocksdb::DB> db, int64_t checkpoint)
    : path_(std::move(path)), db_(std::move(db)), checkpoint_(checkpoint) {}

// Out of line, where rocksdb::DB is complete. Without a WAL, what is only in
// the memtable would be lost by a close: flush it, so a clean stop leaves the
// store current and the next start restores nothing. Should the flush fail
// (a full disk), the store is an earlier checkpoint and the next start reads
// the rest from the changelog.
LocalStateStore::~LocalStateStore() {
  if (db_ != nullptr) (void)Flush();
}

absl::Status LocalStateStore::Apply(std::span<const StateRecord> records, int64_t checkpoint) {
  if (checkpoint < 0) {
    return absl::InvalidArgumentError(absl::StrCat("local state store ", path_, ": negative checkpoint ", checkpoint));
  }
  rocksdb::WriteBatch batch;
  for (const StateRecord& r : records) {
    if (!r.key.empty() && r.key.front() == kInternalPrefix) {
      return absl::InvalidArgumentError(
          absl::StrCat("local state store ", path_, ": a state key starts with 0x00, which is reserved"));
    }
    rocksdb::Status s = r.tombstone ? batch.Delete(r.key) : batch.Put(r.key, r.value);
    if (!s.ok()) return FromRocks(s, "building a write", path_);
  }
  const std::string encoded = EncodeCheckpoint(checkpoint);
  if (rocksdb::Status s = batch.Put(ToSlice(kCheckpointKey), encoded); !s.ok()) {
    return FromRocks(s, "building a write", path_);
  }
  rocksdb::WriteOptions write;
  // No WAL, no sync: the changelog has whatever a crash loses (see the
  // class comment). The WAL cost a copy of every byte into a file.
  write.disableWAL = true;
  write.sync = false;
  if (rocksdb::Status s = db_->Write(write, &batch); !s.ok()) return FromRocks(s, "writing", path_);
  checkpoint_ = checkpoint;
  return absl::OkStatus();
}

absl::Status LocalStateStore::Scan(std::string_view prefix,
                                   const std::function<void(std::string_view, std::string_view)>& f) const {
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.fill_cache = false;  // a scan is a restore or a rebuild: read once, not worth caching
  // An upper bound keeps the iterator from wading through the tombstones that
  // follow the prefix's range.
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice end_slice(end);
  if (!end.empty()) read.iterate_upper_bound = &end_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const std::string_view key = ToView(it->key());
    if (!key.starts_with(prefix)) break;
    if (!key.empty() && key.front() == kInternalPrefix) continue;
    f(key, ToView(it->value()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning", path_);
  return absl::OkStatus();
}

uint64_t LocalStateStore::DiskBytes() const {
  uint64_t bytes = 0;
  std::error_code ec;
  // Files come and go under compaction: one that vanishes counts for nothing.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    const uintmax_t size = it->file_size(size_ec);
    if (!size_ec) bytes += size;
  }
  return bytes;
}

absl::Status LocalStateStore::Flush() {
  rocksdb::FlushOptions options;
  options.wait = true;
  if (rocksdb::Status s = db_->Flush(options); !s.ok()) return FromRocks(s, "flushing", path_);
  return absl::OkStatus();
}

}  // namespace tally
