#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_endpoint.h"
#include "source/source.h"

namespace tally {

enum class StartingOffsets { kEarliest, kLatest };

struct KafkaSourceOptions {
  KafkaEndpoint endpoint;
  std::string group = "tally";
  // Where a partition without a committed offset starts (as Spark's
  // startingOffsets, it applies only then).
  StartingOffsets starting_offsets = StartingOffsets::kEarliest;
  KafkaProperties properties;  // passed through to librdkafka, last
  // Read what the topic holds when the run starts, then end the run (Spark's
  // Trigger.AvailableNow): the run ends once every partition of the topic is
  // processed up to the end offset it had at Open, by this process (read to
  // there; the final trigger commits it) or by the group (its committed
  // offset is there). A partition another member holds is waited for.
  bool available_now = false;
  // Available-now: how often the group's committed offsets of partitions
  // this process does not read are asked for while waiting on them.
  absl::Duration committed_check_interval = absl::Seconds(1);
  // Each learner's records must stay in one partition (the partition of
  // their key, or the topic's only one): a partition added to the topic
  // moves or splits them, so that a learner's events would be counted in
  // two tasks. Poll then fails, naming the topic and both partition counts,
  // rather than count wrong.
  bool refuse_new_partitions = false;
  // Not available-now at the start, but from the first Poll after this is
  // true (BeginAvailableNow): for the repartition topic, whose end is known
  // once the job's first sub-topology has routed the whole input.
  const std::atomic<bool>* available_now_when = nullptr;
  // How long Open waits for the cluster to answer.
  absl::Duration connect_timeout = absl::Seconds(10);
  size_t max_batch = 8192;
};

// Reads one topic as a member of a consumer group (librdkafka's high-level
// consumer; the eager or the cooperative protocol, see Connect). Each
// assigned partition is one partition of the Source contract, with its
// offsets as positions.
//
// The rebalance callback only does what the group protocol needs at once
// (take or give up the partitions) and queues the change; Poll and Idle
// hand the queued changes to the PartitionListener once the consumer call
// returns, before the batch is handed over, so a task's restore or a trigger
// never runs inside librdkafka's callback, where a long one would get the
// member evicted, and a newly assigned partition's task is restored before
// its first record is processed. Records of a partition revoked during a
// consumer call are dropped, never delivered after its revocation. Offsets are never committed behind the
// runtime's back (enable.auto.commit=false): Commit commits the offset after
// every record delivered so far, which the runtime calls once their effects
// are durable. It reads committed data only (isolation.level=read_committed).
//
// Not thread-safe; one per process.
class KafkaSource final : public Source {
 public:
  // Connects and checks that the cluster answers and the topic exists; fails
  // with a message naming the endpoint, the problem and what to do.
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Open(const KafkaSourceOptions& options);
  // Not connected yet; use Open.
  explicit KafkaSource(const KafkaSourceOptions& options);
  ~KafkaSource() override;
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  absl::Status Poll(absl::Duration max_wait, RecordBatch* batch) override;
  std::string Describe() const override { return options_.endpoint.Describe(); }
  const char* position_name() const override { return "offset"; }
  absl::Status Commit() override;
  void SetPartitionListener(PartitionListener* listener) override { listener_ = listener; }
  int64_t Lag() const override;
  void ForEachPartitionLag(const std::function<void(const std::string&, int32_t, int64_t)>& f) const override;
  int64_t PositionAfterEnd(int32_t partition) const override;
  // Pauses every assigned partition and serves the consumer (group
  // membership, rebalances) for `wait`; messages it still delivers are kept
  // for the next Poll, which resumes the partitions.
  absl::Status Idle(absl::Duration wait) override;
  // Seeks every assigned partition to the group's committed offset (or, with
  // none, to where starting_offsets says).
  absl::Status Rewind() override;

  // Turns a running source into an available-now one: the run ends once
  // every partition is processed up to its end offset now (see
  // KafkaSourceOptions::available_now). For a topic that another part of the
  // job writes (the repartition topic), called once that writer is done.
  absl::Status BeginAvailableNow();

  // A stateless reader of the topic (the repartition step's router) may
  // take partitions added while it runs: the learners' partitions are the
  // repartition topic's, which do not change.
  void AcceptNewPartitions() { options_.refuse_new_partitions = false; }

  const std::string& topic() const { return options_.endpoint.topic; }
  // The topic's partitions when the source was opened.
  int32_t partition_count() const { return static_cast<int32_t>(partitions_.size()); }
  const std::string& group() const { return options_.group; }

