#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/changelog_store_provider.h"
#include "kafka/kafka_config.h"
#include "state/local_state_store.h"

namespace tally {

// A member of the consumer group and the input partitions it owns.
struct GroupMember {
  std::string member_id;
  std::vector<int32_t> partitions;
};

// The partitions member `self` keeps standby replicas of (sorted): the
// members sorted by member id, a partition owned by the member at index i
// has its standbys on the members at i+1 .. i+replicas (mod the member
// count), never on its owner (so fewer than `replicas` in a smaller group).
// Empty if `self` is not among the members.
std::vector<int32_t> ChooseStandbyPartitions(std::vector<GroupMember> members, std::string_view self,
                                             int replicas);

struct StandbyTasksOptions {
  rd_kafka_t* consumer = nullptr;  // the source's: its group and member id
  std::string topic;               // the input topic
  std::string group;
  int replicas = 0;
  // How often the group's assignment is asked for when this process's own
  // partitions have not changed.
  absl::Duration refresh_interval = absl::Seconds(5);
  std::function<void(const std::string&)> log;  // may be empty
};

// Standby replicas (Kafka Streams' standby tasks): warm local stores of
// partitions other members of the group own, kept up to their changelog, so
// that when one of them moves here its task restores only the changelog's
// tail. They live in the state dir as the owned tasks' stores do
// (DIR/partition-N), so the task that opens one later simply finds its
// checkpoint.
//
// Which partitions: the group's assignment as the coordinator describes it
// (rd_kafka_list_groups), chosen by ChooseStandbyPartitions, minus the
// partitions this process owns. A standby is an optimization: a failure to
// describe the group, open a store or read a changelog is logged, never
// fatal (the task restores more when it comes).
//
// Not thread-safe; used from the poll loop's thread.
class StandbyTasks {
 public:
  StandbyTasks(ChangelogStoreProvider& stores, StandbyTasksOptions options)
      : stores_(stores), options_(std::move(options)) {}

  // Closes the standby store of `partition`, if open: its task is about to
  // open it (ChangelogStoreProvider::SetBeforeOpen). The files stay.
  void Release(int32_t partition) { open_.erase(partition); }

  // Called after each commit with the partitions whose tasks this process
  // holds: asks the group's assignment again if those changed or the
  // refresh interval passed, closes standby stores no longer chosen (their
  // files stay: they may serve later), opens newly chosen ones, and brings
  // every open one up to its changelog's end.
  void Update(std::span<const int32_t> owned);

  // The partitions whose standby stores are open.
  std::vector<int32_t> partitions() const;

 private:
  // The group's members and their partitions of the topic, and this
  // member's id; Unavailable while the group rebalances.
  absl::StatusOr<std::vector<GroupMember>> DescribeGroup(std::string* self) const;
  void Refresh();
  void Log(const std::string& message) const {
    if (options_.log) options_.log(message);
  }

  ChangelogStoreProvider& stores_;
  StandbyTasksOptions options_;
  std::map<int32_t, std::unique_ptr<LocalStateStore>> open_;
  std::vector<int32_t> chosen_;  // by the last Refresh that succeeded
  std::vector<int32_t> owned_;   // as the last Update was told
  std::set<int32_t> skipped_;    // failed since the last Refresh (logged); tried again after it
  absl::Time next_refresh_ = absl::InfinitePast();
  bool describe_failed_ = false;  // logged; cleared by a success
  bool logged_once_ = false;      // the standby set was logged at least once
};

}  // namespace tally
