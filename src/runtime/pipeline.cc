#include "runtime/pipeline.h"

#include <memory>
#include <span>
#include <vector>

#include "runtime/task.h"

namespace tally {
namespace {

// Owns the tasks, one per input partition, created on the first record of each.
class TaskSet {
 public:
  TaskSet(StoreProvider& stores, const ProcessorOptions& options) : stores_(stores), options_(options) {}

  absl::StatusOr<Task*> Get(int32_t partition) {
    if (partition < 0) return absl::InvalidArgumentError("negative partition");
    const auto index = static_cast<size_t>(partition);
    if (index >= tasks_.size()) tasks_.resize(index + 1);
    if (!tasks_[index]) {
      auto stores = stores_.Open(partition);
      if (!stores.ok()) return stores.status();
      tasks_[index] = std::make_unique<Task>(partition, std::move(*stores), options_);
    }
    return tasks_[index].get();
  }

  template <typename F>
  void ForEach(F&& f) {
    for (auto& t : tasks_) {
      if (t) f(*t);
    }
  }

 private:
  StoreProvider& stores_;
  const ProcessorOptions& options_;
  std::vector<std::unique_ptr<Task>> tasks_;
};

}  // namespace

absl::StatusOr<PipelineResult> RunPipeline(Source& source, Sink& sink, DeadLetterSink& dead_letters,
                                           StoreProvider& stores, const PipelineOptions& options, Clock& clock) {
  TaskSet tasks(stores, options.processor);
  PipelineResult result;
  RecordBatch batch;
  TriggerOutput output;

  auto pass_dead_letters = [&]() -> absl::Status {
    absl::Status status;
    tasks.ForEach([&](Task& task) {
      auto& letters = task.processor().dead_letters();
      if (letters.empty() || !status.ok()) return;
      status = dead_letters.Write(letters);
      result.dead_letters += static_cast<int64_t>(letters.size());
      letters.clear();
    });
    return status;
  };

  auto trigger = [&](bool end_of_input) -> absl::Status {
    output.clear();
    size_t dedup_entries = 0, state_bytes = 0;
    tasks.ForEach([&](Task& task) {
      task.processor().Trigger(&output, end_of_input);
      dedup_entries += task.stores().dedup->size();
      state_bytes += task.stores().dedup->MemoryBytes() + task.stores().windows->MemoryBytes();
    });
    result.peak_dedup_entries = std::max(result.peak_dedup_entries, dedup_entries);
    result.peak_state_bytes = std::max(result.peak_state_bytes, state_bytes);
    result.rows_written += static_cast<int64_t>(output.updates.size());
    return sink.Write(result.triggers++, output);
  };

  absl::Time next_trigger = clock.Now() + options.trigger_interval;
  for (;;) {
    if (auto s = source.Poll(options.max_poll_wait, &batch); !s.ok()) return s;
    bool closed_backlog = false;
    // Hand each run of records of one partition to its task in one go.
    const std::span<const SourceRecord> records(batch.records);
    for (size_t begin = 0, end; begin < records.size(); begin = end) {
      const int32_t partition = records[begin].origin.partition;
      for (end = begin + 1; end < records.size() && records[end].origin.partition == partition; ++end) {
      }
      auto task = tasks.Get(partition);
      if (!task.ok()) return task.status();
      (*task)->processor().ProcessBatch(records.subspan(begin, end - begin), batch.padded);
    }
    if (auto s = pass_dead_letters(); !s.ok()) return s;
    if (batch.end_of_input) break;

    tasks.ForEach([&](Task& task) {
      closed_backlog |= task.processor().ClosedRowsPending() >= options.max_closed_rows_pending;
    });
    const absl::Time now = clock.Now();
    if (now >= next_trigger || closed_backlog) {
      if (auto s = trigger(false); !s.ok()) return s;
      if (now >= next_trigger) next_trigger = now + options.trigger_interval;
    }
  }
  if (auto s = trigger(/*end_of_input=*/true); !s.ok()) return s;
  tasks.ForEach([&](Task& task) { result.counts += task.processor().counts(); });
  return result;
}

}  // namespace tally
