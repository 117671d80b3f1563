#include "kafka/standby_tasks.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "kafka/consumer_assignment.h"

namespace tally {
namespace {

// How long a DescribeGroups may take; the poll loop waits for it.
constexpr int kDescribeTimeoutMs = 2000;

std::string Plural(int64_t n, const char* word) { return absl::StrCat(n, " ", word, n == 1 ? "" : "s"); }

}  // namespace

std::vector<int32_t> ChooseStandbyPartitions(std::vector<GroupMember> members, std::string_view self,
                                             int replicas) {
  std::sort(members.begin(), members.end(),
            [](const GroupMember& a, const GroupMember& b) { return a.member_id < b.member_id; });
  const auto me = std::find_if(members.begin(), members.end(),
                               [&](const GroupMember& m) { return m.member_id == self; });
  std::vector<int32_t> chosen;
  if (me == members.end() || replicas <= 0) return chosen;
  const size_t n = members.size();
  const size_t j = static_cast<size_t>(me - members.begin());
  // The owners whose standbys land on j: those at j-1 .. j-k, k the replicas
  // that fit beside the owner.
  const size_t k = std::min(static_cast<size_t>(replicas), n - 1);
  for (size_t d = 1; d <= k; ++d) {
    const GroupMember& owner = members[(j + n - d) % n];
    chosen.insert(chosen.end(), owner.partitions.begin(), owner.partitions.end());
  }
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

absl::StatusOr<std::vector<GroupMember>> StandbyTasks::DescribeGroup(std::string* self) const {
  char* id = rd_kafka_memberid(options_.consumer);
  *self = id != nullptr ? id : "";
  if (id != nullptr) rd_kafka_mem_free(options_.consumer, id);
  if (self->empty()) return absl::UnavailableError("this process has not joined the group yet");

  const rd_kafka_group_list* list = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_list_groups(options_.consumer, options_.group.c_str(), &list, kDescribeTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("describing group '", options_.group, "': ", rd_kafka_err2str(err)));
  }
  std::unique_ptr<const rd_kafka_group_list, void (*)(const rd_kafka_group_list*)> owned(list,
                                                                                         rd_kafka_group_list_destroy);
  if (list->group_cnt < 1 || list->groups[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("describing group '", options_.group, "': ",
                                               list->group_cnt < 1 ? "no answer" : rd_kafka_err2str(list->groups[0].err)));
  }
  const rd_kafka_group_info& group = list->groups[0];
  // Assignments are whole only in a stable group: while it rebalances some
  // members have none yet.
  if (std::string_view(group.state != nullptr ? group.state : "") != "Stable") {
    return absl::UnavailableError(absl::StrCat("group '", options_.group, "' is ", group.state, " (rebalancing)"));
  }
  std::vector<GroupMember> members;
  for (int i = 0; i < group.member_cnt; ++i) {
    const rd_kafka_group_member_info& m = group.members[i];
    auto topics = ParseConsumerAssignment(
        std::string_view(static_cast<const char*>(m.member_assignment), static_cast<size_t>(m.member_assignment_size)));
    if (!topics.ok()) {
      return absl::Status(topics.status().code(),
                          absl::StrCat("member ", m.member_id, " of group '", options_.group, "': ",
                                       topics.status().message()));
    }
    GroupMember& member = members.emplace_back();
    member.member_id = m.member_id;
    for (const AssignedTopic& t : *topics) {
      if (t.topic == options_.topic) {
        member.partitions.insert(member.partitions.end(), t.partitions.begin(), t.partitions.end());
      }
    }
  }
  return members;
}

void StandbyTasks::Refresh() {
  std::string self;
  auto members = DescribeGroup(&self);
  if (!members.ok()) {
    // Keep the previous choice; ask again at the next Update.
    if (!describe_failed_) {
      Log(absl::StrCat("standby replicas: keeping the previous standby partitions: ", members.status().message()));
    }
    describe_failed_ = true;
    return;
  }
  describe_failed_ = false;
  skipped_.clear();
  next_refresh_ = absl::Now() + options_.refresh_interval;
  std::vector<int32_t> chosen = ChooseStandbyPartitions(*members, self, options_.replicas);
  if (chosen == chosen_ && logged_once_) return;
  chosen_ = std::move(chosen);
  logged_once_ = true;
  Log(absl::StrCat("standby for ", chosen_.empty() ? "no partitions" : "partitions ",
                   absl::StrJoin(chosen_, ", "), " (", Plural(options_.replicas, "replica"), " asked, ",
                   Plural(static_cast<int64_t>(members->size()), "member"), ")"));
}

void StandbyTasks::Update(std::span<const int32_t> owned) {
  std::vector<int32_t> now_owned(owned.begin(), owned.end());
  std::sort(now_owned.begin(), now_owned.end());
  if (now_owned != owned_ || absl::Now() >= next_refresh_ || describe_failed_) {
    owned_ = std::move(now_owned);
    Refresh();
  }
  std::set<int32_t> wanted(chosen_.begin(), chosen_.end());
  for (int32_t p : owned_) wanted.erase(p);
  for (int32_t p : skipped_) wanted.erase(p);
  for (auto it = open_.begin(); it != open_.end();) {
    it = wanted.count(it->first) != 0 ? std::next(it) : open_.erase(it);
  }
  for (int32_t p : wanted) {
    auto it = open_.find(p);
    if (it == open_.end()) {
      auto store = stores_.Restore(p, /*standby=*/true);
      if (!store.ok()) {
        // Tried again after the next refresh of the choice.
        Log(absl::StrCat("standby partition ", p, ": ", store.status().message()));
        skipped_.insert(p);
        continue;
      }
      open_.emplace(p, std::move(*store));
      continue;
    }
    if (auto records = stores_.CatchUp(p, *it->second); !records.ok()) {
      Log(absl::StrCat("standby partition ", p, ": ", records.status().message()));
      open_.erase(it);
      skipped_.insert(p);
    }
  }
}

std::vector<int32_t> StandbyTasks::partitions() const {
  std::vector<int32_t> out;
  for (const auto& [p, store] : open_) out.push_back(p);
  return out;
}

}  // namespace tally
