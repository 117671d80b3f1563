#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"

namespace tally {

// The changelog topic of a job's task state (Kafka Streams' changelog): one
// partition per input partition, partition N holding the state changes of the
// task of input partition N, written only inside the job's transactions.
// Compacted (cleanup.policy=compact), so it keeps the last value of every
// key and drops keys whose last record is a tombstone: its size follows the
// live state, not the stream's length.

// The changelog's name for a job: "<group>-<input topic>-changelog".
std::string ChangelogTopicName(const std::string& group, const std::string& input_topic);

// The name of the topic that keeps a job's settings (kafka/job_settings.h):
// "<group>-<input topic>-settings".
std::string JobSettingsTopicName(const std::string& group, const std::string& input_topic);

// The repartition topic of a job on a topic not keyed by learner:
// "GROUP-TOPIC-repartition" (Kafka Streams' name for the same thing).
std::string RepartitionTopicName(const std::string& group, const std::string& input_topic);

// Creates the repartition topic with `partitions` partitions if missing
// (cleanup.policy=delete, no time limit: the job deletes what it consumed,
// DeleteRecords, once committed); an existing one must have exactly
// `partitions` (a learner's partition is a hash modulo the count: another
// count would split learners). FailedPrecondition naming the fix otherwise.
absl::Status EnsureRepartitionTopic(rd_kafka_t* client, const std::string& topic, int32_t partitions,
                                    absl::Duration timeout = absl::Seconds(30));

// Makes sure `topic` exists with at least `partitions` partitions and
// cleanup.policy=compact, creating it if missing (replication factor: the
// broker's default.replication.factor, i.e. -1 in CreateTopics). `client` is
// any connected librdkafka handle. Fails, naming the topic, what is wrong and
// what to do, if it exists with fewer partitions or another cleanup.policy,
// or cannot be created or described within `timeout`.
absl::Status EnsureChangelogTopic(rd_kafka_t* client, const std::string& topic, int32_t partitions,
                                  absl::Duration timeout = absl::Seconds(30));

// The offsets a changelog partition holds: from `start` (its log start
// offset) to `end` (its high watermark, the offset its next record gets).
struct ChangelogOffsets {
  int64_t start = 0;
  int64_t end = 0;
};

// Asks the cluster for partition `partition` of `topic`'s offsets (read
// uncommitted: `end` is past any open transaction). NotFound if there is no
// such topic or partition; Unavailable if the cluster does not answer within
// `timeout`.
absl::StatusOr<ChangelogOffsets> ReadChangelogOffsets(const std::string& bootstrap_servers,
                                                      const KafkaProperties& properties, const std::string& topic,
                                                      int32_t partition, absl::Duration timeout = absl::Seconds(30));

// One record read back from a changelog partition.
struct ChangelogRecord {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: a tombstone
  int64_t offset = 0;
};

// Reads partition `partition` of `topic` from `from_offset` to its end, the
// committed records only (isolation.level=read_committed; aborted
// transactions are skipped), calling `f` for each in order. The end is the
// partition's high watermark when the call starts: a transaction still open
// there (another process's, not yet aborted by the broker's
// transaction.timeout.ms) is waited for. Returns the offset after the end,
// the checkpoint to give the next call.
//
// OutOfRange if `from_offset` is beyond the partition's end or before its
// start (the topic was deleted and made again: a local checkpoint of it is
// worthless; restore from 0). Unavailable if the cluster does not answer
// within `timeout` (overall, not per record). A callback error stops the read
// and is returned.
absl::StatusOr<int64_t> ReadChangelog(const std::string& bootstrap_servers, const KafkaProperties& properties,
                                      const std::string& topic, int32_t partition, int64_t from_offset,
                                      const std::function<absl::Status(const ChangelogRecord&)>& f,
                                      absl::Duration timeout = absl::Minutes(5));

}  // namespace tally
