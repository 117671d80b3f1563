#pragma once

#include <cstdio>
#include <string>

#include "sink/sink.h"

namespace tally {

// Prints each trigger's changed rows as a table, the way Spark's console sink
// prints a micro-batch: a "Batch: N" banner, then the rows sorted by learner
// and day, at most `max_rows` of them (UUIDs are never truncated). Triggers
// that changed nothing print nothing.
class ConsoleSink final : public Sink {
 public:
  explicit ConsoleSink(std::FILE* out = stdout, size_t max_rows = 20) : out_(out), max_rows_(max_rows) {}

  absl::Status Write(int64_t batch_id, const TriggerOutput& output) override;
  absl::Status Commit() override;
  std::string Describe() const override { return "console"; }

 private:
  std::FILE* out_;
  size_t max_rows_;
};

}  // namespace tally
