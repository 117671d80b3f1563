#pragma once

#include <span>
#include <string>

#include "absl/status/status.h"
#include "sink/dead_letter_sink.h"
#include "sink/sink.h"

namespace tally {

// Sinks that take everything and keep nothing, for tests of the trigger loop
// that look at its triggers, not at its output.
class NullSink final : public Sink {
 public:
  absl::Status Write(int64_t, const TriggerOutput&) override { return absl::OkStatus(); }
  absl::Status Commit() override { return absl::OkStatus(); }
  std::string Describe() const override { return "null"; }
};

class NullDeadLetterSink final : public DeadLetterSink {
 public:
  absl::Status Write(std::span<const DeadLetter>) override { return absl::OkStatus(); }
  absl::Status Commit() override { return absl::OkStatus(); }
  std::string Describe() const override { return "null"; }
};

}  // namespace tally
