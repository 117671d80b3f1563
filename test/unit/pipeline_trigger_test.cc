// The trigger loop's early triggers: what waits in memory for a trigger stays
// bounded however fast records come, with a clock that never reaches the
// trigger interval. Dead letters a committer carries (exactly once) fire a
// trigger once their bytes reach PipelineOptions::max_dead_letter_bytes_pending.

#include "runtime/pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/clock.h"
#include "state/store_provider.h"
#include "null_sinks.h"

namespace tally {
namespace {

// Delivers `batches` batches of `per_batch` copies of `line`, then ends.
class ScriptedSource final : public Source {
 public:
  ScriptedSource(std::string line, int batches, int per_batch)
      : line_(std::move(line)), batches_(batches), per_batch_(per_batch) {}

  absl::Status Poll(absl::Duration, RecordBatch* batch) override {
    batch->records.clear();
    batch->padded = false;
    for (int i = 0; i < per_batch_ && polled_ < batches_; ++i) {
      batch->records.push_back(SourceRecord{line_, RecordOrigin{0, ++position_}});
    }
    ++polled_;
    batch->end_of_input = polled_ >= batches_;
    return absl::OkStatus();
  }
  std::string Describe() const override { return "scripted"; }
  const char* position_name() const override { return "line"; }

 private:
  std::string line_;
  int batches_, per_batch_;
  int polled_ = 0;
  int64_t position_ = 0;
};

// Carries dead letters in its commits, as the exactly-once committer does,
// and records how many each commit carried.
class CarryingCommitter final : public Committer {
 public:
  bool carries_dead_letters() const override { return true; }
  absl::Status Commit(TaskSet& tasks) override {
    size_t letters = 0;
    tasks.ForEach([&](Task& task) {
      if (!task.staged) return;
      letters += task.staged_letters.size();
      task.staged_letters.clear();
      task.staged = false;
    });
    letters_per_commit.push_back(letters);
    return absl::OkStatus();
  }
  std::vector<size_t> letters_per_commit;
};

class StoppedClock final : public Clock {
 public:
  absl::Time Now() override { return absl::FromUnixSeconds(1'700'000'000); }
};

struct Outcome {
  std::vector<size_t> letters_per_commit;
  PipelineResult result;
};

Outcome RunWith(size_t max_dead_letter_bytes_pending, const std::string& line, int batches, int per_batch) {
  ScriptedSource source(line, batches, per_batch);
  NullSink sink;
  NullDeadLetterSink dead_letters;
  MemoryStoreProvider stores;
  CarryingCommitter committer;
  StoppedClock clock;
  PipelineOptions options;
  options.trigger_interval = absl::Hours(1);  // never reached: only early triggers fire
  options.committer = &committer;
  options.max_dead_letter_bytes_pending = max_dead_letter_bytes_pending;
  auto result = RunPipeline(source, sink, dead_letters, stores, options, clock);
  EXPECT_TRUE(result.ok()) << result.status();
  return Outcome{committer.letters_per_commit, result.ok() ? *result : PipelineResult{}};
}

TEST(PipelineTrigger, FiresEarlyOnPendingDeadLetterBytes) {
  // 100 batches of 100 invalid records of 1000 bytes: over 10 MB of dead letters.
  const std::string line = "not json " + std::string(991, '#');
  const size_t bound = size_t{1} << 20;
  const Outcome run = RunWith(bound, line, /*batches=*/100, /*per_batch=*/100);
  EXPECT_EQ(run.result.dead_letters, 100 * 100);
  // A trigger fires once the letters pending reach the bound: each commit
  // carries at most the bound's worth of letters, plus one batch's.
  const size_t bound_letters = bound / line.size() + 100;
  ASSERT_GE(run.letters_per_commit.size(), 10u);
  size_t total = 0;
  for (size_t letters : run.letters_per_commit) {
    EXPECT_LE(letters, bound_letters);
    total += letters;
  }
  EXPECT_EQ(total, 100u * 100u);
}

TEST(PipelineTrigger, DoesNotFireEarlyBelowTheBound) {
  const Outcome run = RunWith(size_t{1} << 30, "not json", /*batches=*/100, /*per_batch=*/100);
  // Only the last trigger, at the end of the input.
  EXPECT_EQ(run.letters_per_commit, std::vector<size_t>{100u * 100u});
}

}  // namespace
}  // namespace tally
