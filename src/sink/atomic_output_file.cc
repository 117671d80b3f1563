#include "sink/atomic_output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "sink/output_target.h"
#include "sink/temporary_files.h"

namespace tally {
namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

absl::StatusOr<std::unique_ptr<AtomicOutputFile>> AtomicOutputFile::Create(const std::string& path,
                                                                          bool deferred) {
  auto target = ResolveOutputTarget(path);
  if (!target.ok()) return target.status();
  std::unique_ptr<AtomicOutputFile> file;
  if (target->standard_fd == STDOUT_FILENO) {
    file = std::make_unique<AtomicOutputFile>(path, "", "", stdout, false, deferred);
  } else if (target->standard_fd == STDERR_FILENO) {
    file = std::make_unique<AtomicOutputFile>(path, "", "", stderr, false, deferred);
  } else if (target->stream) {
    // A FIFO blocks here until a reader opens it, as a shell redirection does.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    std::FILE* f = fd < 0 ? nullptr : ::fdopen(fd, "wb");
    if (f == nullptr) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
    }
    file = std::make_unique<AtomicOutputFile>(path, "", "", f, true, deferred);
  } else {
    RemoveStaleTemporaryFiles(target->file);
    std::string temp = TemporaryFileName(target->file);
    std::FILE* f = std::fopen(temp.c_str(), "wbxe");  // x: never clobber; e: O_CLOEXEC
    if (f == nullptr) {
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    }
    file = std::make_unique<AtomicOutputFile>(path, target->file, std::move(temp), f, true, deferred);
  }
  return file;
}

AtomicOutputFile::AtomicOutputFile(std::string path, std::string target, std::string temp_path, std::FILE* file,
                                   bool owns_file, bool deferred)
    : path_(std::move(path)),
      target_(std::move(target)),
      temp_path_(std::move(temp_path)),
      file_(file),
      owns_file_(owns_file),
      deferred_(deferred) {
  if (!temp_path_.empty()) {
    temp_slot_ = RememberTemporaryFile(temp_path_);
    buffer_ = std::make_unique<char[]>(kBufferBytes);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferBytes);
  }
}

AtomicOutputFile::~AtomicOutputFile() {
  if (file_ != nullptr && owns_file_) std::fclose(file_);
  if (!temp_path_.empty() && state_ != State::kDone) std::remove(temp_path_.c_str());
  ForgetTemporaryFile(temp_slot_);
}

absl::Status AtomicOutputFile::WriteError(int err) {
  return absl::DataLossError(absl::StrCat("cannot write ", path_, ": ", std::strerror(err)));
}

absl::Status AtomicOutputFile::Append(std::string_view data) {
  if (state_ != State::kOpen) return absl::FailedPreconditionError(absl::StrCat(path_, ": appended after commit"));
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) return WriteError(errno);
  // A stream is read as it goes (a FIFO, a terminal): hand each piece over,
  // and learn of a full device or a closed pipe now, not at the end.
  if (streaming() && std::fflush(file_) != 0) return WriteError(errno);
  return absl::OkStatus();
}

absl::Status AtomicOutputFile::Close() {
  std::FILE* f = file_;
  file_ = nullptr;
  if (owns_file_ && std::fclose(f) != 0) return WriteError(errno);
  return absl::OkStatus();
}

absl::Status AtomicOutputFile::Commit() {
  if (state_ != State::kOpen) return absl::FailedPreconditionError(absl::StrCat(path_, ": committed twice"));
  if (std::fflush(file_) != 0) return WriteError(errno);
  if (streaming()) {
    state_ = State::kDone;
    return Close();
  }
  if (::fsync(::fileno(file_)) != 0) return WriteError(errno);
  if (auto s = Close(); !s.ok()) return s;
  state_ = State::kPrepared;
  return deferred_ ? absl::OkStatus() : Publish();
}

absl::Status AtomicOutputFile::Publish() {
  if (streaming()) return absl::OkStatus();
  if (state_ != State::kPrepared) return absl::FailedPreconditionError(absl::StrCat(path_, ": not committed"));
  if (std::rename(temp_path_.c_str(), target_.c_str()) != 0) return WriteError(errno);
  state_ = State::kDone;
  ForgetTemporaryFile(temp_slot_);
  temp_slot_ = -1;
  return absl::OkStatus();
}

}  // namespace tally
