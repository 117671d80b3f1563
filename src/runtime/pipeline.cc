#include "runtime/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <optional>
#include <span>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/adaptive_trigger.h"
#include "runtime/at_least_once_committer.h"
#include "runtime/log.h"
#include "runtime/task_set.h"

namespace tally {
namespace {

class TriggerLoop final : public PartitionListener {
 public:
  TriggerLoop(Source& source, Sink& sink, DeadLetterSink& dead_letters, StoreProvider& stores,
              const PipelineOptions& options, Clock& clock)
      : source_(source),
        sink_(sink),
        dead_letters_(dead_letters),
        stores_(stores),
        options_(options),
        clock_(clock),
        at_least_once_(source, dead_letters),
        committer_(options.committer != nullptr ? *options.committer : at_least_once_),
        tasks_(stores, options.processor),
        adaptive_(options.trigger_interval) {
    if (options.metrics != nullptr) counts_published_.emplace(*options.metrics);
  }

  absl::StatusOr<PipelineResult> Run();

  // Kafka Streams' task life cycle, run from the poll loop: a task is
  // created (its state restored) when its partition is assigned, before its
  // first record; it is closed when the partition goes.
  absl::Status OnPartitionsRevoked(std::span<const int32_t> partitions, bool lost) override {
    if (stores_.durable()) {
      // Closed dirty, without a commit: the partitions are another member's
      // now (lost ones maybe for a while), so nothing may be committed for
      // them. Their work since the last commit is redone by the new owner,
      // from the committed offsets and the changelog; rows this process
      // wrote for it meanwhile carry counts the redo reaches again (a row's
      // write timestamp is its count, so no lower count can win).
      for (int32_t p : partitions) CloseTask(p, /*keep_counts=*/false);
      return absl::OkStatus();
    }
    // State that dies with the process: write what the tasks hold first (the
    // next owner starts from the committed offsets with empty state).
    if (lost || in_trigger_) {
      for (int32_t p : partitions) CloseTask(p);
      return absl::OkStatus();
    }
    if (auto s = Trigger(/*final=*/false); !s.ok()) return s;
    for (int32_t p : partitions) CloseTask(p);
    return absl::OkStatus();
  }

