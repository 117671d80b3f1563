#include "state/spill_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// Entries per buffered write, and per read of a merge's input.
constexpr size_t kBufferEntries = 4096;

absl::Status IoError(const std::string& doing, int error) {
  const std::string message = absl::StrCat(doing, ": ", std::generic_category().message(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// A new file in `dir`, already unlinked.
absl::StatusOr<int> NewFile(const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  const std::string path =
      (std::filesystem::path(dir) / absl::StrCat("run-", getpid(), "-", counter.fetch_add(1))).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(absl::StrCat("creating ", path), errno);
  ::unlink(path.c_str());
  return fd;
}

}  // namespace

// Appends sorted entries to a new run's file, building its filter and index.
class SpillRun::Writer {
 public:
  // `max_entries`: an upper bound of the entries to come, which sizes the filter.
  Writer(int fd, size_t max_entries) : fd_(fd), filter_(max_entries) {
    buffer_.reserve(std::min(max_entries, kBufferEntries));
    index_.reserve((max_entries + kBlockEntries - 1) / kBlockEntries);
  }
  ~Writer() {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Add(const SpillEntry& e) {
    if (entries_ % kBlockEntries == 0) index_.push_back(e.id());
    filter_.Add(BlockedBloomFilter::HashOf(e.id()));
    ++entries_;
    buffer_.push_back(e);
    return buffer_.size() == kBufferEntries ? Flush() : absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<SpillRun>> Finish() {
    if (absl::Status s = Flush(); !s.ok()) return s;
    index_.shrink_to_fit();
    const int fd = fd_;
    fd_ = -1;
    return std::unique_ptr<SpillRun>(new SpillRun(fd, entries_, std::move(filter_), std::move(index_)));
  }

 private:
  absl::Status Flush() {
    const char* p = reinterpret_cast<const char*>(buffer_.data());
    size_t left = buffer_.size() * sizeof(SpillEntry);
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("writing a spill run", errno);
      if (n == 0) return IoError("writing a spill run", ENOSPC);
      p += n;
      left -= static_cast<size_t>(n);
    }
    buffer_.clear();
    return absl::OkStatus();
  }

  int fd_;
  size_t entries_ = 0;
  BlockedBloomFilter filter_;
  std::vector<Uuid> index_;
  std::vector<SpillEntry> buffer_;
};

SpillRun::SpillRun(int fd, size_t entries, BlockedBloomFilter filter, std::vector<Uuid> index)
    : fd_(fd), entries_(entries), filter_(std::move(filter)), index_(std::move(index)) {}

SpillRun::~SpillRun() { ::close(fd_); }

absl::StatusOr<std::unique_ptr<SpillRun>> SpillRun::Write(const std::string& dir,
                                                          std::span<const SpillEntry> entries) {
  auto fd = NewFile(dir);
  if (!fd.ok()) return fd.status();
  Writer writer(*fd, entries.size());
  for (const SpillEntry& e : entries) {
    if (absl::Status s = writer.Add(e); !s.ok()) return s;
  }
  return writer.Finish();
}

absl::Status SpillRun::Read(size_t first, size_t n, SpillEntry* out) const {
  char* p = reinterpret_cast<char*>(out);
  size_t left = n * sizeof(SpillEntry);
  off_t offset = static_cast<off_t>(first * sizeof(SpillEntry));
  while (left > 0) {
    const ssize_t got = ::pread(fd_, p, left, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return IoError("reading a spill run", errno);
    if (got == 0) return absl::InternalError("reading a spill run: the file is shorter than written");
    p += got;
    offset += got;
    left -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Micros>> SpillRun::Find(const Uuid& id, uint64_t hash) const {
  if (!filter_.MayContain(hash)) return std::nullopt;
  // The last block whose first id is <= id.
  auto it = std::upper_bound(index_.begin(), index_.end(), id);
  if (it == index_.begin()) return std::nullopt;
  const size_t block = static_cast<size_t>(it - index_.begin()) - 1;
  const size_t first = block * kBlockEntries;
  const size_t n = std::min(kBlockEntries, entries_ - first);
  SpillEntry entries[kBlockEntries];
  if (absl::Status s = Read(first, n, entries); !s.ok()) return s;
  const SpillEntry key{id.hi, id.lo, 0};
  const SpillEntry* found = std::lower_bound(entries, entries + n, key);
  if (found == entries + n || found->hi != id.hi || found->lo != id.lo) return std::nullopt;
  return found->time;
}

absl::StatusOr<std::unique_ptr<SpillRun>> SpillRun::Merge(const std::string& dir, const SpillRun& older,
                                                          const SpillRun& newer, Micros watermark) {
  // Reads a run front to back, kBufferEntries at a time.
  struct Cursor {
    const SpillRun& run;
    std::vector<SpillEntry> buffer;
    size_t next = 0;  // the run's entry at buffer[at]
    size_t at = 0;
    bool done() const { return next == run.entries_ && at == buffer.size(); }
    absl::Status Fill() {
      if (at < buffer.size() || next == run.entries_) return absl::OkStatus();
      buffer.resize(std::min(kBufferEntries, run.entries_ - next));
      at = 0;
      absl::Status s = run.Read(next, buffer.size(), buffer.data());
      next += buffer.size();
      return s;
    }
    const SpillEntry& head() const { return buffer[at]; }
  };
  auto fd = NewFile(dir);
  if (!fd.ok()) return fd.status();
  Writer writer(*fd, older.entries_ + newer.entries_);
  Cursor a{older, {}}, b{newer, {}};
  for (;;) {
    if (absl::Status s = a.Fill(); !s.ok()) return s;
    if (absl::Status s = b.Fill(); !s.ok()) return s;
    if (a.done() && b.done()) break;
    SpillEntry e;
    if (b.done() || (!a.done() && a.head() < b.head())) {
      e = a.head();
      ++a.at;
    } else if (a.done() || b.head() < a.head()) {
      e = b.head();
      ++b.at;
    } else {  // the same id in both
      e = a.head();
      e.time = std::max(e.time, b.head().time);
      ++a.at;
      ++b.at;
    }
    if (e.time < watermark) continue;  // expired: dropped
    if (absl::Status s = writer.Add(e); !s.ok()) return s;
  }
  return writer.Finish();
}

}  // namespace tally
