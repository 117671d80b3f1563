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
  virtual absl::Status Write(std::span<const DeadLetter> letters) = 0;
  virtual absl::Status Commit() = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace tally
