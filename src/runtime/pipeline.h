#pragma once

#include <atomic>
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

// What a running pipeline reports every `progress_interval`.
struct PipelineProgress {
  RecordCounts counts;          // over the whole run so far
  int64_t triggers = 0;
  int64_t rows_written = 0;     // row updates acknowledged by the sink
  int64_t dead_letters = 0;
  int64_t lag = -1;             // records in the source not yet read; -1 unknown
  Micros watermark = Watermark::kNone;  // the lowest of the tasks' watermarks
};

struct PipelineOptions {
  ProcessorOptions processor;
  // Processing time between triggers (micro-batches), from the end of one to
  // the start of the next. Zero: after every poll.
  absl::Duration trigger_interval = absl::Seconds(5);
  // A trigger also fires early once this many rows of closed days wait to be
  // written, so a backlog read faster than the interval keeps memory bounded.
  size_t max_closed_rows_pending = 1 << 16;
  // Longest a poll may wait for records (it returns sooner when some arrive).
  absl::Duration max_poll_wait = absl::Milliseconds(200);
  // Set (by a signal handler, say) to stop: the loop finishes the batch in
  // hand, runs a last trigger, commits and returns. May be null.
  const std::atomic<bool>* stop = nullptr;
  // Called every `progress_interval` of processing time, if set.
  std::function<void(const PipelineProgress&)> on_progress;
  absl::Duration progress_interval = absl::Seconds(5);
};

struct PipelineResult {
  RecordCounts counts;
  int64_t triggers = 0;      // triggers that ran, empty ones included
  int64_t rows_written = 0;  // row updates handed to the sink, over all triggers
  int64_t dead_letters = 0;
  size_t peak_dedup_entries = 0;
  size_t peak_state_bytes = 0;
  bool stopped = false;      // ended by `stop`, not by the end of the input
};

// The trigger loop: polls the source, hands each record to the task of its
// partition, passes dead letters on after every poll, and every
// `trigger_interval` of processing time runs a trigger:
//   1. each task's changed rows go to the sink, which returns once they are
//      durable (written and acknowledged);
//   2. the dead-letter sink is flushed (every letter so far acknowledged);
//   3. the source commits the position after every record read so far.
// So a committed position never covers an effect that could still be lost.
// The same happens before partitions are revoked, and at the end: when a
// bounded source ends or `stop` is set, a last trigger runs; if the state dies
// with the run (the store provider is not durable) it finalizes every row.
// The loop does not Commit the sinks: the caller does, once it has decided the
// run succeeded.
//
// Returns the first error of the source, the sinks or the stores; the caller
// must then treat all output as incomplete.
absl::StatusOr<PipelineResult> RunPipeline(Source& source, Sink& sink, DeadLetterSink& dead_letters,
                                           StoreProvider& stores, const PipelineOptions& options, Clock& clock);

}  // namespace tally
