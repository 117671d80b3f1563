#pragma once

#include "absl/status/status.h"
#include "runtime/task_set.h"

namespace tally {

// Makes durable what a trigger staged in its tasks (input positions, dead
// letters, state changes), once the sink has acknowledged the trigger's rows.
// An exactly-once committer does it in one transaction with the input
// offsets (kafka/transactional_committer.h); the at-least-once one flushes
// the dead letters and commits the source (runtime/at_least_once_committer.h).
class Committer {
 public:
  virtual ~Committer() = default;

  // True if dead letters are part of the commit: the loop then stages them
  // with the trigger instead of handing them to the dead-letter sink as they
  // come.
  virtual bool carries_dead_letters() const = 0;

  // Commits what every task with `staged` set staged, and clears it.
  // Aborted: nothing of this commit is durable, and the state in memory is
  // ahead of what is; the loop drops its tasks, reopens them from their last
  // commit and rewinds the source to it. Another error is fatal.
  virtual absl::Status Commit(TaskSet& tasks) = 0;
};

}  // namespace tally
