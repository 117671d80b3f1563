#pragma once

#include <cstdint>
#include <limits>

#include "core/event_time.h"

namespace tally {

// The event-time watermark of one input partition: W = max_seen - lateness,
// where max_seen is the greatest event time among the valid records seen so far.
// Before the first valid record there is no watermark and nothing is late.
//
// Every valid record advances max_seen, whether it is counted, late or a
// duplicate; invalid records do not. W never decreases.
class Watermark {
 public:
  // The value of W before any valid record: below every event time.
  static constexpr Micros kNone = std::numeric_limits<Micros>::min();

  explicit Watermark(Micros lateness) : lateness_(lateness) {}

  // W, or kNone before the first valid record.
  Micros value() const { return value_; }
  bool has_value() const { return value_ != kNone; }
  Micros max_seen() const { return max_seen_; }
  Micros lateness() const { return lateness_; }

  // True if an event at time t is late: t < W. (t == W is not late.)
  bool IsLate(Micros t) const { return t < value_; }

  // The first day that can still change: day d is closed once W >= start of d+1.
  // Meaningless before the first valid record.
  Day FirstOpenDay() const { return DayOf(value_); }

  // Folds a valid record's event time into max_seen.
  void Observe(Micros t) {
    if (value_ == kNone || t > max_seen_) {
      max_seen_ = t;
      value_ = t - lateness_;
    }
  }

  // Restores a previously observed state (max_seen); used by state recovery.
  void Restore(Micros max_seen) {
    max_seen_ = max_seen;
    value_ = max_seen - lateness_;
  }

 private:
  Micros lateness_;
  Micros max_seen_ = kNone;
  Micros value_ = kNone;
};

}  // namespace tally