  absl::Status OnPartitionsAssigned(std::span<const int32_t> partitions) override {
    for (int32_t p : partitions) {
      // A task left from an earlier assignment is stale (the partition may
      // have been processed elsewhere since): start from the commit.
      CloseTask(p, /*keep_counts=*/!stores_.durable());
      if (auto task = tasks_.Get(p); !task.ok()) return task.status();
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Process(const RecordBatch& batch);
  absl::Status PassDeadLetters();
  // Stages, writes changed rows, commits. `final`: the run ends here; if
  // state dies with it, every row is finalized.
  absl::Status Trigger(bool final, bool end_of_input = false);
  // Writes output_ to the sink, riding out an outage.
  absl::Status WriteRows();
  absl::Status CommitStaged();
  // Drops every task and reopens it from its last commit; rewinds the source.
  absl::Status Revive();
  bool StopRequested() const {
    return options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed);
  }
  void ReportProgress(std::string outage = {});
  // Drops the task of `partition` (TaskSet::Remove), publishing its figures
  // first; its per-partition metrics go with it.
  void CloseTask(int32_t partition, bool keep_counts = true);
  // Publishes a task's counts and watermark (options_.metrics set).
  void PublishTask(Task& task);

  Source& source_;
  Sink& sink_;
  DeadLetterSink& dead_letters_;
  StoreProvider& stores_;
  const PipelineOptions& options_;
  Clock& clock_;
  AtLeastOnceCommitter at_least_once_;  // the committer unless options name one
  Committer& committer_;
  TaskSet tasks_;
  PipelineResult result_;
  TriggerOutput output_;
  bool in_trigger_ = false;  // while the sink writes a trigger's rows
  bool revived_ = false;     // set by Revive
  // Bytes of the dead letters processed since the last trigger that wait
  // in the tasks for it (only when the committer carries them).
  size_t dead_letter_bytes_pending_ = 0;
  // The trigger interval and closed-row bound, grown while the source is
  // behind (see runtime/adaptive_trigger.h).
  AdaptiveTrigger adaptive_;
  int64_t read_at_last_trigger_ = 0;
  std::optional<CountsPublisher> counts_published_;  // set with options_.metrics
  // The newest event time any task has seen, as of the last trigger (the
  // reference of the event-time skew metric).
  Micros newest_event_time_ = Watermark::kNone;
};

void TriggerLoop::PublishTask(Task& task) {
  const int32_t p = task.partition();
  if (!counts_published_->Known(p)) {
    // A task opened since the last publication: its restored counts are
    // earlier runs' work, not this process's.
    counts_published_->Opened(p, task.stores().resume ? task.stores().resume->counts : RecordCounts{});
  }
  counts_published_->Publish(p, task.processor().counts());
  const Watermark& w = task.processor().watermark();
  if (w.has_value()) {
    // Event-time skew: how far this task's stream time trails the most
    // advanced task's (a partition behind the others, or idle).
    const Micros newest = std::max(newest_event_time_, w.max_seen());
    options_.metrics->SetWatermark(p, static_cast<double>(w.value()) / 1e6,
                                   static_cast<double>(newest - w.max_seen()) / 1e6);
  }
}

void TriggerLoop::CloseTask(int32_t partition, bool keep_counts) {
  if (counts_published_) {
    if (auto task = tasks_.Find(partition)) PublishTask(*task);
    counts_published_->Closed(partition);
    options_.metrics->RemovePartition(partition);
  }
  tasks_.Remove(partition, keep_counts);
  if (options_.metrics != nullptr) options_.metrics->tasks_running().Set(static_cast<double>(tasks_.Partitions().size()));
}

// What a dead letter takes in memory, near enough to bound it.
size_t MemoryBytes(const DeadLetter& letter) {
  return sizeof(DeadLetter) + letter.bytes.capacity() + letter.detail.capacity();
}

absl::Status TriggerLoop::Process(const RecordBatch& batch) {
  // Hand each run of records of one partition to its task in one go.
  const std::span<const SourceRecord> records(batch.records);
  for (size_t begin = 0, end; begin < records.size(); begin = end) {
    const int32_t partition = records[begin].origin.partition;
    for (end = begin + 1; end < records.size() && records[end].origin.partition == partition; ++end) {
    }
    auto task = tasks_.Get(partition);
    if (!task.ok()) return task.status();
    const std::vector<DeadLetter>& letters = (*task)->processor().dead_letters();
    const size_t letters_before = letters.size();
    (*task)->processor().ProcessBatch(records.subspan(begin, end - begin), batch.padded);
    if (!(*task)->processor().error().ok()) return (*task)->processor().error();
    // A dedup store that spills to disk stops the job on a full disk.
    if (absl::Status s = (*task)->stores().dedup->status(); !s.ok()) return s;
    for (size_t i = letters_before; i < letters.size(); ++i) dead_letter_bytes_pending_ += MemoryBytes(letters[i]);
    (*task)->next_position = records[end - 1].origin.position + 1;
    (*task)->dirty = true;
  }
  result_.records_read += static_cast<int64_t>(records.size());
  if (committer_.carries_dead_letters()) return absl::OkStatus();
  dead_letter_bytes_pending_ = 0;
  return PassDeadLetters();
}

absl::Status TriggerLoop::PassDeadLetters() {
  absl::Status status;
  tasks_.ForEach([&](Task& task) {
    auto& letters = task.processor().dead_letters();
    if (letters.empty() || !status.ok()) return;
    status = dead_letters_.Write(letters);
    result_.dead_letters += static_cast<int64_t>(letters.size());
    letters.clear();
  });
  return status;
}

absl::Status TriggerLoop::Trigger(bool final, bool end_of_input) {
  // Durable state resumes on a restart, so even the end of a bounded input
  // finalizes nothing early (store_provider.h).
  const bool finalize_all = (end_of_input || final) && !stores_.durable();
  const bool carry_letters = committer_.carries_dead_letters();
  output_.clear();
  const auto started = std::chrono::steady_clock::now();
  size_t dedup_entries = 0, windows_entries = 0, dedup_bytes = 0, windows_bytes = 0, durable_bytes = 0;
  size_t task_count = 0;
  if (counts_published_) {
    tasks_.ForEach([&](Task& task) {
      const Watermark& w = task.processor().watermark();
      if (w.has_value()) newest_event_time_ = std::max(newest_event_time_, w.max_seen());
    });
  }
  tasks_.ForEach([&](Task& task) {
    // Past the last record, only entries that are not records (commit
    // markers): commit the position past them too.
    if (const int64_t end = source_.PositionAfterEnd(task.partition()); end > task.next_position) {
      task.next_position = end;
      task.dirty = true;
    }
    const size_t updates_before = output_.updates.size(), finalized_before = output_.finalized.size();
    task.processor().Trigger(&output_, finalize_all);
    dedup_entries += task.stores().dedup->size();
    windows_entries += task.stores().windows->size();
    dedup_bytes += task.stores().dedup->MemoryBytes();
    windows_bytes += task.stores().windows->MemoryBytes();
    if (task.durable() != nullptr) durable_bytes += task.durable()->MemoryBytes();
    ++task_count;
    if (counts_published_) PublishTask(task);
    if (!task.dirty && output_.updates.size() == updates_before && output_.finalized.size() == finalized_before) {
      return;  // nothing new to commit
    }
    task.dirty = false;
    task.staged = true;
    task.staged_position = task.next_position;
    if (carry_letters) {
      auto& letters = task.processor().dead_letters();
      result_.dead_letters += static_cast<int64_t>(letters.size());
      task.staged_letters.insert(task.staged_letters.end(), std::make_move_iterator(letters.begin()),
                                 std::make_move_iterator(letters.end()));
      letters.clear();
    }
    if (DurableTaskState* durable = task.durable()) {
      durable->Stage(task.processor().watermark(), task.processor().counts());
    }
  });
  dead_letter_bytes_pending_ = 0;  // staged: they leave with this trigger's commit
  result_.peak_dedup_entries = std::max(result_.peak_dedup_entries, dedup_entries);
  result_.peak_state_bytes = std::max(result_.peak_state_bytes, dedup_bytes + windows_bytes + durable_bytes);
  if (Metrics* m = options_.metrics) {
    m->state_entries_dedup().Set(static_cast<double>(dedup_entries));
    m->state_entries_windows().Set(static_cast<double>(windows_entries));
    m->state_bytes_dedup().Set(static_cast<double>(dedup_bytes));
    m->state_bytes_windows().Set(static_cast<double>(windows_bytes));
    m->tasks_running().Set(static_cast<double>(task_count));
    m->SetLags(source_);
  }

  // A rebalance while the sink writes (it idles the source through an
  // outage) closes the revoked tasks: the commit then carries the tasks
  // that stay, and only those.
  in_trigger_ = true;
  absl::Status written = WriteRows();
  in_trigger_ = false;
  if (!written.ok()) return written;
  absl::Status committed = CommitStaged();
  if (options_.metrics != nullptr) {
    options_.metrics->trigger_duration().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return committed;
}

// A sink failure worth waiting out: the server is down, unreachable,
// overloaded or timed out. Anything else (a refused statement, bad
// credentials) needs a person.
bool IsOutage(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsResourceExhausted(s) ||
         absl::IsAborted(s);
}

absl::Status TriggerLoop::WriteRows() {
  absl::Duration backoff = options_.outage_backoff_min;
  absl::Time outage_since;
  for (int attempt = 0;; ++attempt) {
    absl::Status s = sink_.Write(result_.triggers, output_);
    if (s.ok()) {
      if (attempt > 0 && options_.metrics != nullptr) options_.metrics->SetSinkOutage("");
      break;
    }
    if (!IsOutage(s)) return s;
    if (options_.metrics != nullptr) options_.metrics->SetSinkOutage(std::string(s.message()));
    if (StopRequested()) {
      return absl::UnavailableError(absl::StrCat(
          "stopped while the sink was unreachable; the last trigger was not committed and a restart redoes it (",
          s.message(), ")"));
    }
    if (attempt == 0) outage_since = clock_.Now();
    ReportProgress(absl::StrCat("OUTAGE since ",
                                absl::FormatTime("%H:%M:%S", outage_since, absl::UTCTimeZone()), " UTC, ",
                                absl::FormatDuration(std::max(absl::Seconds(1), absl::Trunc(clock_.Now() - outage_since, absl::Seconds(1)))),
                                ", input paused, retrying in ", absl::FormatDuration(backoff), ": ", s.message()));
    const absl::Time until = clock_.Now() + backoff;
    for (absl::Time now = clock_.Now(); now < until && !StopRequested(); now = clock_.Now()) {
      if (auto idle = source_.Idle(std::min(until - now, absl::Milliseconds(500))); !idle.ok()) return idle;
    }
    backoff = std::min(backoff * 2, options_.outage_backoff_max);
  }
  ++result_.triggers;
  result_.rows_written += static_cast<int64_t>(output_.updates.size());
  if (options_.metrics != nullptr) options_.metrics->rows_written().Increment(static_cast<double>(output_.updates.size()));
  return absl::OkStatus();
}

absl::Status TriggerLoop::CommitStaged() {
  const auto started = std::chrono::steady_clock::now();
  absl::Status s = committer_.Commit(tasks_);
  // The transactional committer times its own steps; the default one commits
  // the source's offsets.
  if (options_.metrics != nullptr && &committer_ == &at_least_once_) {
    options_.metrics->commit_duration(Metrics::kOffsets)
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (absl::IsAborted(s)) {
    LogLine("tally", absl::StrCat(s.message(), "; redoing the work since the last commit"));
    return Revive();
  }
  return s;
}

absl::Status TriggerLoop::Revive() {
  revived_ = true;
  dead_letter_bytes_pending_ = 0;  // dropped with the tasks
  const std::vector<int32_t> partitions = tasks_.Partitions();
  for (int32_t p : partitions) CloseTask(p, /*keep_counts=*/false);
  if (auto s = source_.Rewind(); !s.ok()) return s;
  for (int32_t p : partitions) {
    if (auto task = tasks_.Get(p); !task.ok()) return task.status();
  }
  return absl::OkStatus();
}

void TriggerLoop::ReportProgress(std::string outage) {
  if (!options_.on_progress) return;
  PipelineProgress p;
  p.counts = tasks_.TotalCounts();
  p.records_read = result_.records_read;
  p.triggers = result_.triggers;
  p.rows_written = result_.rows_written;
  p.dead_letters = result_.dead_letters;
  p.lag = source_.Lag();
  p.outage = std::move(outage);
  tasks_.ForEach([&](Task& task) {
    const Watermark& w = task.processor().watermark();
    if (w.has_value() && (p.watermark == Watermark::kNone || w.value() < p.watermark)) p.watermark = w.value();
  });
  options_.on_progress(p);
}

absl::StatusOr<PipelineResult> TriggerLoop::Run() {
  source_.SetPartitionListener(this);
  struct Unlisten {
    Source& source;
    Metrics* metrics;
    ~Unlisten() {
      source.SetPartitionListener(nullptr);
      if (metrics != nullptr) metrics->SetStarted(false);
    }
  } unlisten{source_, options_.metrics};
  if (options_.metrics != nullptr) options_.metrics->SetStarted(true);

  RecordBatch batch;
  absl::Time next_trigger = clock_.Now() + options_.trigger_interval;
  absl::Duration scheduled = options_.trigger_interval;  // what next_trigger was set for
  absl::Time next_progress = clock_.Now() + options_.progress_interval;
  for (;;) {
    if (auto s = source_.Poll(options_.max_poll_wait, &batch); !s.ok()) return s;
    if (auto s = Process(batch); !s.ok()) return s;
    const bool stop = StopRequested();
    if (batch.end_of_input || batch.end_of_run || stop) {
      revived_ = false;
      if (auto s = Trigger(/*final=*/true, batch.end_of_input); !s.ok()) return s;
      if (!revived_) {
        result_.stopped = stop && !batch.end_of_input && !batch.end_of_run;
        break;
      }
      continue;  // the last commit aborted: redo the work since the one before
    }
    // A backlog read faster than the trigger interval triggers early, so
    // what waits for a trigger stays bounded: rows of closed days, dead letters.
    bool backlog = dead_letter_bytes_pending_ >= options_.max_dead_letter_bytes_pending;
    const size_t max_closed_rows = options_.max_closed_rows_pending * static_cast<size_t>(adaptive_.factor());
    tasks_.ForEach([&](Task& task) { backlog |= task.processor().ClosedRowsPending() >= max_closed_rows; });
    absl::Time now = clock_.Now();
    if (batch.records.empty() && adaptive_.factor() > 1 && !AdaptiveTrigger::Lagging(source_.Lag(), 0)) {
      // Caught up (an empty poll can also be a consumer that waits for its
      // next fetch): the interval is --trigger again, from the last trigger.
      next_trigger -= scheduled - adaptive_.base();
      scheduled = adaptive_.base();
      adaptive_.Reset();
    }
    if (now >= next_trigger || backlog) {
      const bool due = now >= next_trigger;
      const int64_t read_since = result_.records_read - read_at_last_trigger_;
      if (auto s = Trigger(/*final=*/false); !s.ok()) return s;
      read_at_last_trigger_ = result_.records_read;
      const absl::Duration interval = adaptive_.AfterTrigger(AdaptiveTrigger::Lagging(source_.Lag(), read_since));
      // The next interval starts when this trigger is done: a slow sink (say,
      // seconds of writes while catching up) still gets an interval's worth
      // of records per trigger, rather than one poll's.
      now = clock_.Now();
      if (due) {
        next_trigger = now + interval;
        scheduled = interval;
      }
    }
    if (now >= next_progress) {
      ReportProgress();
      next_progress = now + options_.progress_interval;
    }
  }
  result_.counts = tasks_.TotalCounts();
  return result_;
}

}  // namespace

absl::StatusOr<PipelineResult> RunPipeline(Source& source, Sink& sink, DeadLetterSink& dead_letters,
                                           StoreProvider& stores, const PipelineOptions& options, Clock& clock) {
  TriggerLoop loop(source, sink, dead_letters, stores, options, clock);
  return loop.Run();
}

}  // namespace tally
