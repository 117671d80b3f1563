#include <vector>

#include "gtest/gtest.h"
#include "kafka/standby_tasks.h"

namespace tally {
namespace {


// Given out of order: the choice sorts the members by id.
std::vector<GroupMember> Three() { return {{"c", {4, 5}}, {"a", {0, 1}}, {"b", {2, 3}}}; }

TEST(StandbyChoiceTest, OneReplicaGoesToTheNextMember) {
  EXPECT_EQ(ChooseStandbyPartitions(Three(), "a", 1), (std::vector<int32_t>{4, 5}));  // c's, wrapping around
  EXPECT_EQ(ChooseStandbyPartitions(Three(), "b", 1), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(ChooseStandbyPartitions(Three(), "c", 1), (std::vector<int32_t>{2, 3}));
}

TEST(StandbyChoiceTest, TwoReplicasGoToTheNextTwo) {
  EXPECT_EQ(ChooseStandbyPartitions(Three(), "a", 2), (std::vector<int32_t>{2, 3, 4, 5}));
  EXPECT_EQ(ChooseStandbyPartitions(Three(), "b", 2), (std::vector<int32_t>{0, 1, 4, 5}));
}

TEST(StandbyChoiceTest, NeverOnTheOwnerWhenTheGroupIsSmall) {
  // Five replicas asked, two other members: each member holds every partition
  // it does not own, and never its own.
  EXPECT_EQ(ChooseStandbyPartitions(Three(), "a", 5), (std::vector<int32_t>{2, 3, 4, 5}));
  EXPECT_TRUE(ChooseStandbyPartitions({{"a", {0, 1}}}, "a", 1).empty());
  EXPECT_EQ(ChooseStandbyPartitions({{"a", {0}}, {"b", {1}}}, "a", 3), (std::vector<int32_t>{1}));
}

TEST(StandbyChoiceTest, NoneWithoutReplicasOrMembership) {
  EXPECT_TRUE(ChooseStandbyPartitions(Three(), "a", 0).empty());
  EXPECT_TRUE(ChooseStandbyPartitions(Three(), "z", 1).empty());
}

TEST(StandbyChoiceTest, AMemberWithoutPartitionsGivesNone) {
  EXPECT_TRUE(ChooseStandbyPartitions({{"a", {0, 1}}, {"b", {}}, {"c", {2}}}, "c", 1).empty());
  EXPECT_EQ(ChooseStandbyPartitions({{"a", {0, 1}}, {"b", {}}, {"c", {2}}}, "b", 1), (std::vector<int32_t>{0, 1}));
}

}  // namespace
}  // namespace tally
