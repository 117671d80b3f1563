#pragma once

#include <string>
#include <vector>

#include "sink/atomic_output_file.h"

namespace tally {

// The output files of one run (the csv table, the dead letters, the summary),
// which appear together or not at all: each file's Commit only prepares it
// (flushed, synced, closed under its temporary name), and Publish, once every
// file is prepared, renames them all into place. A run that fails before
// Publish (one output cannot be written: a full disk) leaves every previous
// output as it was.
//
// The window that remains: the renames are one system call per file, not one
// atomic step. A crash between two of them (or a rename that fails after
// another succeeded, which needs the directory itself to change under the
// run) leaves some outputs new and some old. Streams (see AtomicOutputFile)
// are outside the promise: they are written as the run goes.
//
// The set neither owns nor closes its files: whoever owns them (the sinks)
// must keep every one alive until Publish. A run that fails destroys them
// (which removes their temporary files) and never calls Publish.
class OutputFileSet {
 public:
  // A file of this set (see AtomicOutputFile::Create).
  absl::StatusOr<std::unique_ptr<AtomicOutputFile>> Create(const std::string& path);

  // Renames every file into place, if every one has been committed; else
  // renames none and fails.
  absl::Status Publish();

  bool empty() const { return files_.empty(); }

 private:
  std::vector<AtomicOutputFile*> files_;
};

}  // namespace tally
