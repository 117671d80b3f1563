// The trigger interval while catching up: it doubles per trigger while the
// source is behind, up to 4 times --trigger or 30 s, and is --trigger again
// once the source has caught up.

#include "runtime/adaptive_trigger.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/clock.h"
#include "runtime/pipeline.h"
#include "state/store_provider.h"
#include "null_sinks.h"

namespace tally {
namespace {

TEST(AdaptiveTrigger, DoublesWhileLaggingUpToFourTimes) {
  AdaptiveTrigger t(absl::Seconds(1));
  EXPECT_EQ(t.interval(), absl::Seconds(1));
  EXPECT_EQ(t.AfterTrigger(true), absl::Seconds(2));
  EXPECT_EQ(t.AfterTrigger(true), absl::Seconds(4));
  EXPECT_EQ(t.AfterTrigger(true), absl::Seconds(4));
  EXPECT_EQ(t.factor(), 4);
  EXPECT_EQ(t.AfterTrigger(false), absl::Seconds(1));
  EXPECT_EQ(t.factor(), 1);
}

TEST(AdaptiveTrigger, NeverPastThirtySecondsNorBelowTheBase) {
  AdaptiveTrigger ten(absl::Seconds(10));
  EXPECT_EQ(ten.AfterTrigger(true), absl::Seconds(20));
  EXPECT_EQ(ten.AfterTrigger(true), absl::Seconds(30));
  EXPECT_EQ(ten.AfterTrigger(true), absl::Seconds(30));
  EXPECT_EQ(ten.factor(), 4) << "the closed-row bound still grows 4 times";

  AdaptiveTrigger minute(absl::Minutes(1));
  EXPECT_EQ(minute.AfterTrigger(true), absl::Minutes(1));

  AdaptiveTrigger zero(absl::ZeroDuration());  // a trigger after every poll stays so
  EXPECT_EQ(zero.AfterTrigger(true), absl::ZeroDuration());
}

TEST(AdaptiveTrigger, ResetGoesBackToTheBase) {
  AdaptiveTrigger t(absl::Milliseconds(500));
  t.AfterTrigger(true);
  t.AfterTrigger(true);
  t.Reset();
  EXPECT_EQ(t.interval(), absl::Milliseconds(500));
  EXPECT_EQ(t.factor(), 1);
}

TEST(AdaptiveTrigger, LaggingMeansMoreWaitingThanWasReadSinceTheLastTrigger) {
  EXPECT_TRUE(AdaptiveTrigger::Lagging(1'000'000, 50'000));
  EXPECT_FALSE(AdaptiveTrigger::Lagging(200, 50'000)) << "a live stream's last fetch";
  EXPECT_FALSE(AdaptiveTrigger::Lagging(0, 0));
  EXPECT_FALSE(AdaptiveTrigger::Lagging(-1, 0)) << "unknown lag";
}

// --- in the trigger loop ---

class ManualClock final : public Clock {
 public:
  absl::Time Now() override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

// `polls` polls of one record each, one second of processing time apart,
// then the end; Lag() reports what is left to read (or 0 when `caught_up`).
class OneRecordPerSecond final : public Source {
 public:
  OneRecordPerSecond(ManualClock& clock, int polls, bool caught_up)
      : clock_(clock), polls_(polls), caught_up_(caught_up) {}

  absl::Status Poll(absl::Duration, RecordBatch* batch) override {
    clock_.Advance(absl::Seconds(1));
    batch->records.clear();
    batch->padded = false;
    batch->records.push_back(SourceRecord{line_, RecordOrigin{0, ++polled_}});
    batch->end_of_input = polled_ >= polls_;
    return absl::OkStatus();
  }
  int64_t Lag() const override { return caught_up_ ? 0 : polls_ - polled_; }
  std::string Describe() const override { return "one record per second"; }
  const char* position_name() const override { return "line"; }

 private:
  ManualClock& clock_;
  int polls_;
  bool caught_up_;
  int polled_ = 0;
  std::string line_ = "not json";
};

int64_t TriggersFor(bool caught_up) {
  ManualClock clock;
  OneRecordPerSecond source(clock, /*polls=*/200, caught_up);
  NullSink sink;
  NullDeadLetterSink dead_letters;
  MemoryStoreProvider stores;
  PipelineOptions options;
  options.trigger_interval = absl::Seconds(1);
  auto result = RunPipeline(source, sink, dead_letters, stores, options, clock);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return -1;
  EXPECT_EQ(result->records_read, 200);
  return result->triggers;
}

TEST(AdaptiveTriggerLoop, TriggersLessOftenWhileBehind) {
  // Caught up: a trigger every second or so (each poll takes one).
  const int64_t live = TriggersFor(/*caught_up=*/true);
  EXPECT_GE(live, 90);
  // Behind: 1, 2, then 4 s apart until the lag is below what a trigger reads.
  const int64_t behind = TriggersFor(/*caught_up=*/false);
  EXPECT_LE(behind, 60);
  EXPECT_GE(behind, 200 / 4);
}

}  // namespace
}  // namespace tally
