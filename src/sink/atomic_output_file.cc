#include "sink/atomic_output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {
constexpr size_t kBufferBytes = 1 << 20;
}

absl::StatusOr<std::unique_ptr<AtomicOutputFile>> AtomicOutputFile::Create(const std::string& path) {
  if (path == "-") return std::make_unique<AtomicOutputFile>(path, "", stdout);
  if (path.empty()) return absl::InvalidArgumentError("an output path is empty");
  // Renaming over a directory would fail only at Commit, after other outputs
  // may already be in place: refuse it now.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": it is a directory"));
  }
  const std::string temp = absl::StrCat(path, ".tmp-", ::getpid());
  std::FILE* f = std::fopen(temp.c_str(), "wbxe");  // x: never clobber; e: O_CLOEXEC
  if (f == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return std::make_unique<AtomicOutputFile>(path, temp, f);
}

AtomicOutputFile::AtomicOutputFile(std::string path, std::string temp_path, std::FILE* file)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), file_(file) {
  if (!temp_path_.empty()) {
    buffer_ = std::make_unique<char[]>(kBufferBytes);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferBytes);
  }
}

AtomicOutputFile::~AtomicOutputFile() {
  if (committed_ || temp_path_.empty()) return;
  std::fclose(file_);
  std::remove(temp_path_.c_str());
}

absl::Status AtomicOutputFile::WriteError() {
  return absl::DataLossError(absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
}

absl::Status AtomicOutputFile::Append(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) return WriteError();
  return absl::OkStatus();
}

absl::Status AtomicOutputFile::Commit() {
  if (temp_path_.empty()) {
    committed_ = true;
    return std::fflush(file_) == 0 ? absl::OkStatus() : WriteError();
  }
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) return WriteError();
  committed_ = true;
  if (std::fclose(file_) != 0) {
    std::remove(temp_path_.c_str());
    return WriteError();
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    absl::Status s = WriteError();
    std::remove(temp_path_.c_str());
    return s;
  }
  return absl::OkStatus();
}

}  // namespace tally
