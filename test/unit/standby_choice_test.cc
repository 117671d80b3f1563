#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kafka/standby_tasks.h"

namespace tally {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Given out of order: the choice sorts the members by id.
std::vector<GroupMember> Three() { return {{"c", {4, 5}}, {"a", {0, 1}}, {"b", {2, 3}}}; }

TEST(StandbyChoiceTest, OneReplicaGoesToTheNextMember) {
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "a", 1), ElementsAre(4, 5));  // c's, wrapping around
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "b", 1), ElementsAre(0, 1));
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "c", 1), ElementsAre(2, 3));
}

TEST(StandbyChoiceTest, TwoReplicasGoToTheNextTwo) {
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "a", 2), ElementsAre(2, 3, 4, 5));
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "b", 2), ElementsAre(0, 1, 4, 5));
}

TEST(StandbyChoiceTest, NeverOnTheOwnerWhenTheGroupIsSmall) {
  // Five replicas asked, two other members: each member holds every partition
  // it does not own, and never its own.
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "a", 5), ElementsAre(2, 3, 4, 5));
  EXPECT_THAT(ChooseStandbyPartitions({{"a", {0, 1}}}, "a", 1), IsEmpty());
  EXPECT_THAT(ChooseStandbyPartitions({{"a", {0}}, {"b", {1}}}, "a", 3), ElementsAre(1));
}

TEST(StandbyChoiceTest, NoneWithoutReplicasOrMembership) {
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "a", 0), IsEmpty());
  EXPECT_THAT(ChooseStandbyPartitions(Three(), "z", 1), IsEmpty());
}

TEST(StandbyChoiceTest, AMemberWithoutPartitionsGivesNone) {
  EXPECT_THAT(ChooseStandbyPartitions({{"a", {0, 1}}, {"b", {}}, {"c", {2}}}, "c", 1), IsEmpty());
  EXPECT_THAT(ChooseStandbyPartitions({{"a", {0, 1}}, {"b", {}}, {"c", {2}}}, "b", 1), ElementsAre(0, 1));
}

}  // namespace
}  // namespace tally