  // The consumer, for what needs it beside the source (a transactional
  // producer sends offsets with the group's metadata).
  rd_kafka_t* consumer() const { return consumer_.get(); }

 private:
  struct PartitionState {
    bool assigned = false;
    int64_t next_offset = -1;    // after the last record delivered; -1 none yet
    int64_t committed = -1;      // what Commit last committed
    // librdkafka has handed over a message of it since its assignment. Only
    // then may it be paused: librdkafka 2.0.2 resumes a paused partition
    // from the last message it handed over, and one paused before any goes
    // on from where its fetcher was, past the messages the pause discarded.
    bool consumed = false;
    bool paused = false;  // by Idle
    int64_t eof_offset = -1;  // where the last end-of-partition event found it
    // Available-now: the partition's start (log start offset) and end (high
    // watermark) when the run started. Done once it holds nothing, or this
    // process read it up to end_offset; a partition another member holds,
    // once the group's committed offset reached end_offset. (One assigned
    // here is read even then: its task restores, so the run's summary holds
    // the state's totals.)
    int64_t start_offset = 0;
    int64_t end_offset = 0;
    bool reached_end = false;       // read by this process up to end_offset
    int64_t group_committed = -1;   // as last asked for; -1 none or not asked
    bool Done() const {
      return end_offset <= start_offset || (assigned ? reached_end : group_committed >= end_offset);
    }
  };

  // A rebalance's outcome, queued by the callback for the listener.
  struct AssignmentChange {
    bool assigned = false;  // else revoked
    bool lost = false;      // revoked because this member fell out of the group
    std::vector<int32_t> partitions;
  };

  absl::Status Connect();
  // Reads each partition's start and end offsets now (available-now).
  absl::Status MeasureEnds();
  // Hands the queued changes to the listener, in order.
  absl::Status DeliverAssignmentChanges();
  // Fetches up to options_.max_batch messages into `out` (replacing it),
  // waiting at most `wait`, and drops those of partitions revoked meanwhile;
  // one assigned again in the same call is sent back to its committed offset.
  absl::Status Consume(absl::Duration wait, std::vector<rd_kafka_message_t*>* out);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  bool CooperativeProtocol();
  PartitionState& State(int32_t partition);
  void ReleaseMessages();
  // Destroys held messages of `partition` (all, if -1).
  void DropHeld(int32_t partition);
  // Idle: pauses every assigned partition that may be paused (see
  // PartitionState::consumed), including ones that became so since the last
  // call. Poll: resumes them.
  absl::Status PauseWhileIdle();
  // Sends the partitions of `list` back to the group's committed offsets
  // (or, with none, to where starting_offsets says).
  absl::Status SeekToCommitted(rd_kafka_topic_partition_list_t* list);
  absl::Status ResumeAfterIdle();
  bool AvailableNowDone() const;
  // Asks the group's coordinator for the committed offsets of the partitions
  // that are not done and not assigned here (another member reads them).
  void RefreshGroupCommitted();
  absl::Status MessageError(const rd_kafka_message_t& message);
  // With refuse_new_partitions: the error that refuses a topic grown from
  // the partitions seen at Open to `now`.
  absl::Status PartitionsGrownError(const std::string& now) const;
  // With refuse_new_partitions: asks the cluster for the topic's partition
  // count (after a rebalance: it may be the growth's, though the new
  // partitions went to another member).
  absl::Status CheckPartitionCount();

  KafkaSourceOptions options_;
  KafkaHandle consumer_;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue; owned
  PartitionListener* listener_ = nullptr;
  std::vector<PartitionState> partitions_;  // indexed by partition
  int32_t opened_partitions_ = 0;            // the topic's partitions at Open
  bool recheck_partitions_ = false;          // an assignment since the last CheckPartitionCount
  std::vector<rd_kafka_message_t*> messages_;  // the batch in hand; owned
  std::vector<rd_kafka_message_t*> held_;      // delivered while idle; owned
  bool idle_ = false;  // between Idle and the next Poll
  bool closing_ = false;  // in the destructor: rebalances take nothing
  bool cooperative_ = false;  // the group's rebalance protocol, as last known (see CooperativeProtocol)
  bool assigned_once_ = false;  // the group gave this member an assignment (maybe empty)
  absl::Time next_committed_check_ = absl::InfinitePast();
  std::vector<AssignmentChange> changes_;  // queued by OnRebalance
  std::vector<int32_t> revoked_in_call_;    // by OnRebalance during the current Consume
};

}  // namespace tally
