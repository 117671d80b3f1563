// The per-record rules of docs/semantics.md, one tiny hand-made stream each:
// invalid, late, duplicate, counted; the watermark; update mode and closing days.

#include "core/daily_count_processor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

constexpr Micros kHour = 3600 * kMicrosPerSecond;
constexpr int32_t kPartition = 7;

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string EventId(int n) { return absl::StrFormat("00000000-0000-4000-8000-%012d", n); }
std::string UserId(int n) { return absl::StrFormat("10000000-0000-4000-8000-%012d", n); }

std::string Record(const std::string& event_id, const std::string& user_id, const std::string& created_at_json) {
  return absl::StrFormat(R"({"EventUUID":"%s","UserUUID":"%s","EventName":"lesson_started","CreatedAt":%s})",
                         event_id, user_id, created_at_json);
}

// Event n of user u at `time`, a CreatedAt text.
std::string R(int n, int u, const std::string& time) { return Record(EventId(n), UserId(u), Quote(time)); }

Micros Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::ToUnixMicros(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

// A row as (user, date, count), readable in failure messages.
using Row = std::tuple<std::string, std::string, int64_t>;

Row Rw(int user, const std::string& date, int64_t count) { return {UserId(user), date, count}; }

std::vector<Row> Rows(const std::vector<DailyCount>& counts) {
  std::vector<Row> rows;
  for (const DailyCount& c : counts) rows.emplace_back(FormatUuid(c.user), FormatDay(c.day), c.count);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<Row> Sorted(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

class DailyCountProcessorTest : public ::testing::Test {
 protected:
  void Start(Micros lateness = 7 * kMicrosPerDay, absl::TimeZone zone = absl::UTCTimeZone(),
             size_t max_record_bytes = kDefaultMaxRecordBytes, bool require_user_key = false) {
    ProcessorOptions options;
    options.lateness = lateness;
    options.input_zone = zone;
    options.max_record_bytes = max_record_bytes;
    options.require_user_key = require_user_key;
    processor_ = std::make_unique<DailyCountProcessor>(options, &dedup_, &windows_);
  }

  // Feeds a record with a Kafka key (nullopt: a null key).
  Verdict Feed(const std::string& bytes, std::optional<std::string_view> key = std::nullopt) {
    const Verdict v = processor_->Process(bytes, /*padded=*/false, RecordOrigin{kPartition, ++position_}, key);
    const RecordCounts& c = processor_->counts();
    EXPECT_EQ(c.records, c.invalid + c.late + c.duplicates + c.counted);
    return v;
  }

  TriggerOutput Trigger(bool end_of_input = false) {
    TriggerOutput out;
    processor_->Trigger(&out, end_of_input);
    return out;
  }

  const RecordCounts& counts() const { return processor_->counts(); }
  const Watermark& watermark() const { return processor_->watermark(); }
  std::vector<DeadLetter>& dead_letters() { return processor_->dead_letters(); }

  MemoryDedupStore dedup_{64};
  MemoryWindowStore windows_;
  std::unique_ptr<DailyCountProcessor> processor_;
  int64_t position_ = 0;  // 1-based, like a file's line numbers
};

// --- invalid records ---------------------------------------------------------------

TEST_F(DailyCountProcessorTest, InvalidRecordsAreDeadLetteredWithReasonOriginAndBytes) {
  Start(kHour, absl::UTCTimeZone(), /*max_record_bytes=*/400);
  const std::vector<std::pair<std::string, DeadLetterReason>> invalid = {
      {"not json", DeadLetterReason::kNotJson},
      {"[1,2,3]", DeadLetterReason::kNotObject},
      {std::string("{\"EventName\":\"\xff\"}"), DeadLetterReason::kNotUtf8},
      {R"({"EventUUID":"x"})", DeadLetterReason::kMissingField},
      {Record(EventId(1), UserId(1), "true"), DeadLetterReason::kWrongType},
      {Record("not-a-uuid", UserId(1), "1704067200"), DeadLetterReason::kBadUuid},
      {R"({"EventUUID":")" + EventId(1) + R"(","UserUUID":")" + UserId(1) +
           R"(","EventName":"","CreatedAt":1704067200})",
       DeadLetterReason::kEmptyEventName},
      {R(1, 1, "2024-02-30T00:00:00Z"), DeadLetterReason::kBadTime},
      {R(1, 1, "2100-01-01T00:00:00Z"), DeadLetterReason::kTimeOutOfRange},
      {Record(EventId(1), UserId(1), "-1"), DeadLetterReason::kTimeOutOfRange},
      {"{" + std::string(500, ' ') + "}", DeadLetterReason::kTooLarge},
  };
  for (const auto& [bytes, reason] : invalid) EXPECT_EQ(Feed(bytes), Verdict::kInvalid) << bytes;

  ASSERT_EQ(dead_letters().size(), invalid.size());
  for (size_t i = 0; i < invalid.size(); ++i) {
    const DeadLetter& d = dead_letters()[i];
    EXPECT_EQ(ReasonName(d.reason), std::string(ReasonName(invalid[i].second))) << invalid[i].first;
    EXPECT_EQ(d.bytes, invalid[i].first);  // the original bytes, unchanged
    EXPECT_EQ(d.origin.partition, kPartition);
    EXPECT_EQ(d.origin.position, static_cast<int64_t>(i + 1));
    EXPECT_FALSE(d.detail.empty());
  }
  EXPECT_EQ(counts().records, static_cast<int64_t>(invalid.size()));
  EXPECT_EQ(counts().invalid, static_cast<int64_t>(invalid.size()));
  EXPECT_EQ(counts().late + counts().duplicates + counts().counted, 0);
  EXPECT_EQ(counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kTimeOutOfRange)], 2);
  EXPECT_EQ(counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kNotJson)], 1);
  EXPECT_EQ(counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kTooLarge)], 1);
  EXPECT_EQ(counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kLate)], 0);
  // Nothing valid yet: no watermark, no rows.
  EXPECT_FALSE(watermark().has_value());
  const TriggerOutput out = Trigger(/*end_of_input=*/true);
  EXPECT_TRUE(out.updates.empty());
  EXPECT_TRUE(out.finalized.empty());
}

