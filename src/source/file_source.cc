#include "source/file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

bool OnlyWhiteSpace(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return false;
  }
  return true;
}

// The most the read buffer ever holds: a line of max_record_bytes (no newline
// yet) and one read after it.
size_t BufferLimit(size_t max_record_bytes) {
  constexpr size_t kRest = FileSource::kReadChunk + kRecordPadding;
  return max_record_bytes > std::numeric_limits<size_t>::max() - kRest ? std::numeric_limits<size_t>::max()
                                                                       : max_record_bytes + kRest;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path, size_t max_record_bytes) {
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::NotFoundError(absl::StrCat("cannot read input file ", path, ": ", std::strerror(errno)));
    }
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    if (fd != 0) ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("cannot read input file ", path, ": ",
                                                   S_ISDIR(st.st_mode) ? "it is a directory" : std::strerror(errno)));
  }
  const bool is_stream = !S_ISREG(st.st_mode);
  return std::make_unique<FileSource>(fd, path, is_stream, max_record_bytes);
}

FileSource::FileSource(int fd, std::string path, bool is_stream, size_t max_record_bytes)
    : fd_(fd),
      path_(std::move(path)),
      is_stream_(is_stream),
      max_record_bytes_(max_record_bytes),
      buffer_(kReadChunk + kRecordPadding),
      cut_head_(kTooLargeKeptBytes + kRecordPadding) {}

FileSource::~FileSource() {
  if (fd_ != 0) ::close(fd_);
}

std::string FileSource::Describe() const { return path_ == "-" ? "stdin" : absl::StrCat("file:", path_); }

absl::Status FileSource::Error(const char* what, int err) const {
  return absl::DataLossError(absl::StrCat(what, " ", path_ == "-" ? "standard input" : path_, ": ", std::strerror(err)));
}

void FileSource::Compact() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // A long line grew the buffer; once it is gone, give the memory back.
  if (buffer_.size() > 2 * kReadChunk + kRecordPadding && end_ <= kReadChunk / 2) {
    std::vector<char> smaller(kReadChunk + kRecordPadding);
    std::memcpy(smaller.data(), buffer_.data(), end_);
    buffer_.swap(smaller);
  }
}

absl::Status FileSource::Fill(absl::Duration max_wait, bool* waited_out) {
  *waited_out = false;
  // Called with an empty batch only: no view into the buffer is alive.
  Compact();
  // Keep kRecordPadding bytes after end_ so every record can be parsed in
  // place. The line in the buffer is at most max_record_bytes_ (a longer one
  // is cut before), so the limit always leaves a read's room.
  if (buffer_.size() - kRecordPadding - end_ < kReadChunk / 2) {
    const size_t size = std::min(std::max(buffer_.size() * 2, end_ + kReadChunk + kRecordPadding),
                                 BufferLimit(max_record_bytes_));
    buffer_.reserve(size);  // exactly: resize alone may double the capacity past the limit
    buffer_.resize(size);
  }
  if (is_stream_) {
    pollfd p{fd_, POLLIN, 0};
    const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(max_wait));
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) return Error("cannot read", errno);
    if (r <= 0) {
      *waited_out = true;
      return absl::OkStatus();
    }
  }
  const size_t room = std::min(buffer_.size() - kRecordPadding - end_, kReadChunk);
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.data() + end_, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("cannot read", errno);
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    return absl::OkStatus();
  }
}

void FileSource::Emit(std::string_view line, uint64_t cut_size, RecordBatch* batch) {
  ++line_;
  batch->records.push_back(SourceRecord{line, RecordOrigin{0, line_}, cut_size});
}

