#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/daily_count_processor.h"
#include "runtime/clock.h"
#include "runtime/committer.h"
#include "runtime/metrics.h"
#include "sink/dead_letter_sink.h"
#include "sink/sink.h"
#include "source/source.h"
#include "state/store_provider.h"

namespace tally {

// What a running pipeline reports every `progress_interval`.
struct PipelineProgress {
  RecordCounts counts;          // as PipelineResult::counts
  int64_t records_read = 0;     // by this run so far
  int64_t triggers = 0;
  int64_t rows_written = 0;     // row updates acknowledged by the sink
  int64_t dead_letters = 0;
  int64_t lag = -1;             // records in the source not yet read; -1 unknown
  Micros watermark = Watermark::kNone;  // the lowest of the tasks' watermarks
  // Set while the sink is unreachable: what failed, since when, and that the
  // loop has stopped reading and retries.
  std::string outage;
};

struct PipelineOptions {
  ProcessorOptions processor;
  // Processing time between triggers (micro-batches), from the end of one to
  // the start of the next. Zero: after every poll.
  absl::Duration trigger_interval = absl::Seconds(5);
  // A trigger also fires early once this many rows of closed days wait to be
  // written, so a backlog read faster than the interval keeps memory bounded.
  size_t max_closed_rows_pending = 1 << 16;
  // ... and once the dead letters waiting for the next commit hold this many
  // bytes (their records, details and bookkeeping), when the committer
  // carries them (exactly once); otherwise they leave after every poll.
  // Together with the source's batch bound, this bounds dead letters in memory.
  size_t max_dead_letter_bytes_pending = size_t{16} << 20;
  // Longest a poll may wait for records (it returns sooner when some arrive).
  absl::Duration max_poll_wait = absl::Milliseconds(200);
  // Set (by a signal handler, say) to stop: the loop finishes the batch in
  // hand, runs a last trigger, commits and returns. May be null.
  const std::atomic<bool>* stop = nullptr;
  // Called every `progress_interval` of processing time, if set.
  std::function<void(const PipelineProgress&)> on_progress;
  absl::Duration progress_interval = absl::Seconds(5);
  // What makes a trigger's dead letters, state and positions durable. Null:
  // an AtLeastOnceCommitter (dead letters flushed, then the source commits).
  Committer* committer = nullptr;
  // While the sink is unreachable, the loop retries a trigger's writes after
  // a backoff that doubles from the first to the second of these.
  absl::Duration outage_backoff_min = absl::Seconds(1);
  absl::Duration outage_backoff_max = absl::Seconds(10);
  // Where the loop publishes its figures (--http), once per trigger and as
  // tasks open and close; null: nowhere.
  Metrics* metrics = nullptr;
};

struct PipelineResult {
  // What happened to the records: of this run with state that dies with it;
  // with durable state, the totals the state holds (every record the job
  // has taken, over all its runs, each once).
  RecordCounts counts;
  int64_t records_read = 0;  // by this run, records read again after an abort included
  int64_t triggers = 0;      // triggers that ran, empty ones included
  int64_t rows_written = 0;  // row updates handed to the sink, over all triggers
  int64_t dead_letters = 0;
  size_t peak_dedup_entries = 0;
  size_t peak_state_bytes = 0;
  bool stopped = false;      // ended by `stop`, not by the end of the input
};

// The trigger loop: polls the source, hands each record to the task of its
// partition, and every `trigger_interval` of processing time runs a trigger:
//   1. each task's changed rows are taken, and what its commit will carry is
//      staged (its position; with a committer, its dead letters and state
//      changes);
//   2. the rows go to the sink, which returns once they are durable (written
//      and acknowledged). While the sink is unreachable, the loop stops
//      reading, keeps the source alive, reports the outage and retries;
//   3. the committer commits what was staged (by default at least once: dead
//      letters, passed on after every poll, are flushed, and the source
//      commits; see runtime/at_least_once_committer.h).
// So a committed position never covers an effect that could still be lost.
// If the commit aborts, the tasks are reopened from their last commit and
// the source rewound to it: the work is redone, and rows already written are
// written again with the same counts.
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
