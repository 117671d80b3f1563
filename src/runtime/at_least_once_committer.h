#pragma once

#include "runtime/committer.h"
#include "sink/dead_letter_sink.h"
#include "source/source.h"

namespace tally {

// At least once: dead letters go to their sink as they come (after every
// poll), and a commit flushes them, then commits the source's position. A
// crash between a trigger's rows and its commit reads the records again:
// their rows are rewritten with the same counts, their dead letters may be
// written twice. The trigger loop's committer unless it is given another.
class AtLeastOnceCommitter final : public Committer {
 public:
  AtLeastOnceCommitter(Source& source, DeadLetterSink& dead_letters) : source_(source), dead_letters_(dead_letters) {}

  bool carries_dead_letters() const override { return false; }

  absl::Status Commit(TaskSet& tasks) override {
    if (auto s = dead_letters_.Flush(); !s.ok()) return s;
    tasks.ForEach([](Task& task) { task.staged = false; });
    return source_.Commit();
  }

 private:
  Source& source_;
  DeadLetterSink& dead_letters_;
};

}  // namespace tally
