#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace tally {

// How long the trigger loop waits between triggers while it catches up.
//
// Every trigger writes every row that changed since the last one and commits
// a transaction; during a catch-up a row still open is written again at each
// trigger, and so is its changelog record. So while the source is behind, the
// interval doubles at each trigger, from --trigger up to a cap: 4 times
// --trigger but not past 30 s (never below --trigger itself). The early
// trigger on closed rows, which bounds the memory those rows hold, grows by
// the same factor (at most 4 times its bound). Once the source is no longer
// behind, both are back to their base at once.
//
// Why 4: on a 5M-record catch-up from Kafka into Cassandra (5 s trigger),
// factor 4 took 37 triggers down to 12 for about 10 MiB more peak memory;
// factor 8 saved two more triggers for 200 MiB more (what waits for a
// trigger, staged changelog records among it, grows with its records).
//
// "Behind" means more records wait in the source than were read since the
// last trigger: over an interval's worth behind, not just the records that
// arrived since the last fetch of a live stream.
//
// Pure: no clock, no I/O. Not thread-safe.
class AdaptiveTrigger {
 public:
  static constexpr int kMaxFactor = 4;
  static constexpr absl::Duration kMaxInterval = absl::Seconds(30);

  explicit AdaptiveTrigger(absl::Duration base);

  // Whether a source with `lag` records waiting (-1: unknown) is behind,
  // `read_since_last_trigger` records having been read since the last trigger.
  static bool Lagging(int64_t lag, int64_t read_since_last_trigger);

  // After a trigger: the interval until the next one.
  absl::Duration AfterTrigger(bool lagging);
  // Caught up (a poll found nothing to read): back to the base at once.
  void Reset();

  absl::Duration interval() const { return interval_; }
  absl::Duration base() const { return base_; }
  // What the memory bounds of pending work are multiplied by: 1 at the base,
  // up to kMaxFactor.
  int factor() const { return factor_; }

 private:
  absl::Duration base_;
  absl::Duration cap_;
  absl::Duration interval_;
  int factor_ = 1;
};

}  // namespace tally
