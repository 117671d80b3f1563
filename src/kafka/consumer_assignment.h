#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tally {

// One topic's partitions in a consumer's assignment.
struct AssignedTopic {
  std::string topic;
  std::vector<int32_t> partitions;
};

// Decodes the member assignment a group coordinator keeps for each member
// of a consumer group (Kafka's ConsumerProtocolAssignment, as DescribeGroups
// returns it; versions 0 to 3 share this layout), big-endian:
//   int16 version
//   int32 topic count, then per topic:
//     int16 name length, name bytes, int32 partition count, int32 partitions
//   int32 userdata length (-1: none), userdata bytes
// The userdata is skipped. Empty bytes decode as no topics (a member the
// group has not yet given an assignment). InvalidArgument, saying where,
// for bytes that end early or hold a negative count.
absl::StatusOr<std::vector<AssignedTopic>> ParseConsumerAssignment(std::string_view bytes);

}  // namespace tally
