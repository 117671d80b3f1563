#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"

namespace tally {

// A job's settings: what every process of one job (one --group on one input
// topic) must agree on, because they change what is counted or where it goes.
// Processes that share a group share the input's partitions and the state in
// the changelog; if one counted with 3 days of lateness and another with 7,
// or wrote to another table, the job's counts would be a mix of both.
//
// What is not here may differ between processes: how to reach the servers
// (bootstrap servers, Cassandra contact points' credentials, TLS, librdkafka
// tuning), the trigger interval, the state dir, the console's row count, and
// a csv sink's path (a Kafka job's csv holds the rows that process wrote: it
// is the process's own output, not the job's table).
struct JobSettings {
  // Bumped whenever a field is added, removed or changes meaning: a process
  // refuses a job whose settings were written in a format it does not know.
  // The format also versions the job's changelog, which every process of it
  // reads: 2 logs counted events and no window rows (state/state_codec.h).
  static constexpr int kFormatVersion = 2;

  int format_version = kFormatVersion;
  std::string input_topic;
  absl::Duration lateness = absl::ZeroDuration();
  std::string event_id_field;
  std::string user_id_field;
  std::string event_name_field;
  std::string created_at_field;
  std::string input_timezone;  // the IANA name as given
  int64_t max_record_bytes = 0;
  // Where the counts go, never with a secret: "console", "csv" (the path is
  // the process's own, see above), or the Cassandra table's URL with any
  // userinfo redacted (RedactUserinfo).
  std::string sink;
  // The dead-letter topic's name (always on the input's cluster).
  std::string dead_letter_topic;
  // Whether tally reads the input as keyed by UserUUID (no repartition
  // step), and the repartition topic's partition count (0: none). Part of the
  // format from the start, so the steps that add them need no new format.
  bool input_keyed_by_user = false;
  int32_t repartition_partitions = 0;

  bool operator==(const JobSettings&) const = default;
};

// The settings as a small JSON object on one line, readable with
// kafka-console-consumer: {"format":2,"input_topic":"babbel","lateness":"7d",...}.
// The lateness is written in its largest exact unit ("3d", "36h", "500ms").
std::string EncodeJobSettings(const JobSettings& settings);

// Parses what EncodeJobSettings wrote. Strict: a JSON object with every key
// of its format exactly once, each of its type, and no other key. A record of
// a newer format is returned with only `format_version` set (its layout is
// not this version's to judge); InvalidArgument, saying what is wrong, for
// anything else that is not a settings record.
absl::StatusOr<JobSettings> DecodeJobSettings(std::string_view text);

// One setting that differs: the flag that sets it, and its value in this
// process and in the job, as a person reads them.
struct SettingDifference {
  std::string flag;
  std::string ours;
  std::string job;
};

// Every setting in which `ours` differs from `job`, in the order of the
// struct. Empty if they agree. Both must be of this format version.
std::vector<SettingDifference> CompareJobSettings(const JobSettings& ours, const JobSettings& job);

// Where CheckJobSettings keeps the settings and how it reaches the cluster.
struct JobSettingsTopic {
  std::string bootstrap_servers;
  KafkaProperties properties;
  std::string group;
  std::string topic;  // JobSettingsTopicName(group, input topic)
};

// The job's settings live in an internal topic (`where.topic`): one
// partition, cleanup.policy=compact (never expired by retention). The FIRST
// settings record in it is the job's settings, for the job's life. Each
// record has a key of its own, so compaction never drops the first.
//
// A start makes sure it runs with its job's settings in two steps:
//   1. CheckJobSettings, before the sink is opened: if the job has settings,
//      they must be this process's;
//   2. if it had none, RecordJobSettings, once every other part of the start
//      has succeeded: a start that fails (a sink unreachable or misnamed)
//      binds the job to nothing, and the corrected start is not refused.

// Creates the topic if missing, through `admin` (any connected librdkafka
// handle), and reads it from the beginning to its end (read_committed). True
// if it holds settings and they are `ours`; false if it holds none yet.
//
// FailedPrecondition, naming every differing setting with both values, if
// the job's settings are not `ours`; naming the topic and what to do if the
// topic has more than one partition or is not compacted, or if its first
// record is not a settings record or is of another format. Unavailable if
// the cluster does not answer within `timeout` (a retry may cure it).
absl::StatusOr<bool> CheckJobSettings(rd_kafka_t* admin, const JobSettingsTopic& where, const JobSettings& ours,
                                      absl::Duration timeout = absl::Seconds(30));

// Makes `ours` the job's settings if the topic (checked by CheckJobSettings)
// is still empty: produces them, waits for the acknowledgement, reads the
// topic again and compares with its first record, whoever wrote it. Of
// processes that start at once with other settings, one wins and the others
// get the FailedPrecondition of CheckJobSettings. Unavailable if the cluster
// does not answer within `timeout`.
absl::Status RecordJobSettings(const JobSettingsTopic& where, const JobSettings& ours,
                               absl::Duration timeout = absl::Seconds(30));

}  // namespace tally