void FileSource::TakeLines(RecordBatch* batch, size_t* batch_bytes) {
  char* const data = buffer_.data();
  while (begin_ < end_ && batch->records.size() < kMaxBatchRecords && *batch_bytes < kMaxBatchBytes) {
    const char* const from = data + begin_;
    const char* const nl =
        static_cast<const char*>(std::memchr(from + no_newline_, '\n', end_ - begin_ - no_newline_));
    if (nl == nullptr) {
      no_newline_ = end_ - begin_;
      return;
    }
    const size_t size = static_cast<size_t>(nl - from);
    begin_ += size + 1;
    no_newline_ = 0;
    if (OnlyWhiteSpace(from, nl)) {
      ++line_;
    } else if (size > max_record_bytes_) {
      Emit(std::string_view(from, std::min(size, kTooLargeKeptBytes)), size, batch);
      *batch_bytes += std::min(size, kTooLargeKeptBytes);
    } else {
      Emit(std::string_view(from, size), 0, batch);
      *batch_bytes += size;
    }
  }
}

void FileSource::StartCutLine() {
  const char* const from = buffer_.data() + begin_;
  const size_t size = end_ - begin_;
  cut_head_size_ = std::min(size, kTooLargeKeptBytes);
  std::memcpy(cut_head_.data(), from, cut_head_size_);
  cut_size_ = size;
  cut_blank_ = OnlyWhiteSpace(from, from + size);
  cutting_ = true;
  begin_ = end_ = no_newline_ = 0;
}

bool FileSource::SkipCutLine(RecordBatch* batch) {
  const char* const from = buffer_.data() + begin_;
  const char* const nl = static_cast<const char*>(std::memchr(from, '\n', end_ - begin_));
  const size_t part = nl == nullptr ? end_ - begin_ : static_cast<size_t>(nl - from);
  if (cut_blank_) cut_blank_ = OnlyWhiteSpace(from, from + part);
  cut_size_ += part;
  if (nl == nullptr) {
    begin_ = end_ = no_newline_ = 0;  // read past: the bytes are gone
    return false;
  }
  begin_ += part + 1;
  cutting_ = false;
  if (cut_blank_) {
    ++line_;
  } else {
    Emit(std::string_view(cut_head_.data(), cut_head_size_), cut_size_, batch);
  }
  return true;
}

absl::Status FileSource::Poll(absl::Duration max_wait, RecordBatch* batch) {
  batch->records.clear();
  batch->padded = true;
  batch->end_of_input = false;
  Compact();  // the previous batch's views are dead now

  size_t batch_bytes = 0;
  bool read = false;
  for (;;) {
    if (cutting_) SkipCutLine(batch);
    if (!cutting_) TakeLines(batch, &batch_bytes);
    if (!batch->records.empty()) break;
    // The buffer holds no whole line now.
    if (eof_) {
      if (cutting_) {
        // A last line without a newline, read past.
        cutting_ = false;
        if (cut_blank_) {
          ++line_;
        } else {
          Emit(std::string_view(cut_head_.data(), cut_head_size_), cut_size_, batch);
        }
      } else if (begin_ < end_) {  // a last line without a newline
        const char* const from = buffer_.data() + begin_;
        const size_t size = end_ - begin_;
        begin_ = end_;
        no_newline_ = 0;
        if (OnlyWhiteSpace(from, from + size)) {
          ++line_;
        } else if (size > max_record_bytes_) {
          Emit(std::string_view(from, std::min(size, kTooLargeKeptBytes)), size, batch);
        } else {
          Emit(std::string_view(from, size), 0, batch);
        }
      }
      break;
    }
    if (!cutting_ && end_ - begin_ > max_record_bytes_) {
      StartCutLine();  // the batch is empty: no view points into the buffer
      continue;
    }
    // One read a poll: a long line read past still lets the runtime trigger
    // and notice a stop between reads.
    if (read) break;
    bool waited_out;
    if (auto s = Fill(max_wait, &waited_out); !s.ok()) return s;
    if (waited_out) break;
    read = true;
  }
  batch->end_of_input = eof_ && !cutting_ && begin_ == end_;
  return absl::OkStatus();
}

std::optional<std::string> FileSourcePath(std::string_view spec) {
  constexpr std::string_view kScheme = "file:";
  if (spec == "-") return std::string(spec);
  if (spec.size() > kScheme.size() && spec.substr(0, kScheme.size()) == kScheme) {
    return std::string(spec.substr(kScheme.size()));
  }
  return std::nullopt;
}

}  // namespace tally
