#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/dead_letter.h"
#include "core/record_parser.h"
#include "kafka/kafka_dead_letter_sink.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "runtime/metrics.h"

namespace tally {

// The router producer's transaction.timeout.ms unless --kafka sets it: how
// long a stalled or cut-off router's open transaction blocks the whole
// group's counting before the broker aborts it (Kafka Streams' value under
// exactly once). Its transactions last a commit interval, well within it.
inline constexpr absl::Duration kRouterTransactionTimeout = absl::Seconds(10);

struct RepartitionRouterOptions {
  std::string repartition_topic;  // GROUP-TOPIC-repartition
  int32_t partitions = 1;         // its partition count
  FieldNames field_names;
  absl::TimeZone input_zone = absl::UTCTimeZone();
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  // How often its transaction commits: the --trigger interval, 1 s at most.
  // Each open transaction holds back the repartition topic's last stable
  // offset, so every counter of the group reads routed records only after
  // the commit (latency), and a router that stalls or is cut off stops all
  // counting until the broker aborts its transaction (see
  // kRouterTransactionTimeout). Kafka Streams commits every 100 ms under
  // exactly once; a second keeps the commit's broker round trips negligible.
  absl::Duration commit_interval = absl::Seconds(1);
  // A transaction commits early once this much was produced in it.
  size_t max_transaction_bytes = 16 << 20;
  absl::Duration max_poll_wait = absl::Milliseconds(200);
  // Where the input's lag per partition is published, at each commit; null: nowhere.
  Metrics* metrics = nullptr;
  // Either set: commit what is routed and return (a stop was asked for; the
  // counting side of the job has ended).
  const std::atomic<bool>* stop = nullptr;
  const std::atomic<bool>* stop_too = nullptr;
};

// What a router run did.
struct RepartitionRouterResult {
  int64_t records_read = 0;
  int64_t routed = 0;        // valid records written to the repartition topic
  int64_t dead_letters = 0;  // invalid ones
  int64_t transactions = 0;
};

// Sub-topology 0 of a job on a topic not keyed by learner (Kafka Streams'
// repartition step): reads the input, parses and validates each record,
// writes each valid one to the repartition topic in the partition of its
// learner (RepartitionPartition), as a RepartitionRecord, and each invalid one
// to the dead letters. Exactly once: what it writes and the input offsets it
// consumed commit in one transaction, every commit interval; an abort, or a
// revocation, aborts the open transaction and rewinds the input to the
// committed offsets. Stateless: a task here is only a partition's position.
//
// Not thread-safe; Run on one thread (its own: the counting sub-topology
// runs beside it).
class RepartitionRouter final : public PartitionListener {
 public:
  RepartitionRouter(KafkaSource& source, KafkaTransaction& transaction, KafkaDeadLetterSink& dead_letters,
                    RepartitionRouterOptions options);

  // Routes until the stop flag is set or (available-now) the input is done,
  // then commits what it holds. An error is fatal; nothing after the last
  // commit is kept.
  absl::StatusOr<RepartitionRouterResult> Run();

  absl::Status OnPartitionsRevoked(std::span<const int32_t> partitions, bool lost) override;
  absl::Status OnPartitionsAssigned(std::span<const int32_t> partitions) override;

 private:
  absl::Status Route(const RecordBatch& batch);
  // Commits the open transaction: dead letters, the input offsets, commit.
  // Aborted: redo from the last commit (AbortAndRewind).
  absl::Status Commit();
  absl::Status AbortAndRewind();
  bool StopRequested() const {
    return (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) ||
           (options_.stop_too != nullptr && options_.stop_too->load(std::memory_order_relaxed));
  }

  KafkaSource& source_;
  KafkaTransaction& transaction_;
  KafkaDeadLetterSink& dead_letters_;
  RepartitionRouterOptions options_;
  RecordParser parser_;
  RepartitionRouterResult result_;
  // Per input partition: the offset after the last record routed in the
  // open transaction (-1: none).
  std::vector<int64_t> next_offset_;
  std::vector<DeadLetter> letters_;  // of the open transaction
  size_t transaction_bytes_ = 0;
  int64_t transaction_records_ = 0;
  // Set by AbortAndRewind: a batch polled across it holds records from
  // before the seek, which are read again after it.
  bool rewound_ = false;
  std::string key_, value_;          // reused: no allocation per record
};

}  // namespace tally