// A record over the size limit keeps only its first kTooLargeKeptBytes in its
// dead letter, whether it came whole (a Kafka value) or cut by its source (a
// file line read past in constant memory); the detail gives its whole size.
TEST_F(DailyCountProcessorTest, TooLargeDeadLetterKeepsTheFirstBytesAndTheSize) {
  Start(kHour, absl::UTCTimeZone(), /*max_record_bytes=*/2000);
  std::string whole = "{\"x\":\"";
  for (int i = 0; whole.size() < 5000; ++i) whole += static_cast<char>('a' + i % 26);
  whole += "\"}";
  EXPECT_EQ(Feed(whole), Verdict::kInvalid);

  // A cut record is too_large even if its head alone would be valid JSON.
  const std::string head = R(1, 1, "2024-01-01T00:00:00Z");
  const SourceRecord cut{head, RecordOrigin{kPartition, ++position_}, /*cut_size=*/70'000'000};
  const std::string small = R(2, 1, "2024-01-01T00:00:00Z");
  const SourceRecord after{small, RecordOrigin{kPartition, ++position_}};
  const std::vector<SourceRecord> batch = {cut, after};
  processor_->ProcessBatch(batch, /*padded=*/false);

  ASSERT_EQ(dead_letters().size(), 2u);
  EXPECT_EQ(dead_letters()[0].reason, DeadLetterReason::kTooLarge);
  EXPECT_EQ(dead_letters()[0].bytes, whole.substr(0, kTooLargeKeptBytes));
  EXPECT_EQ(dead_letters()[0].detail,
            "record is 5002 bytes, over the limit of 2000 (--max-record-bytes); its first 1024 bytes are kept");
  EXPECT_EQ(dead_letters()[1].reason, DeadLetterReason::kTooLarge);
  EXPECT_EQ(dead_letters()[1].bytes, head);
  EXPECT_EQ(dead_letters()[1].origin.position, 2);
  EXPECT_EQ(dead_letters()[1].detail,
            "record is 70000000 bytes, over the limit of 2000 (--max-record-bytes); its first 1024 bytes are kept");
  EXPECT_EQ(counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kTooLarge)], 2);
  EXPECT_EQ(counts().counted, 1);  // the record after the cut one
}

