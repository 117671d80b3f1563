#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/daily_count_processor.h"
#include "runtime/clock.h"
#include "sink/dead_letter_sink.h"
#include "sink/sink.h"
#include "source/source.h"
#include "state/store_provider.h"

namespace tally {

struct PipelineOptions {
  ProcessorOptions processor;
  // Processing time between triggers (micro-batches). Zero: after every poll.
  absl::Duration trigger_interval = absl::Seconds(5);
  // A trigger also fires early once this many rows of closed days wait to be
  // written, so a backlog read faster than the interval keeps memory bounded.
  size_t max_closed_rows_pending = 1 << 16;
  // Longest a poll may wait for records (it returns sooner when some arrive).
  absl::Duration max_poll_wait = absl::Milliseconds(200);
};

struct PipelineResult {
  RecordCounts counts;
  int64_t triggers = 0;      // triggers that ran, empty ones included
  int64_t rows_written = 0;  // row updates handed to the sink, over all triggers
  int64_t dead_letters = 0;
  size_t peak_dedup_entries = 0;
  size_t peak_state_bytes = 0;
};

// The trigger loop: polls the source, hands each record to the task of its
// partition, passes dead letters on after every poll, and every
// `trigger_interval` of processing time hands the changed rows to the sink. It
// runs until the source ends, then runs a last trigger, which also finalizes
// every row (no record can change them any more). It does not Commit the
// sinks: the caller does, once it has decided the run succeeded.
//
// Returns the first error of the source, the sinks or the stores; the caller
// must then treat all output as incomplete.
absl::StatusOr<PipelineResult> RunPipeline(Source& source, Sink& sink, DeadLetterSink& dead_letters,
                                           StoreProvider& stores, const PipelineOptions& options, Clock& clock);

}  // namespace tally
