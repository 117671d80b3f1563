#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tally {

// An output file that appears complete or not at all: it is written to a
// temporary file beside `path` and renamed over `path` by Commit. Destroyed
// without Commit (a failed run), it removes the temporary file, so no partial
// output is ever presented as complete. The path "-" writes to standard output
// directly (nothing to rename).
class AtomicOutputFile {
 public:
  // Fails, naming the path, if the file cannot be created.
  static absl::StatusOr<std::unique_ptr<AtomicOutputFile>> Create(const std::string& path);
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  absl::Status Append(std::string_view data);
  // Flushes, syncs and renames into place. Nothing may be appended after.
  absl::Status Commit();

  const std::string& path() const { return path_; }

  // Use Create.
  AtomicOutputFile(std::string path, std::string temp_path, std::FILE* file);

 private:
  absl::Status WriteError();

  std::string path_;
  std::string temp_path_;  // empty for standard output
  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;
  bool committed_ = false;
};

}  // namespace tally
