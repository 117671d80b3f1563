#include "source/file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/record_parser.h"

namespace tally {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kShrinkAbove = 8 * kChunk;

bool OnlyWhiteSpace(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
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
  return std::make_unique<FileSource>(fd, path, is_stream);
}

FileSource::FileSource(int fd, std::string path, bool is_stream)
    : fd_(fd), path_(std::move(path)), is_stream_(is_stream), buffer_(kChunk + kRecordPadding) {}

FileSource::~FileSource() {
  if (fd_ != 0) ::close(fd_);
}

std::string FileSource::Describe() const { return path_ == "-" ? "stdin" : absl::StrCat("file:", path_); }

absl::Status FileSource::Error(const char* what, int err) const {
  return absl::DataLossError(absl::StrCat(what, " ", path_ == "-" ? "standard input" : path_, ": ", std::strerror(err)));
}

absl::Status FileSource::Fill(absl::Duration max_wait, bool* waited_out) {
  *waited_out = false;
  // Keep kRecordPadding bytes after end_ so every record can be parsed in place.
  if (buffer_.size() - kRecordPadding - end_ < kChunk / 2) {
    buffer_.resize(std::max(buffer_.size() * 2, end_ + kChunk + kRecordPadding));
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
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - kRecordPadding - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("cannot read", errno);
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    return absl::OkStatus();
  }
}

absl::Status FileSource::Poll(absl::Duration max_wait, RecordBatch* batch) {
  batch->records.clear();
  batch->padded = true;
  batch->end_of_input = false;

  // The previous batch's views are now dead: move the unread tail to the front.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() > kShrinkAbove && end_ < kChunk) {
    buffer_.resize(kChunk + kRecordPadding);
    buffer_.shrink_to_fit();
  }

  // Read until at least one whole line is here (a long line may take many reads).
  const char* newline = nullptr;
  size_t scanned = 0;
  while (!eof_) {
    bool waited_out;
    if (auto s = Fill(max_wait, &waited_out); !s.ok()) return s;
    if (waited_out) return absl::OkStatus();
    newline = static_cast<const char*>(std::memchr(buffer_.data() + scanned, '\n', end_ - scanned));
    if (newline != nullptr) break;
    scanned = end_;
  }

  const char* const data = buffer_.data();
  const char* p = data + begin_;
  const char* const end = data + end_;
  auto emit = [&](const char* from, const char* to) {
    ++line_;
    if (!OnlyWhiteSpace(from, to)) {
      batch->records.push_back(SourceRecord{std::string_view(from, static_cast<size_t>(to - from)), RecordOrigin{0, line_}});
    }
  };
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) break;
    emit(p, nl);
    p = nl + 1;
  }
  if (eof_ && p < end) {  // a last line without a newline
    emit(p, end);
    p = end;
  }
  begin_ = static_cast<size_t>(p - data);
  batch->end_of_input = eof_ && begin_ == end_;
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
