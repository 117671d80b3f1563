#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cli/kafka_flags.h"

namespace tally {

// Flags of `tally run`, as given (validated when the command runs).
struct RunFlags {
  std::string source;
  std::string sink = "console";
  std::string summary;
  std::string dead_letter;
  std::string lateness = "7d";
  std::string input_timezone = "UTC";
  std::string trigger = "5s";
  std::string event_id_field = "EventUUID";
  std::string user_id_field = "UserUUID";
  std::string event_name_field = "EventName";
  std::string created_at_field = "CreatedAt";
  size_t max_record_bytes = 1 << 20;
  size_t console_rows = 20;
  // Kafka source and dead-letter topic.
  std::string group = "tally";
  std::string starting_offsets = "earliest";
  KafkaClientFlags kafka;
  bool available_now = false;
  // The producer keys each record by its UserUUID: count per input partition.
  bool input_keyed_by_user = false;
  // Partitions of the repartition topic (0: the input's count).
  int partitions = 0;
  // Where a Kafka source's task state lives (durable, exactly once).
  std::string state_dir = "tally-state";
  // Memory for the dedup state (e.g. 256MiB); beyond it, state spills to
  // local disk. Empty: no bound, all in memory.
  std::string state_memory;
  std::string startup_wait = "2m";
  // Copy the local state back to a changelog topic that lost it, then exit.
  bool reseed_changelog = false;
  // Warm copies of other members' task state kept per partition.
  int standby_replicas = 0;
  // Cassandra / Keyspaces sink.
  std::string cassandra_replication = "{'class': 'SimpleStrategy', 'replication_factor': 1}";
  std::string cassandra_auth = "plain";  // plain (--cassandra-username, if given) or sigv4 (AWS credentials)
  std::string aws_region;               // sigv4: empty reads AWS_REGION, AWS_DEFAULT_REGION, the endpoint
  std::string cassandra_username;
  std::string cassandra_password;
  bool cassandra_tls = false;
  std::string cassandra_ca_file;
  bool cassandra_skip_verify = false;
  bool cassandra_allow_plaintext_auth = false;
  int cassandra_in_flight = 1024;
  // HOST:PORT of /metrics, /healthz and /readyz; empty: not served.
  std::string http;
};

// Declares `run` and its flags on `app`; the flags land in *flags.
CLI::App* AddRunCommand(CLI::App& app, RunFlags* flags);

// Runs the job. Returns the process exit code; reports on stderr.
int RunCommand(const RunFlags& flags);

}  // namespace tally
