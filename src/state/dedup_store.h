#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "core/event_time.h"
#include "core/uuid.h"

namespace tally {

// Remembers the EventUUIDs of counted records, each with its event time, for as
// long as the watermark needs them. An entry is *live* while its event time is
// >= the current watermark W and *expired* after; an expired entry behaves
// exactly as if it were absent, so implementations may drop it at any time.
// This is what bounds dedup state by the lateness instead of the stream length.
//
// One store per task (input partition). Not thread-safe.
class DedupStore {
 public:
  virtual ~DedupStore() = default;

  // If a live entry for `id` exists (its time >= watermark), returns false and
  // changes nothing: the record is a duplicate. Otherwise records
  // (id, event_time), replacing any expired entry for `id`, and returns true.
  // `watermark` never decreases from one call to the next.
  virtual bool RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) = 0;

  // A hint that RecordIfNew(id, ...) follows soon: start fetching the memory it
  // will touch. Changes nothing.
  virtual void Prefetch(const Uuid& id) const { (void)id; }

  // A hint that about `entries` more entries follow at once (a restore): the
  // store may size itself for them now rather than grow step by step.
  // Changes no answer.
  virtual void Reserve(size_t entries) { (void)entries; }

  // Drops every entry expired at `watermark` now.
  virtual void Purge(Micros watermark) = 0;

  // Entries held, live or expired but not yet dropped.
  virtual size_t size() const = 0;

  // Bytes of memory the store holds for its entries.
  virtual size_t MemoryBytes() const = 0;

  // Not OK once the store failed in a way that calls for the job to stop (a
  // store that spills to disk found the disk full); verdicts stay right
  // meanwhile. Checked by the runtime after each batch.
  virtual absl::Status status() const { return absl::OkStatus(); }
};

}  // namespace tally
