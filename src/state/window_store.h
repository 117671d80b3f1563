#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/daily_count.h"

namespace tally {

// The per-learner daily counts of one task: one row per (user, day) with at
// least one counted event, plus which rows changed since they were last taken.
// Rows of closed days leave the store through EvictClosed once they are
// written, which bounds it by the lateness, not by the stream's length.
//
// One store per task (input partition). Not thread-safe.
class WindowStore {
 public:
  virtual ~WindowStore() = default;

  // Adds one to the count of (user, day), creating the row at 1; marks it changed.
  virtual void Increment(const Uuid& user, Day day) = 0;

  // A hint that Increment(user, day) follows soon. Changes nothing.
  virtual void Prefetch(const Uuid& user, Day day) const {
    (void)user;
    (void)day;
  }

  // Adds `n` to the count of (user, day), creating the row, without marking
  // it changed: state restored from durable state, its rows already written.
  // A restore calls it once per counted event, so it must be about as cheap
  // as Increment (Prefetch applies to it too).
  virtual void AddRestored(const Uuid& user, Day day, int64_t n) = 0;

  // Appends every row changed since the previous call, with its current count,
  // and clears the marks.
  virtual void TakeChanged(std::vector<DailyCount>* out) = 0;

  // Removes every row of a day before `first_open_day`, appending each with its
  // final count. Call TakeChanged first: rows are evicted changed or not.
  virtual void EvictClosed(Day first_open_day, std::vector<DailyCount>* out) = 0;

  // How many rows belong to days before `first_open_day` (awaiting eviction).
  virtual size_t ClosedRows(Day first_open_day) const = 0;

  virtual size_t size() const = 0;
  virtual size_t MemoryBytes() const = 0;
};

}  // namespace tally
