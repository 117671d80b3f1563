#include "runtime/pipeline.h"

#include <algorithm>
#include <span>
#include <vector>

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
        tasks_(stores, options.processor) {}

  absl::StatusOr<PipelineResult> Run();

  absl::Status OnPartitionsRevoked(std::span<const int32_t> partitions) override {
    if (auto s = Trigger(/*final=*/false); !s.ok()) return s;
    for (int32_t p : partitions) tasks_.Remove(p);
    return absl::OkStatus();
  }

  absl::Status OnPartitionsAssigned(std::span<const int32_t> partitions) override {
    // Open the stores now, so a durable store restores before the first record.
    for (int32_t p : partitions) {
      if (auto task = tasks_.Get(p); !task.ok()) return task.status();
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Process(const RecordBatch& batch);
  absl::Status PassDeadLetters();
  // Writes changed rows, flushes dead letters, commits the source. `final`:
  // the run ends here; if state dies with it, every row is finalized.
  absl::Status Trigger(bool final, bool end_of_input = false);
  void ReportProgress();

  Source& source_;
  Sink& sink_;
  DeadLetterSink& dead_letters_;
  StoreProvider& stores_;
  const PipelineOptions& options_;
  Clock& clock_;
  TaskSet tasks_;
  PipelineResult result_;
  TriggerOutput output_;
};

absl::Status TriggerLoop::Process(const RecordBatch& batch) {
  // Hand each run of records of one partition to its task in one go.
  const std::span<const SourceRecord> records(batch.records);
  for (size_t begin = 0, end; begin < records.size(); begin = end) {
    const int32_t partition = records[begin].origin.partition;
    for (end = begin + 1; end < records.size() && records[end].origin.partition == partition; ++end) {
    }
    auto task = tasks_.Get(partition);
    if (!task.ok()) return task.status();
    (*task)->processor().ProcessBatch(records.subspan(begin, end - begin), batch.padded);
  }
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
  const bool finalize_all = end_of_input || (final && !stores_.durable());
  output_.clear();
  size_t dedup_entries = 0, state_bytes = 0;
  tasks_.ForEach([&](Task& task) {
    task.processor().Trigger(&output_, finalize_all);
    dedup_entries += task.stores().dedup->size();
    state_bytes += task.stores().dedup->MemoryBytes() + task.stores().windows->MemoryBytes();
  });
  result_.peak_dedup_entries = std::max(result_.peak_dedup_entries, dedup_entries);
  result_.peak_state_bytes = std::max(result_.peak_state_bytes, state_bytes);
  if (auto s = sink_.Write(result_.triggers++, output_); !s.ok()) return s;
  result_.rows_written += static_cast<int64_t>(output_.updates.size());
  if (auto s = dead_letters_.Flush(); !s.ok()) return s;
  return source_.Commit();
}

void TriggerLoop::ReportProgress() {
  PipelineProgress p;
  p.counts = tasks_.TotalCounts();
  p.triggers = result_.triggers;
  p.rows_written = result_.rows_written;
  p.dead_letters = result_.dead_letters;
  p.lag = source_.Lag();
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
    ~Unlisten() { source.SetPartitionListener(nullptr); }
  } unlisten{source_};

  RecordBatch batch;
  absl::Time next_trigger = clock_.Now() + options_.trigger_interval;
  absl::Time next_progress = clock_.Now() + options_.progress_interval;
  for (;;) {
    if (auto s = source_.Poll(options_.max_poll_wait, &batch); !s.ok()) return s;
    if (auto s = Process(batch); !s.ok()) return s;
    if (batch.end_of_input || batch.end_of_run) break;
    if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) {
      result_.stopped = true;
      break;
    }
    bool closed_backlog = false;
    tasks_.ForEach([&](Task& task) {
      closed_backlog |= task.processor().ClosedRowsPending() >= options_.max_closed_rows_pending;
    });
    absl::Time now = clock_.Now();
    if (now >= next_trigger || closed_backlog) {
      const bool due = now >= next_trigger;
      if (auto s = Trigger(/*final=*/false); !s.ok()) return s;
      // The next interval starts when this trigger is done: a slow sink (say,
      // seconds of writes while catching up) still gets an interval's worth
      // of records per trigger, rather than one poll's.
      now = clock_.Now();
      if (due) next_trigger = now + options_.trigger_interval;
    }
    if (options_.on_progress && now >= next_progress) {
      ReportProgress();
      next_progress = now + options_.progress_interval;
    }
  }
  if (auto s = Trigger(/*final=*/true, batch.end_of_input); !s.ok()) return s;
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
