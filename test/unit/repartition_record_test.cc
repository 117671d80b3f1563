#include "core/repartition_record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tally {
namespace {

Event SomeEvent() {
  Event e;
  e.event_id = Uuid{0x0123456789abcdefull, 0xfedcba9876543210ull};
  e.user_id = Uuid{0x1111222233334444ull, 0x5555666677778888ull};
  e.event_time = -1234567;  // before 1970 decodes too
  return e;
}

TEST(RepartitionRecord, RoundTrips) {
  std::string value;
  const std::string original = "{\"EventUUID\":\"...\"}\r";
  EncodeRepartitionValue(SomeEvent(), RecordOrigin{7, 1234567890123}, original, &value);
  EXPECT_EQ(value.size(), kRepartitionHeaderBytes + original.size());
  RepartitionRecord r;
  ASSERT_TRUE(DecodeRepartitionValue(value, &r).ok());
  EXPECT_EQ(r.event.event_id, SomeEvent().event_id);
  EXPECT_EQ(r.event.user_id, SomeEvent().user_id);
  EXPECT_EQ(r.event.event_time, SomeEvent().event_time);
  EXPECT_EQ(r.input_origin.partition, 7);
  EXPECT_EQ(r.input_origin.position, 1234567890123);
  EXPECT_EQ(r.original, original);
}

TEST(RepartitionRecord, EmptyOriginalAndReusedBuffer) {
  std::string value(1000, 'x');
  EncodeRepartitionValue(SomeEvent(), RecordOrigin{0, 0}, "", &value);
  RepartitionRecord r;
  ASSERT_TRUE(DecodeRepartitionValue(value, &r).ok());
  EXPECT_TRUE(r.original.empty());
}

TEST(RepartitionRecord, TruncatedOrForeignValuesAreDataLoss) {
  std::string value;
  EncodeRepartitionValue(SomeEvent(), RecordOrigin{1, 2}, "abc", &value);
  RepartitionRecord r;
  for (size_t n = 0; n < kRepartitionHeaderBytes; ++n) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeRepartitionValue(std::string_view(value).substr(0, n), &r))) << n;
  }
  value[0] = 2;  // a format this version does not read
  EXPECT_TRUE(absl::IsDataLoss(DecodeRepartitionValue(value, &r)));
}

TEST(RepartitionRecord, PartitionIsStableAndSpreads) {
  // Fixed values: a change of the hash would move learners between
  // partitions of a running job.
  EXPECT_EQ(RepartitionPartition(SomeEvent().user_id, 6), 5);
  EXPECT_EQ(RepartitionPartition(Uuid{1, 2}, 6), 0);
  std::vector<int> per(6);
  for (uint64_t i = 0; i < 6000; ++i) ++per[RepartitionPartition(Uuid{i * 7919, i}, 6)];
  for (int n : per) EXPECT_GT(n, 800) << "a partition gets far less than its share";
}

TEST(RepartitionRecord, KeyIsTheUserId) {
  std::string key;
  EncodeRepartitionKey(SomeEvent().user_id, &key);
  ASSERT_EQ(key.size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(key[0]), 0x44);  // little-endian hi first
}

}  // namespace
}  // namespace tally
