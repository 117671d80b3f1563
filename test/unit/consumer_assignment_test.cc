#include "kafka/consumer_assignment.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tally {
namespace {


std::string Int16(int v) { return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }
std::string Int32(int64_t v) {
  return {static_cast<char>((v >> 24) & 0xff), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}
std::string Topic(const std::string& name, std::initializer_list<int> partitions) {
  std::string out = Int16(static_cast<int>(name.size())) + name + Int32(static_cast<int64_t>(partitions.size()));
  for (int p : partitions) out += Int32(p);
  return out;
}

TEST(ConsumerAssignmentTest, DecodesTopicsAndSkipsUserdata) {
  const std::string bytes =
      Int16(1) + Int32(2) + Topic("events", {0, 3, 300}) + Topic("other", {}) + Int32(3) + "abc";
  auto topics = ParseConsumerAssignment(bytes);
  ASSERT_TRUE(topics.ok()) << topics.status();
  ASSERT_EQ(topics->size(), 2u);
  EXPECT_EQ((*topics)[0].topic, "events");
  EXPECT_EQ((*topics)[0].partitions, (std::vector<int32_t>{0, 3, 300}));
  EXPECT_EQ((*topics)[1].topic, "other");
  EXPECT_TRUE((*topics)[1].partitions.empty());
}

TEST(ConsumerAssignmentTest, NullUserdataAndNoUserdataAtAll) {
  auto with_null = ParseConsumerAssignment(Int16(0) + Int32(1) + Topic("t", {7}) + Int32(-1));
  ASSERT_TRUE(with_null.ok()) << with_null.status();
  EXPECT_EQ((*with_null)[0].partitions, (std::vector<int32_t>{7}));
  auto without = ParseConsumerAssignment(Int16(3) + Int32(1) + Topic("t", {1, 2}));
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ((*without)[0].partitions, (std::vector<int32_t>{1, 2}));
}

TEST(ConsumerAssignmentTest, EmptyBytesAreNoAssignment) {
  auto topics = ParseConsumerAssignment("");
  ASSERT_TRUE(topics.ok());
  EXPECT_TRUE(topics->empty());
}

TEST(ConsumerAssignmentTest, RefusesTruncatedAndNegative) {
  const std::string whole = Int16(1) + Int32(1) + Topic("events", {0, 1});
  for (size_t n = 1; n < whole.size(); ++n) {
    auto topics = ParseConsumerAssignment(whole.substr(0, n));
    EXPECT_TRUE(absl::IsInvalidArgument(topics.status())) << n << " bytes: " << topics.status();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ParseConsumerAssignment(Int16(1) + Int32(-1)).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(ParseConsumerAssignment(Int16(1) + Int32(1) + Int16(1) + "t" + Int32(-2)).status()));
}

}  // namespace
}  // namespace tally
