#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_producer.h"

namespace tally {

// The transactions of one transactional producer (librdkafka's transactional
// API, Kafka's exactly-once v2 with the consumer's group metadata): the
// records produced between Begin and Commit, and the consumer offsets sent with
// them, become visible to read_committed readers together or not at all.
//
// A failed call's status says what the caller does next:
//   - Aborted: the transaction can't commit (abortable error). Call Abort,
//     then redo the work from the last committed transaction.
//   - Unavailable / DeadlineExceeded: retriable (a broker down, a timeout).
//     Call the same method again; the transaction is intact.
//   - FailedPrecondition: fatal. The producer was fenced (another process
//     with the same transactional.id, or a newer member of the group, owns
//     the work now) or the cluster refuses transactions. Stop; the process
//     must exit without committing anything more.
// Messages name the cluster and librdkafka's reason.
//
// How long the steps of one transaction (begin, send offsets, commit) may be
// retried in all: well below `transaction_timeout` (transaction.timeout.ms).
// Past that the broker aborts the transaction by itself and bumps the
// producer's epoch, so a step retried any longer would end fenced (fatal)
// rather than merely aborted (redone). A quarter is left for the round trips
// of the abort that follows a give-up.
absl::Duration TransactionRetryWindow(absl::Duration transaction_timeout);

// Not thread-safe.
class KafkaTransaction {
 public:
  // Opens a producer with transactional.id = `transactional_id` (idempotent,
  // acks=all) and initializes transactions, which fences any earlier producer
  // with that id and aborts its open transaction. A cluster without
  // transaction support (too old, or a transaction log it cannot place: e.g.
  // transaction.state.log.replication.factor above the number of brokers)
  // fails with FailedPrecondition naming it and the broker settings to check.
  // `transaction_timeout` is the producer's transaction.timeout.ms unless
  // `properties` set it: how long the broker lets an open transaction of a
  // dead or stalled process hold back read_committed readers before it
  // aborts it. Transactions of this producer must commit well within it.
  static absl::StatusOr<std::unique_ptr<KafkaTransaction>> Open(const std::string& bootstrap_servers,
                                                                const std::string& transactional_id,
                                                                const KafkaProperties& properties,
                                                                absl::Duration timeout = absl::Seconds(30),
                                                                absl::Duration transaction_timeout = absl::Seconds(60));
  KafkaTransaction(std::unique_ptr<KafkaProducer> producer, absl::Duration timeout);
  ~KafkaTransaction();
  KafkaTransaction(const KafkaTransaction&) = delete;
  KafkaTransaction& operator=(const KafkaTransaction&) = delete;

  absl::Status Begin();

  // The producer: produce the transaction's records through it between Begin
  // and Commit (KafkaProducer::Produce / ProduceTo).
  KafkaProducer& producer() { return *producer_; }

  // Adds `offsets` (the next offset to read, per input partition) of the
  // consumer `consumer` to the transaction, with the consumer's group
  // metadata, so a zombie from an older generation of the group is fenced.
  // Waits until `deadline` at most (and the timeout given to Open).
  absl::Status SendOffsets(rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t* offsets,
                           absl::Time deadline = absl::InfiniteFuture());

  // Commits: flushes every record, then commits. On success every record
  // produced since Begin is acknowledged and
  // producer().LastOffset(topic, partition) tells where they went. Waits
  // until `deadline` at most (and the timeout given to Open); a timeout is
  // retriable.
  absl::Status Commit(absl::Time deadline = absl::InfiniteFuture());

  // Aborts the open transaction, if any; ok if none is open.
  absl::Status Abort();

  // The end of a transaction, one sequence for every user (the counting
  // tasks' committer and the repartition router): adds `offsets` (if any
  // partition) of `consumer`'s group, then commits, each step retried while
  // it fails retriably, until `give_up`. A failure ends as AbortAfter says.
  absl::Status CommitWithOffsets(rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t* offsets,
                                 absl::Time give_up);

  // After a step of the transaction failed with `failure` (from this class,
  // or the caller's own, such as a record it could not produce): a fatal
  // failure (FailedPrecondition, Internal) is returned as it is. Any other
  // aborts the transaction and returns Aborted: redo the work from the last
  // commit. It is a cluster away longer than the retry window, an abortable
  // error, or a stall of this process past its session timeout (its late
  // offsets are refused). Unless a redo cannot cure it, which returns
  // FailedPrecondition: the abort itself failed fatally, a record of the
  // transaction can never be delivered (a redo would produce it again), or
  // this is the kMaxConsecutiveAborts-th abort without a commit between (a
  // redo that fails so often would fail forever).
  absl::Status AbortAfter(const absl::Status& failure);
  static constexpr int kMaxConsecutiveAborts = 5;

  bool in_transaction() const { return in_transaction_; }

  // The producer's transaction.timeout.ms (tally's 60 s, or the user's
  // --kafka value), and the retry window derived from it.
  absl::Duration transaction_timeout() const { return transaction_timeout_; }
  absl::Duration retry_window() const { return TransactionRetryWindow(transaction_timeout_); }

 private:
  // The timeout of one call that must end by `deadline`.
  int CallTimeoutMs(absl::Time deadline) const;

  // Turns a librdkafka transactional error into the statuses above.
  absl::Status Classify(const char* what, rd_kafka_error_t* error);

  std::unique_ptr<KafkaProducer> producer_;
  absl::Duration timeout_;
  absl::Duration transaction_timeout_;
  bool in_transaction_ = false;
  int consecutive_aborts_ = 0;  // by AbortAfter, since the last commit
};

// A step of a transaction that failed retriably (Unavailable,
// DeadlineExceeded: a broker away) leaves the transaction intact: it may be
// called again.
inline bool IsRetriableTransactionStep(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

// Runs `call` (a step of a transaction) until it succeeds, fails for a
// reason a retry cannot cure, or `give_up` is less than half a second away.
template <typename Call>
absl::Status RetryTransactionStep(absl::Time give_up, Call&& call) {
  for (;;) {
    absl::Status s = call();
    if (!IsRetriableTransactionStep(s) || absl::Now() + absl::Milliseconds(500) >= give_up) return s;
    absl::SleepFor(absl::Milliseconds(500));
  }
}

}  // namespace tally