TEST_F(DailyCountProcessorTest, InvalidRecordsDoNotMoveTheWatermark) {
  Start(kHour);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kCounted);
  // Well-formed times far ahead, in records that are invalid for another reason.
  EXPECT_EQ(Feed(Record("bad", UserId(1), Quote("2024-01-05T00:00:00Z"))), Verdict::kInvalid);
  EXPECT_EQ(Feed(Record(EventId(2), "bad", "1704412800")), Verdict::kInvalid);
  EXPECT_EQ(Feed(R"({"EventUUID":")" + EventId(3) + R"(","UserUUID":")" + UserId(1) +
                 R"(","EventName":"","CreatedAt":"2024-01-05T00:00:00Z"})"),
            Verdict::kInvalid);
  EXPECT_EQ(Feed(R"({"EventUUID":")" + EventId(4) +
                 R"(","UserUUID":5,"EventName":"e","CreatedAt":"2024-01-05T00:00:00Z"})"),
            Verdict::kInvalid);
  EXPECT_EQ(watermark().max_seen(), Utc(2024, 1, 1, 10));
  EXPECT_EQ(watermark().value(), Utc(2024, 1, 1, 9));
  // So a record at the old W still counts.
  EXPECT_EQ(Feed(R(5, 1, "2024-01-01T09:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(counts().invalid, 4);
  EXPECT_EQ(counts().counted, 2);
}

// --- the watermark and late records ----------------------------------------------------

TEST_F(DailyCountProcessorTest, NothingIsLateBeforeTheFirstValidRecord) {
  Start();
  EXPECT_FALSE(watermark().has_value());
  EXPECT_EQ(Feed(R(1, 1, "1970-01-01T00:00:00Z")), Verdict::kCounted);  // the oldest time there is
  EXPECT_TRUE(watermark().has_value());
  EXPECT_EQ(watermark().value(), -7 * kMicrosPerDay);
}

TEST_F(DailyCountProcessorTest, TheFirstValidRecordSetsTheWatermark) {
  Start();  // lateness 7 days
  EXPECT_EQ(Feed(R(1, 1, "2024-01-10T12:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(watermark().value(), Utc(2024, 1, 3, 12));
  EXPECT_EQ(Feed(R(2, 1, "2024-01-03T11:59:59.999999Z")), Verdict::kLate);
  EXPECT_EQ(Feed(R(3, 1, "2024-01-03T12:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(Feed(R(4, 1, "2024-01-01T00:00:00Z")), Verdict::kLate);
}

TEST_F(DailyCountProcessorTest, LateRecordsAreDeadLetteredAndCountedAsLate) {
  Start(kHour);
  ASSERT_EQ(Feed(R(1, 1, "2024-01-01T12:00:00Z")), Verdict::kCounted);
  const std::string late = R(2, 1, "2024-01-01T10:59:59.999999Z");
  EXPECT_EQ(Feed(late), Verdict::kLate);
  ASSERT_EQ(dead_letters().size(), 1u);
  EXPECT_EQ(dead_letters()[0].reason, DeadLetterReason::kLate);
  EXPECT_STREQ(ReasonName(dead_letters()[0].reason), "late");
  EXPECT_EQ(dead_letters()[0].bytes, late);
  EXPECT_EQ(dead_letters()[0].origin.partition, kPartition);
  EXPECT_EQ(dead_letters()[0].origin.position, 2);
  EXPECT_FALSE(dead_letters()[0].detail.empty());
  EXPECT_EQ(counts().late, 1);
  EXPECT_EQ(counts().invalid, 0);
  EXPECT_EQ(counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kLate)], 0);
  // A late record is below W, hence below max_seen: the watermark stays.
  EXPECT_EQ(watermark().max_seen(), Utc(2024, 1, 1, 12));
  // It is not counted, and it is not remembered for dedup either.
  EXPECT_EQ(Rows(Trigger().updates), std::vector<Row>{Rw(1, "2024-01-01", 1)});
  EXPECT_EQ(Feed(R(2, 1, "2024-01-01T11:30:00Z")), Verdict::kCounted);
}

TEST_F(DailyCountProcessorTest, ARecordExactlyAtTheWatermarkIsNotLate) {
  Start(kHour);
  Feed(R(1, 1, "2024-01-01T12:00:00Z"));
  EXPECT_EQ(Feed(R(2, 1, "2024-01-01T11:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(Feed(R(3, 1, "2024-01-01T10:59:59.999999Z")), Verdict::kLate);
  EXPECT_EQ(Feed(R(4, 1, "2024-01-01T11:00:00.000001Z")), Verdict::kCounted);
  EXPECT_EQ(Rows(Trigger().updates), std::vector<Row>{Rw(1, "2024-01-01", 3)});
}

TEST_F(DailyCountProcessorTest, ValidRecordsMoveTheWatermarkWhateverTheirOrder) {
  Start(kHour);
  Feed(R(1, 1, "2024-01-01T12:00:00Z"));
  Feed(R(2, 1, "2024-01-01T11:30:00Z"));  // older, counted: W stays
  EXPECT_EQ(watermark().value(), Utc(2024, 1, 1, 11));
  Feed(R(3, 1, "2024-01-01T14:00:00Z"));
  EXPECT_EQ(watermark().value(), Utc(2024, 1, 1, 13));
  EXPECT_EQ(Feed(R(4, 1, "2024-01-01T12:30:00Z")), Verdict::kLate);
}

// --- duplicates ------------------------------------------------------------------------

TEST_F(DailyCountProcessorTest, ACopyOfALiveEventIsADuplicate) {
  Start(kHour);
  const std::string record = R(1, 1, "2024-01-01T10:00:00Z");
  EXPECT_EQ(Feed(record), Verdict::kCounted);
  EXPECT_EQ(Feed(record), Verdict::kDuplicate);
  EXPECT_EQ(Feed(record), Verdict::kDuplicate);
  EXPECT_EQ(counts().duplicates, 2);
  EXPECT_EQ(counts().counted, 1);
  EXPECT_TRUE(dead_letters().empty()) << "duplicates are dropped, not dead-lettered";
  EXPECT_EQ(Rows(Trigger().updates), std::vector<Row>{Rw(1, "2024-01-01", 1)});
}

TEST_F(DailyCountProcessorTest, IdentityIsTheEventUuidAlone) {
  Start(kHour);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(Feed(R(1, 2, "2024-01-01T10:30:00Z")), Verdict::kDuplicate);  // another user, another time
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T09:30:00Z")), Verdict::kDuplicate);  // == W after 10:30: not late
  EXPECT_EQ(Feed(Record(EventId(1), UserId(3), "1704103200")), Verdict::kDuplicate);  // a number, 10:00
  EXPECT_EQ(Rows(Trigger().updates), std::vector<Row>{Rw(1, "2024-01-01", 1)});
  EXPECT_EQ(counts().duplicates, 3);
}

TEST_F(DailyCountProcessorTest, AFirstCopyExactlyAtTheWatermarkIsStillLive) {
  Start(kHour);
  Feed(R(1, 1, "2024-01-01T10:00:00Z"));
  Feed(R(2, 1, "2024-01-01T11:00:00Z"));  // W = 10:00, the first copy's time
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:30:00Z")), Verdict::kDuplicate);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kDuplicate);
}

TEST_F(DailyCountProcessorTest, AResendAfterItsFirstCopyExpiredIsLateNotCountedTwice) {
  Start(kHour);
  const std::string first = R(1, 1, "2024-01-01T10:00:00Z");
  EXPECT_EQ(Feed(first), Verdict::kCounted);
  Feed(R(2, 2, "2024-01-01T11:00:00.000001Z"));  // W moves just past the first copy
  dedup_.Purge(watermark().value());             // the store may forget it now
  EXPECT_EQ(dedup_.size(), 1u);
  EXPECT_EQ(Feed(first), Verdict::kLate);  // the re-send carries the original CreatedAt
  EXPECT_EQ(Rows(Trigger(/*end_of_input=*/true).finalized),
            Sorted({Rw(1, "2024-01-01", 1), Rw(2, "2024-01-01", 1)}));
  EXPECT_EQ(counts().late, 1);
  EXPECT_EQ(counts().duplicates, 0);
}

TEST_F(DailyCountProcessorTest, AnEventRecreatedAfterItsFirstExpiredCountsAgain) {
  Start(kHour);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kCounted);
  Feed(R(2, 2, "2024-01-01T12:00:00Z"));  // W = 11:00 > 10:00
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T11:30:00Z")), Verdict::kCounted);
  // The new copy is the live one now.
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T11:45:00Z")), Verdict::kDuplicate);
  EXPECT_EQ(Rows(Trigger().updates), Sorted({Rw(1, "2024-01-01", 2), Rw(2, "2024-01-01", 1)}));
}

TEST_F(DailyCountProcessorTest, DuplicatesMoveTheWatermark) {
  Start(kHour);
  Feed(R(1, 1, "2024-01-01T10:00:00Z"));
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T12:00:00Z")), Verdict::kDuplicate);  // same event, later time
  EXPECT_EQ(watermark().max_seen(), Utc(2024, 1, 1, 12));
  EXPECT_EQ(watermark().value(), Utc(2024, 1, 1, 11));
  EXPECT_EQ(Feed(R(2, 1, "2024-01-01T10:30:00Z")), Verdict::kLate);
  EXPECT_EQ(Feed(R(3, 1, "2024-01-01T11:00:00Z")), Verdict::kCounted);
}

TEST_F(DailyCountProcessorTest, UuidsCompareCaseInsensitivelyAndAreWrittenInLowerCase) {
  Start(kHour);
  const std::string event_lower = "abcdef01-2345-4789-abcd-ef0123456789";
  const std::string event_upper = "ABCDEF01-2345-4789-ABCD-EF0123456789";
  const std::string user_upper = "FEDCBA98-7654-4321-BA98-FEDCBA987654";
  const std::string user_mixed = "fEdCbA98-7654-4321-bA98-FeDcBa987654";
  EXPECT_EQ(Feed(Record(event_lower, user_upper, "1704103200")), Verdict::kCounted);
  EXPECT_EQ(Feed(Record(event_upper, user_upper, "1704103200")), Verdict::kDuplicate);
  EXPECT_EQ(Feed(Record(EventId(9), user_mixed, "1704103201")), Verdict::kCounted);
  const TriggerOutput out = Trigger();
  ASSERT_EQ(out.updates.size(), 1u);
  EXPECT_EQ(FormatUuid(out.updates[0].user), "fedcba98-7654-4321-ba98-fedcba987654");
  EXPECT_EQ(out.updates[0].count, 2);
}

// --- counting into UTC days --------------------------------------------------------------

TEST_F(DailyCountProcessorTest, CountsIntoTheUtcDay) {
  Start();
  Feed(R(1, 1, "2024-01-01T23:59:59.999999Z"));
  Feed(R(2, 1, "2024-01-02T00:00:00Z"));
  Feed(R(3, 1, "2024-01-01T01:00:00+05:30"));  // 2023-12-31T19:30:00Z
  Feed(R(4, 1, "2023-12-31T22:00:00-03:00"));  // 2024-01-01T01:00:00Z
  Feed(Record(EventId(5), UserId(2), "1704067199.999999"));  // 2023-12-31T23:59:59.999999Z
  Feed(Record(EventId(6), UserId(2), "1704067200"));
  EXPECT_EQ(counts().counted, 6);
  EXPECT_EQ(Rows(Trigger().updates), Sorted({Rw(1, "2023-12-31", 1), Rw(1, "2024-01-01", 2), Rw(1, "2024-01-02", 1),
                                             Rw(2, "2023-12-31", 1), Rw(2, "2024-01-01", 1)}));
}

TEST_F(DailyCountProcessorTest, ZoneLessTimesAreReadInTheInputZone) {
  absl::TimeZone calcutta;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Calcutta", &calcutta));
  Start(7 * kMicrosPerDay, calcutta);
  Feed(R(1, 1, "2024-01-01 03:00:00"));        // 2023-12-31T21:30:00Z
  Feed(R(2, 1, "2024-01-01 05:30:00"));        // 2024-01-01T00:00:00Z
  Feed(R(3, 1, "2024-01-01T03:00:00Z"));       // explicit: the input zone plays no part
  EXPECT_EQ(Rows(Trigger().updates), Sorted({Rw(1, "2023-12-31", 1), Rw(1, "2024-01-01", 2)}));
}

// --- update mode and closing days ----------------------------------------------------------

TEST_F(DailyCountProcessorTest, ATriggerWritesExactlyTheRowsChangedSinceThePrevious) {
  Start();
  EXPECT_TRUE(Trigger().updates.empty());
  Feed(R(1, 1, "2024-01-01T10:00:00Z"));
  Feed(R(2, 1, "2024-01-01T11:00:00Z"));
  Feed(R(3, 2, "2024-01-01T11:00:00Z"));
  Feed(R(4, 1, "2024-01-02T11:00:00Z"));
  // A row that changed several times is written once, with its latest count.
  EXPECT_EQ(Rows(Trigger().updates),
            Sorted({Rw(1, "2024-01-01", 2), Rw(2, "2024-01-01", 1), Rw(1, "2024-01-02", 1)}));
  // Nothing changed: nothing to write.
  EXPECT_TRUE(Trigger().updates.empty());
  // Only the changed row, with its absolute count.
  Feed(R(5, 1, "2024-01-01T12:00:00Z"));
  EXPECT_EQ(Rows(Trigger().updates), std::vector<Row>{Rw(1, "2024-01-01", 3)});
  // Duplicates, late and invalid records change nothing.
  Feed(R(5, 1, "2024-01-01T12:00:00Z"));
  Feed("garbage");
  EXPECT_TRUE(Trigger().updates.empty());
  // A row changed again appears again.
  Feed(R(6, 1, "2024-01-01T13:00:00Z"));
  Feed(R(7, 2, "2024-01-02T13:00:00Z"));
  EXPECT_EQ(Rows(Trigger().updates), Sorted({Rw(1, "2024-01-01", 4), Rw(2, "2024-01-02", 1)}));
}

TEST_F(DailyCountProcessorTest, ADayClosesOnceTheWatermarkReachesTheNextDay) {
  Start(kHour);
  Feed(R(1, 1, "2024-01-01T12:00:00Z"));
  Feed(R(2, 2, "2024-01-01T13:00:00Z"));
  TriggerOutput out = Trigger();
  EXPECT_EQ(Rows(out.updates), Sorted({Rw(1, "2024-01-01", 1), Rw(2, "2024-01-01", 1)}));
  EXPECT_TRUE(out.finalized.empty());

  Feed(R(3, 1, "2024-01-02T00:59:59.999999Z"));  // W = 2024-01-01T23:59:59.999999Z: still open
  EXPECT_EQ(processor_->ClosedRowsPending(), 0u);
  out = Trigger();
  EXPECT_EQ(Rows(out.updates), std::vector<Row>{Rw(1, "2024-01-02", 1)});
  EXPECT_TRUE(out.finalized.empty());
  EXPECT_EQ(Feed(R(4, 2, "2024-01-01T23:59:59.999999Z")), Verdict::kCounted);  // the day can still change
  EXPECT_EQ(windows_.size(), 3u);

  Feed(R(5, 3, "2024-01-02T01:00:00Z"));  // W = 2024-01-02T00:00:00Z: Jan 1 is closed
  EXPECT_EQ(processor_->ClosedRowsPending(), 2u);
  out = Trigger();
  EXPECT_EQ(Rows(out.updates), Sorted({Rw(2, "2024-01-01", 2), Rw(3, "2024-01-02", 1)}));
  // Final counts of every row of the closed day, changed in this trigger or not.
  EXPECT_EQ(Rows(out.finalized), Sorted({Rw(1, "2024-01-01", 1), Rw(2, "2024-01-01", 2)}));
  EXPECT_EQ(windows_.size(), 2u) << "closed rows leave the store";
  EXPECT_EQ(processor_->ClosedRowsPending(), 0u);
  // No record can change the closed day any more...
  EXPECT_EQ(Feed(R(6, 1, "2024-01-01T23:59:59.999999Z")), Verdict::kLate);
  // ...and no later trigger mentions its rows again.
  Feed(R(7, 1, "2024-01-03T12:00:00Z"));  // closes Jan 2 too
  out = Trigger();
  EXPECT_EQ(Rows(out.updates), std::vector<Row>{Rw(1, "2024-01-03", 1)});
  EXPECT_EQ(Rows(out.finalized), Sorted({Rw(1, "2024-01-02", 1), Rw(3, "2024-01-02", 1)}));
  out = Trigger();
  EXPECT_TRUE(out.updates.empty());
  EXPECT_TRUE(out.finalized.empty());
  EXPECT_EQ(windows_.size(), 1u);
}

TEST_F(DailyCountProcessorTest, EndOfInputFinalizesEveryRemainingRow) {
  Start();
  Feed(R(1, 1, "2024-01-01T10:00:00Z"));
  Feed(R(2, 1, "2024-01-01T11:00:00Z"));
  Feed(R(3, 2, "2024-01-05T11:00:00Z"));
  TriggerOutput out = Trigger();
  EXPECT_EQ(out.updates.size(), 2u);
  EXPECT_TRUE(out.finalized.empty());
  Feed(R(4, 2, "2024-01-05T12:00:00Z"));
  out = Trigger(/*end_of_input=*/true);
  EXPECT_EQ(Rows(out.updates), std::vector<Row>{Rw(2, "2024-01-05", 2)});
  EXPECT_EQ(Rows(out.finalized), Sorted({Rw(1, "2024-01-01", 2), Rw(2, "2024-01-05", 2)}));
  EXPECT_EQ(windows_.size(), 0u);
  out = Trigger(/*end_of_input=*/true);
  EXPECT_TRUE(out.updates.empty());
  EXPECT_TRUE(out.finalized.empty());
}

TEST_F(DailyCountProcessorTest, EveryFinalizedRowWasWrittenWithTheSameCount) {
  // Over a whole run, the last update of each row equals its finalized count,
  // and each row is finalized exactly once.
  Start(2 * kHour);
  std::vector<Row> last_update, finalized;
  auto trigger = [&](bool end) {
    const TriggerOutput out = Trigger(end);
    for (const Row& r : Rows(out.updates)) {
      std::erase_if(last_update, [&](const Row& x) {
        return std::get<0>(x) == std::get<0>(r) && std::get<1>(x) == std::get<1>(r);
      });
      last_update.push_back(r);
    }
    for (const Row& r : Rows(out.finalized)) finalized.push_back(r);
  };
  int n = 0;
  for (int day = 1; day <= 4; ++day) {
    for (int hour = 0; hour < 24; hour += 5) {
      for (int user = 1; user <= 3; ++user) {
        Feed(R(++n, user, absl::StrFormat("2024-01-%02dT%02d:00:00Z", day, hour)));
        if (n % 4 == 0) Feed(R(n - 2, user, absl::StrFormat("2024-01-%02dT%02d:00:00Z", day, hour)));
      }
      trigger(false);
    }
  }
  trigger(true);
  EXPECT_EQ(Sorted(last_update), Sorted(finalized));
  EXPECT_EQ(finalized.size(), 12u);  // 3 users x 4 days
  int64_t total = 0;
  for (const Row& r : finalized) total += std::get<2>(r);
  EXPECT_EQ(total, counts().counted);
}

// --- counts ------------------------------------------------------------------------------

TEST_F(DailyCountProcessorTest, RecordsAreInvalidPlusLatePlusDuplicatesPlusCounted) {
  Start(kHour);
  Feed(R(1, 1, "2024-01-01T12:00:00Z"));           // counted
  Feed(R(1, 1, "2024-01-01T12:00:00Z"));           // duplicate
  Feed(R(2, 1, "2024-01-01T10:00:00Z"));           // late
  Feed("{}");                                      // invalid
  Feed(R(3, 2, "2024-01-01T11:00:00Z"));           // counted
  Feed(R(3, 1, "2024-01-01T11:30:00Z"));           // duplicate
  Feed(R(4, 1, "2023-02-29T11:30:00Z"));           // invalid
  Feed(R(5, 1, "2024-01-01T13:00:00Z"));           // counted
  Feed(R(6, 1, "2024-01-01T11:59:59Z"));           // late: W = 12:00
  const RecordCounts& c = counts();
  EXPECT_EQ(c.records, 9);
  EXPECT_EQ(c.invalid, 2);
  EXPECT_EQ(c.late, 2);
  EXPECT_EQ(c.duplicates, 2);
  EXPECT_EQ(c.counted, 3);
  EXPECT_EQ(c.invalid_by_reason[static_cast<int>(DeadLetterReason::kMissingField)], 1);
  EXPECT_EQ(c.invalid_by_reason[static_cast<int>(DeadLetterReason::kBadTime)], 1);
  EXPECT_EQ(dead_letters().size(), 4u);  // invalid and late, not duplicates
}

// --- other latenesses ----------------------------------------------------------------------

TEST_F(DailyCountProcessorTest, ZeroLateness) {
  Start(0);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(watermark().value(), Utc(2024, 1, 1, 10));
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kDuplicate);  // t == W, first copy == W
  EXPECT_EQ(Feed(R(2, 1, "2024-01-01T10:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(Feed(R(3, 1, "2024-01-01T09:59:59.999999Z")), Verdict::kLate);
  EXPECT_EQ(Feed(R(4, 1, "2024-01-01T10:00:00.000001Z")), Verdict::kCounted);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z")), Verdict::kLate);  // its first copy has expired
  TriggerOutput out = Trigger();
  EXPECT_EQ(Rows(out.updates), std::vector<Row>{Rw(1, "2024-01-01", 3)});
  EXPECT_TRUE(out.finalized.empty());
  // The first record of the next day closes the day.
  Feed(R(5, 2, "2024-01-02T00:00:00Z"));
  out = Trigger();
  EXPECT_EQ(Rows(out.updates), std::vector<Row>{Rw(2, "2024-01-02", 1)});
  EXPECT_EQ(Rows(out.finalized), std::vector<Row>{Rw(1, "2024-01-01", 3)});
}

TEST_F(DailyCountProcessorTest, DefaultLatenessIsSevenDays) {
  Start();
  EXPECT_EQ(ProcessorOptions{}.lateness, 7 * kMicrosPerDay);
  Feed(R(1, 1, "2024-01-01T12:00:00Z"));
  Feed(R(2, 1, "2024-01-08T12:00:00Z"));  // W = 2024-01-01T12:00:00Z
  EXPECT_EQ(Feed(R(3, 1, "2024-01-01T12:00:00Z")), Verdict::kCounted);
  EXPECT_EQ(Feed(R(4, 1, "2024-01-01T11:59:59.999999Z")), Verdict::kLate);
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T12:00:00Z")), Verdict::kDuplicate);  // still live after 7 days
  EXPECT_TRUE(Trigger().finalized.empty());
  Feed(R(5, 1, "2024-01-08T23:59:59.999999Z"));  // W just short of Jan 2
  EXPECT_TRUE(Trigger().finalized.empty());
  Feed(R(6, 1, "2024-01-09T00:00:00Z"));  // W = 2024-01-02T00:00:00Z
  EXPECT_EQ(Rows(Trigger().finalized), std::vector<Row>{Rw(1, "2024-01-01", 2)});
}

// --- --input-keyed-by-user: the Kafka key must be the UserUUID ---------------------

class UserKeyTest : public DailyCountProcessorTest {
 protected:
  void SetUp() override { Start(kHour, absl::UTCTimeZone(), kDefaultMaxRecordBytes, /*require_user_key=*/true); }
  int64_t wrong_keys() const { return counts().invalid_by_reason[static_cast<int>(DeadLetterReason::kWrongKey)]; }
};

TEST_F(UserKeyTest, ARecordKeyedByItsUserCounts) {
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z"), UserId(1)), Verdict::kCounted);
  // Compared as UUIDs, as UserUUID is parsed: the case of the hex digits does
  // not matter, in the key or in the record.
  const std::string upper = "ABCDEF00-0000-4000-8000-00000000000A";
  const std::string lower = "abcdef00-0000-4000-8000-00000000000a";
  EXPECT_EQ(Feed(Record(EventId(2), lower, Quote("2024-01-01T10:00:00Z")), upper), Verdict::kCounted);
  EXPECT_EQ(Feed(Record(EventId(3), upper, Quote("2024-01-01T10:00:00Z")), lower), Verdict::kCounted);
  EXPECT_EQ(counts().counted, 3);
  EXPECT_TRUE(dead_letters().empty());
}

TEST_F(UserKeyTest, ARecordWhoseKeyIsNotItsUserIsAWrongKeyDeadLetter) {
  const std::string record = R(1, 1, "2024-01-01T10:00:00Z");
  const std::vector<std::pair<std::optional<std::string>, std::string>> keys = {
      {std::nullopt, "the record has no Kafka key"},
      {"", "the Kafka key is not a UUID (0 bytes)"},
      {"learner-1", "the Kafka key is not a UUID (9 bytes)"},
      {"{" + UserId(1) + "}", "the Kafka key is not a UUID (38 bytes)"},  // braces: not as UserUUID is parsed
      {UserId(2), "the Kafka key " + UserId(2) + " is not the record's UserUUID " + UserId(1)},
  };
  for (const auto& [key, detail] : keys) {
    EXPECT_EQ(Feed(record, key ? std::optional<std::string_view>(*key) : std::nullopt), Verdict::kInvalid) << detail;
  }
  ASSERT_EQ(dead_letters().size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const DeadLetter& d = dead_letters()[i];
    EXPECT_STREQ(ReasonName(d.reason), "wrong_key");
    EXPECT_TRUE(d.detail.starts_with(keys[i].second)) << d.detail;
    EXPECT_EQ(d.bytes, record);
    EXPECT_EQ(d.origin.position, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(counts().invalid, 5);
  EXPECT_EQ(wrong_keys(), 5);
  EXPECT_EQ(counts().counted, 0);
  // An invalid record: it moved no watermark and entered no dedup store, so
  // the same event, keyed right, counts.
  EXPECT_FALSE(watermark().has_value());
  EXPECT_EQ(Feed(record, UserId(1)), Verdict::kCounted);
}

TEST_F(UserKeyTest, AWrongKeyMovesNoWatermark) {
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z"), UserId(1)), Verdict::kCounted);
  EXPECT_EQ(Feed(R(2, 2, "2024-01-05T10:00:00Z"), UserId(1)), Verdict::kInvalid);
  EXPECT_EQ(watermark().max_seen(), Utc(2024, 1, 1, 10));
  EXPECT_EQ(Feed(R(3, 1, "2024-01-01T09:30:00Z"), UserId(1)), Verdict::kCounted);
}

TEST_F(UserKeyTest, ARecordInvalidForAnotherReasonKeepsThatReason) {
  EXPECT_EQ(Feed(R(1, 1, "2024-02-30T00:00:00Z"), UserId(2)), Verdict::kInvalid);
  EXPECT_EQ(Feed("not json", std::nullopt), Verdict::kInvalid);
  ASSERT_EQ(dead_letters().size(), 2u);
  EXPECT_EQ(dead_letters()[0].reason, DeadLetterReason::kBadTime);
  EXPECT_EQ(dead_letters()[1].reason, DeadLetterReason::kNotJson);
  EXPECT_EQ(wrong_keys(), 0);
}

// Checked before lateness and dedup: a wrong key is never a duplicate or late
// decision of the task it landed in.
TEST_F(UserKeyTest, AWrongKeyIsNeitherDuplicateNorLate) {
  const std::string first = R(1, 1, "2024-01-01T12:00:00Z");
  EXPECT_EQ(Feed(first, UserId(1)), Verdict::kCounted);
  EXPECT_EQ(Feed(first, UserId(2)), Verdict::kInvalid);  // a copy of a counted event
  EXPECT_EQ(Feed(R(2, 1, "2024-01-01T09:00:00Z"), UserId(2)), Verdict::kInvalid);  // below W
  ASSERT_EQ(dead_letters().size(), 2u);
  EXPECT_EQ(dead_letters()[0].reason, DeadLetterReason::kWrongKey);
  EXPECT_EQ(dead_letters()[1].reason, DeadLetterReason::kWrongKey);
  EXPECT_EQ(counts().duplicates, 0);
  EXPECT_EQ(counts().late, 0);
  EXPECT_EQ(wrong_keys(), 2);
  EXPECT_EQ(Feed(first, UserId(1)), Verdict::kDuplicate);  // still the first copy's
}

TEST_F(UserKeyTest, ProcessBatchChecksEachRecordsKey) {
  const std::string a = R(1, 1, "2024-01-01T10:00:00Z");
  const std::string b = R(2, 2, "2024-01-01T10:00:00Z");
  std::vector<SourceRecord> batch = {SourceRecord{a, RecordOrigin{kPartition, 1}},
                                     SourceRecord{b, RecordOrigin{kPartition, 2}},
                                     SourceRecord{b, RecordOrigin{kPartition, 3}}};
  const std::string key_a = UserId(1), key_b = UserId(2);
  batch[0].key = key_a;
  batch[1].key = key_a;  // not b's user
  batch[2].key = key_b;
  processor_->ProcessBatch(batch, /*padded=*/false);
  ASSERT_EQ(dead_letters().size(), 1u);
  EXPECT_EQ(dead_letters()[0].reason, DeadLetterReason::kWrongKey);
  EXPECT_EQ(dead_letters()[0].origin.position, 2);
  EXPECT_EQ(counts().counted, 2);
}

TEST_F(DailyCountProcessorTest, WithoutRequireUserKeyTheKeyIsIgnored) {
  Start();
  EXPECT_EQ(Feed(R(1, 1, "2024-01-01T10:00:00Z"), std::nullopt), Verdict::kCounted);
  EXPECT_EQ(Feed(R(2, 1, "2024-01-01T10:00:00Z"), UserId(2)), Verdict::kCounted);
  EXPECT_EQ(counts().counted, 2);
}

}  // namespace
}  // namespace tally
