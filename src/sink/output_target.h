#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace tally {

// What an output path names, as AtomicOutputFile treats it: a file that is
// replaced whole (through a temporary file and a rename), or a stream that is
// written as it goes.
struct OutputTarget {
  // Written directly: "-", a FIFO, a character device, or standard output or
  // standard error under another name.
  bool stream = false;
  // For a stream that is standard output (1) or standard error (2): written
  // through that descriptor, whatever name it was given. Else -1.
  int standard_fd = -1;
  // For a file: the file replaced, with symbolic links followed (a link stays
  // a link; what it leads to gets the content), absolute and normalised.
  std::string file;
  // For an existing file (or an input): its identity.
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
};

// Fails, naming the path, for what can be neither replaced nor streamed to: a
// directory, a socket, a block device.
absl::StatusOr<OutputTarget> ResolveOutputTarget(const std::string& path);

// What standard input is, for comparing it with the outputs (a file redirected
// to it has an identity; a pipe or a terminal is a stream).
OutputTarget StandardInputTarget();

// Whether writing one would destroy the other: both are files (not streams)
// and either the same inode or the same path once links are followed. Streams
// (/dev/null, a terminal, a FIFO) may be shared: their writes interleave.
bool SameFile(const OutputTarget& a, const OutputTarget& b);

}  // namespace tally
