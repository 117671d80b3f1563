#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tally {

// What a state dir belongs to. A dir made for one job is refused to another:
// its state would be wrong for it.
struct StateDirIdentity {
  std::string topic;  // the input topic
  std::string group;  // the consumer group
};

// The directory under --state-dir that holds one process's task state:
//
//   DIR/tally-state.json   {"format": 2, "topic": "...", "group": "...", "instance": "..."}
//   DIR/LOCK               flock()ed while a process uses the dir
//   DIR/partition-N/       the local store of the task of input partition N
//
// The identity file is written by Bind, once the job has committed for the
// first time, and checked on every later open: a start that failed (a topic
// misspelt, a usage error found after the dir was made) leaves the dir free
// for the corrected run. `instance` is a random id (32 hex digits) made by
// the open that found no identity file: it names this dir's process to Kafka
// (its transactional.id), so a restart on a bound dir fences its own previous
// incarnation at once. (Before the first commit there is nothing to fence:
// offsets go with the group's generation, which fences a stale member.)
//
// Thread-compatible. The lock is released when the object is destroyed.
class StateDir {
 public:
  // The version of the on-disk layout and encodings; a dir of another
  // version is refused. 2: the changelog holds counted events, no window
  // rows (state_codec.h).
  static constexpr int kFormatVersion = 2;

  // Opens `path`, creating it (and parents) if missing. Fails, before
  // anything is written to a dir it refuses, with a message naming the path,
  // what is wrong and what to do:
  //   - FailedPrecondition: the dir belongs to another topic or group, or to
  //     another format version ("... delete it to rebuild the state from the
  //     changelog, or give this job its own --state-dir"); or another process
  //     holds its lock; or its identity file is unreadable.
  //   - PermissionDenied: the dir cannot be created or written.
  static absl::StatusOr<std::unique_ptr<StateDir>> Open(const std::string& path, const StateDirIdentity& identity);

  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  // Records the identity (topic, group, instance) in the dir, if not yet
  // there; from then on the dir is refused to any other job. Idempotent.
  // Fails, naming the path, if the file cannot be written.
  absl::Status Bind();
  bool bound() const { return bound_; }

  const std::string& path() const { return path_; }
  const std::string& instance_id() const { return instance_id_; }
  // DIR/partition-N; not created here (the local store creates it).
  std::string TaskPath(int32_t partition) const;

 private:
  StateDir(std::string path, std::string instance_id, int lock_fd)
      : path_(std::move(path)), instance_id_(std::move(instance_id)), lock_fd_(lock_fd) {}

  std::string path_;
  StateDirIdentity identity_;
  std::string instance_id_;
  bool bound_ = false;
  int lock_fd_ = -1;
};

}  // namespace tally
