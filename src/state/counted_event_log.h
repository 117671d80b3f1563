#pragma once

#include "core/event_time.h"
#include "core/uuid.h"

namespace tally {

// One counted event as durable state keeps it: its dedup entry (id, time) and
// the learner whose row it was counted into. That is all the state a task
// needs: the dedup store is the live entries, and the count of an open row
// (user, day) is the number of counted events of that learner and day.
struct CountedEvent {
  Uuid id;
  Uuid user;
  Micros time = 0;
};

// Where a processor reports each record it counts, so that durable state can
// log it (Kafka Streams' change logging, one level up: the log is of the
// events both stores took, not of each store's changes, since the window
// counts follow from the events). Not thread-safe.
class CountedEventLog {
 public:
  virtual ~CountedEventLog() = default;

  // Called once for every counted record, after the dedup store recorded it
  // and its row was incremented; for nothing else.
  virtual void Append(const CountedEvent& event) = 0;
};

}  // namespace tally
