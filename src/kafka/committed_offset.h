#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"

namespace tally {

// The offset consumer group `group` has committed for partition `partition`
// of `topic`, or -1 if it has committed none. Asked with a consumer that never
// joins the group (an OffsetFetch to its coordinator), so it disturbs no
// member and may be called at any time, a rebalance included. Unavailable if
// the cluster does not answer within `timeout`.
absl::StatusOr<int64_t> ReadCommittedOffset(const std::string& bootstrap_servers, const KafkaProperties& properties,
                                            const std::string& group, const std::string& topic, int32_t partition,
                                            absl::Duration timeout = absl::Seconds(30));

}  // namespace tally
