#pragma once

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tally {

// An output file that appears complete or not at all: it is written to a
// temporary file beside its target (PATH.tmp-PID, see temporary_files.h) and
// renamed over the target by Commit. Destroyed without Commit (a failed or
// stopped run), it removes the temporary file, so no partial output is ever
// presented as complete.
//
// The target of a symbolic link is the file the link leads to: it is replaced
// and the link stays. What cannot be replaced by a rename is written directly,
// as a stream (no atomicity: what was written stays written): the path "-"
// (standard output), a FIFO, a character device (/dev/null, a terminal), and
// standard output or standard error under any name (/dev/stdout, a link to
// the file the shell redirected to). Anything else that is not a regular file
// (a directory, a socket, a block device) is refused at Create.
//
// A file created by an OutputFileSet is not renamed by its Commit: the set
// renames all its files together (see output_file_set.h).
class AtomicOutputFile {
 public:
  // Fails, naming the path, if the file cannot be created. A file created
  // `deferred` is renamed by OutputFileSet::Publish, not by its Commit.
  static absl::StatusOr<std::unique_ptr<AtomicOutputFile>> Create(const std::string& path, bool deferred = false);
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  absl::Status Append(std::string_view data);
  // Flushes; for a file written through a temporary file, syncs and closes it
  // and, unless it is deferred, renames it into place. Nothing may be
  // appended after.
  absl::Status Commit();

  // The path as given.
  const std::string& path() const { return path_; }
  // Written directly (a stream), not through a temporary file.
  bool streaming() const { return temp_path_.empty(); }

  // Use Create. `target` is the file to replace and `temp_path` the file
  // written, or both empty for a stream; `owns_file`: close `file` when done.
  AtomicOutputFile(std::string path, std::string target, std::string temp_path, std::FILE* file, bool owns_file,
                   bool deferred);

 private:
  friend class OutputFileSet;
  enum class State { kOpen, kPrepared, kDone };

  absl::Status WriteError(int err);
  absl::Status Close();
  // Renames a prepared file into place.
  absl::Status Publish();
  bool prepared() const { return state_ == State::kPrepared || (state_ == State::kDone && streaming()); }

  std::string path_;
  std::string target_;
  std::string temp_path_;  // empty for a stream
  std::FILE* file_;
  bool owns_file_;
  bool deferred_;
  int temp_slot_ = -1;  // see RememberTemporaryFile
  std::unique_ptr<char[]> buffer_;
  State state_ = State::kOpen;
};

}  // namespace tally
