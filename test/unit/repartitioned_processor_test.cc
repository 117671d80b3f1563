// DailyCountProcessor in sub-topology 1: records from the repartition topic
// (core/repartition_record.h) are counted as the input records they carry,
// and a late one's dead letter is the input record, with its input origin.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/daily_count_processor.h"
#include "core/repartition_record.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

constexpr Micros kDay = kMicrosPerDay;

class RepartitionedProcessorTest : public ::testing::Test {
 protected:
  static ProcessorOptions Options() {
    ProcessorOptions options;
    options.lateness = kDay;
    options.input_repartitioned = true;
    return options;
  }

  // The repartition value of an event of `user` at `t`, from input offset `offset`.
  std::string Value(uint64_t event, uint64_t user, Micros t, int64_t offset, const std::string& original) {
    Event e;
    e.event_id = Uuid{event, event};
    e.user_id = Uuid{user, user};
    e.event_time = t;
    std::string value;
    EncodeRepartitionValue(e, RecordOrigin{3, offset}, original, &value);
    return value;
  }

  Verdict Feed(const std::string& value, int64_t repartition_offset) {
    return processor_.Process(value, /*padded=*/false, RecordOrigin{0, repartition_offset});
  }

  ProcessorOptions options_ = Options();
  MemoryDedupStore dedup_{64};
  MemoryWindowStore windows_;
  DailyCountProcessor processor_{options_, &dedup_, &windows_};
};

TEST_F(RepartitionedProcessorTest, CountsDeduplicatesAndDeadLettersTheInputRecord) {
  EXPECT_EQ(Feed(Value(1, 7, 10 * kDay, 100, "first"), 0), Verdict::kCounted);
  EXPECT_EQ(Feed(Value(1, 7, 10 * kDay, 101, "copy"), 1), Verdict::kDuplicate);
  EXPECT_EQ(Feed(Value(2, 7, 12 * kDay, 102, "later"), 2), Verdict::kCounted);
  EXPECT_EQ(Feed(Value(3, 7, 10 * kDay, 103, "{\"late\":true}"), 3), Verdict::kLate);
  ASSERT_EQ(processor_.dead_letters().size(), 1u);
  const DeadLetter& letter = processor_.dead_letters()[0];
  EXPECT_EQ(letter.reason, DeadLetterReason::kLate);
  EXPECT_EQ(letter.bytes, "{\"late\":true}");  // the input record, not the repartition value
  EXPECT_EQ(letter.origin.partition, 3);       // its input partition and offset
  EXPECT_EQ(letter.origin.position, 103);
  EXPECT_EQ(processor_.counts().records, 4);
  EXPECT_EQ(processor_.counts().counted, 2);
  EXPECT_TRUE(processor_.error().ok());
}

TEST_F(RepartitionedProcessorTest, AValueThatIsNotARepartitionRecordIsAnError) {
  EXPECT_EQ(Feed(Value(1, 7, 10 * kDay, 100, "ok"), 0), Verdict::kCounted);
  Feed("{\"EventUUID\":\"not a repartition record\"}", 1);
  EXPECT_TRUE(absl::IsDataLoss(processor_.error())) << processor_.error();
  EXPECT_TRUE(processor_.dead_letters().empty());  // not a record of the input: nothing to dead-letter
  EXPECT_EQ(processor_.counts().records, 1);
}

TEST_F(RepartitionedProcessorTest, AnInvalidInputRecordIsCountedWithoutADeadLetter) {
  std::string value;
  EncodeRepartitionInvalid(DeadLetterReason::kBadUuid, RecordOrigin{2, 55}, &value);
  EXPECT_EQ(Feed(value, 0), Verdict::kInvalid);
  EXPECT_TRUE(processor_.dead_letters().empty());  // sub-topology 0 wrote it
  EXPECT_EQ(processor_.counts().records, 1);
  EXPECT_EQ(processor_.counts().invalid, 1);
  EXPECT_EQ(processor_.counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kBadUuid)], 1);
  EXPECT_TRUE(processor_.error().ok());
}

}  // namespace
}  // namespace tally
