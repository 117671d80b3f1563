#pragma once

#include <span>
#include <string>

#include "absl/status/status.h"
#include "core/dead_letter.h"

namespace tally {

// Where invalid and late records go, with their original bytes, reason and
// origin. Same lifecycle as Sink: Write in order, Commit once at the end.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // Hands letters over; they may still be in flight when it returns.
  virtual absl::Status Write(std::span<const DeadLetter> letters) = 0;
  // Returns once every letter written so far is durable (acknowledged), or an
  // error. The runtime calls it at each trigger before it commits the source.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  virtual absl::Status Commit() = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace tally
