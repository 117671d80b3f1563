#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/daily_count_processor.h"

namespace tally {

// Where the daily counts go. A runtime calls Write once per trigger, in order,
// then Commit once after the last trigger of a run that completed. A sink
// destroyed without Commit must not present its output as complete.
// Not thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;

  // Writes one trigger's rows (update mode: output.updates holds every row that
  // changed since the previous trigger). `batch_id` counts triggers from 0.
  virtual absl::Status Write(int64_t batch_id, const TriggerOutput& output) = 0;

  virtual absl::Status Commit() = 0;

  // How a person names this sink, e.g. "csv:counts.csv".
  virtual std::string Describe() const = 0;
};

}  // namespace tally
