#include "kafka/kafka_transaction.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

struct KafkaErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using KafkaError = std::unique_ptr<rd_kafka_error_t, KafkaErrorDeleter>;

struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* m) const { rd_kafka_consumer_group_metadata_destroy(m); }
};

// What a failed init_transactions means. The cluster answered a metadata
// request already (KafkaProducer::Open checks), so a coordinator that never
// comes within the whole timeout is a cluster that cannot run transactions:
// most often a transaction log whose replication factor or min.isr the brokers
// cannot meet, where every FindCoordinator answers COORDINATOR_NOT_AVAILABLE.
absl::Status InitError(const std::string& servers, const std::string& id, absl::Duration timeout,
                       const rd_kafka_error_t* error) {
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  const std::string what = absl::StrCat("kafka://", servers, ": cannot initialize transactions for transactional.id '",
                                        id, "' (", rd_kafka_error_string(error), ", ", rd_kafka_error_name(error), ")");
  switch (code) {
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": not authorized: grant tally's principal WRITE and DESCRIBE on TransactionalId '", id,
          "' (and IDEMPOTENT_WRITE on the cluster, for brokers before 2.8)"));
    case RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT:
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": transaction.timeout.ms is above the brokers' transaction.max.timeout.ms: lower it "
                             "(--kafka transaction.timeout.ms=...) or raise the brokers' limit"));
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
      // The broker is still ending the previous producer's transaction.
      return absl::UnavailableError(
          absl::StrCat(what, ": the previous transaction of this id is still ending; try again"));
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": no transaction coordinator within ", absl::FormatDuration(timeout),
          ": the cluster does not support transactions or cannot place its transaction log. tally needs Kafka >= "
          "2.5 whose brokers' transaction.state.log.replication.factor and transaction.state.log.min.isr are no "
          "larger than the number of brokers (1 and 1 for a single broker); check them and the brokers' logs"));
    default:
      if (rd_kafka_error_is_retriable(error) && !rd_kafka_error_is_fatal(error)) {
        return absl::UnavailableError(absl::StrCat(what, ": try again"));
      }
      return absl::FailedPreconditionError(what);
  }
}

// The producer's transaction.timeout.ms, as librdkafka holds it.
absl::Duration TransactionTimeoutOf(rd_kafka_t* producer) {
  char value[32] = "";
  size_t size = sizeof value;
  if (rd_kafka_conf_get(rd_kafka_conf(producer), "transaction.timeout.ms", value, &size) != RD_KAFKA_CONF_OK) {
    return absl::Seconds(60);  // librdkafka's default
  }
  return absl::Milliseconds(std::atoll(value));
}

}  // namespace

absl::Duration TransactionRetryWindow(absl::Duration transaction_timeout) { return transaction_timeout * 3 / 4; }

absl::StatusOr<std::unique_ptr<KafkaTransaction>> KafkaTransaction::Open(const std::string& bootstrap_servers,
                                                                        const std::string& transactional_id,
                                                                        const KafkaProperties& properties,
                                                                        absl::Duration timeout,
                                                                        absl::Duration transaction_timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto producer = KafkaProducer::Open(bootstrap_servers, properties,
                                      {
                                          {"transactional.id", transactional_id},
                                          {"acks", "all"},
                                          {"enable.idempotence", "true"},
                                          // Tunable (--kafka): the retry window of a transaction's
                                          // steps derives from it.
                                          {"transaction.timeout.ms",
                                           absl::StrCat(absl::ToInt64Milliseconds(transaction_timeout))},
                                      },
                                      timeout);
  if (!producer.ok()) return producer.status();
  // Fences any earlier producer of this id and aborts its open transaction.
  const int remaining_ms = std::max(1, KafkaTimeoutMs(deadline - absl::Now()));
  KafkaError error(rd_kafka_init_transactions((*producer)->handle(), remaining_ms));
  if (error != nullptr) return InitError(bootstrap_servers, transactional_id, timeout, error.get());
  return std::make_unique<KafkaTransaction>(*std::move(producer), timeout);
}

KafkaTransaction::KafkaTransaction(std::unique_ptr<KafkaProducer> producer, absl::Duration timeout)
    : producer_(std::move(producer)), timeout_(timeout), transaction_timeout_(TransactionTimeoutOf(producer_->handle())) {}

int KafkaTransaction::CallTimeoutMs(absl::Time deadline) const {
  return std::max(1, KafkaTimeoutMs(std::min(timeout_, deadline - absl::Now())));
}

KafkaTransaction::~KafkaTransaction() {
  // An open transaction left to the broker would hold back every
  // read_committed reader of its partitions until transaction.timeout.ms;
  // abort it, but don't hold up the exit for long (a fatal or unreachable
  // producer answers at once or times out). The producer then purges.
  if (in_transaction_ && producer_) {
    KafkaError ignored(
        rd_kafka_abort_transaction(producer_->handle(), KafkaTimeoutMs(std::min(timeout_, absl::Seconds(5)))));
  }
}

absl::Status KafkaTransaction::Classify(const char* what, rd_kafka_error_t* raw) {
  KafkaError error(raw);
  if (error == nullptr) return absl::OkStatus();
  rd_kafka_t* rk = producer_->handle();
  if (rd_kafka_error_is_fatal(error.get()) && rd_kafka_fatal_error(rk, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return producer_->FatalError(absl::StrCat("transaction ", what));
  }
  const std::string message =
      absl::StrCat("kafka://", producer_->bootstrap_servers(), ": transaction ", what, " failed: ",
                   rd_kafka_error_string(error.get()), " (", rd_kafka_error_name(error.get()), ")");
  if (rd_kafka_error_is_fatal(error.get())) {
    return absl::FailedPreconditionError(absl::StrCat(message, "; the producer cannot go on: stop the process"));
  }
  if (rd_kafka_error_txn_requires_abort(error.get())) {
    return absl::AbortedError(absl::StrCat(message, "; abort it and redo its work from the last commit"));
  }
  if (rd_kafka_error_is_retriable(error.get()) || rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return absl::UnavailableError(absl::StrCat(message, "; the transaction is intact: try again"));
  }
  // Neither abortable nor retriable: librdkafka's advice is to treat it as
  // fatal (e.g. __STATE, a call out of order).
  return absl::FailedPreconditionError(absl::StrCat(message, "; the producer cannot go on: stop the process"));
}

absl::Status KafkaTransaction::Begin() {
  producer_->ResetOffsets();  // LastOffset then tells this transaction's records
  absl::Status status = Classify("begin", rd_kafka_begin_transaction(producer_->handle()));
  if (status.ok()) in_transaction_ = true;
  return status;
}

absl::Status KafkaTransaction::SendOffsets(rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t* offsets,
                                          absl::Time deadline) {
  std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter> metadata(
      rd_kafka_consumer_group_metadata(consumer));
  if (metadata == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka://", producer_->bootstrap_servers(),
                                                   ": transaction offsets: the handle given is not a consumer"));
  }
  return Classify("offsets",
                  rd_kafka_send_offsets_to_transaction(producer_->handle(), offsets, metadata.get(),
                                                       CallTimeoutMs(deadline)));
}

absl::Status KafkaTransaction::Commit(absl::Time deadline) {
  absl::Status status =
      Classify("commit", rd_kafka_commit_transaction(producer_->handle(), CallTimeoutMs(deadline)));
  if (status.ok()) in_transaction_ = false;
  return status;
}

absl::Status KafkaTransaction::CommitWithOffsets(rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t* offsets,
                                                 absl::Time give_up) {
  auto retried = [&](auto&& call) { return RetryTransactionStep(give_up, call); };
  if (offsets != nullptr && offsets->cnt > 0) {
    if (auto s = retried([&] { return SendOffsets(consumer, offsets, give_up); }); !s.ok()) return AbortAfter(s);
  }
  if (auto s = retried([&] { return Commit(give_up); }); !s.ok()) {
    if (!IsRetriableTransactionStep(s)) return AbortAfter(s);
    // No answer within the retry window (a broker away, or this process
    // stopped past it): the commit may still complete at the coordinator,
    // so neither an abort nor a redo from the committed offsets is safe. A
    // new producer with the same transactional.id waits for the outcome
    // before it starts, and the job restores from it.
    return producer_->Void(absl::StrCat("kafka://", producer_->bootstrap_servers(),
                                        ": transaction commit: no outcome within the retry window (",
                                        absl::FormatDuration(retry_window()), "): ", s.message()));
  }
  consecutive_aborts_ = 0;
  return absl::OkStatus();
}

absl::Status KafkaTransaction::AbortAfter(const absl::Status& failure) {
  if (absl::IsFailedPrecondition(failure) || absl::IsInternal(failure)) return failure;
  // A record of this transaction that can never be delivered (the
  // transaction's own error says only that it must abort).
  absl::Status delivery = producer_->TakeDeliveryError();
  if (absl::Status aborted = Abort(); absl::IsFailedPrecondition(aborted)) return aborted;
  if (absl::IsFailedPrecondition(delivery)) return delivery;
  if (++consecutive_aborts_ >= kMaxConsecutiveAborts) {
    return absl::FailedPreconditionError(absl::StrCat("the transaction aborted ", consecutive_aborts_,
                                                      " times in a row, redoing the same work; giving up. The "
                                                      "last error: ",
                                                      failure.message()));
  }
  return absl::AbortedError(absl::StrCat("the transaction did not commit: ", failure.message()));
}

absl::Status KafkaTransaction::Abort() {
  if (!in_transaction_) return absl::OkStatus();
  KafkaError error(rd_kafka_abort_transaction(producer_->handle(), KafkaTimeoutMs(timeout_)));
  if (error != nullptr && rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR__STATE &&
      !rd_kafka_error_is_fatal(error.get()) && !rd_kafka_error_txn_requires_abort(error.get())) {
    error.reset();  // none was open after all
  }
  absl::Status status = Classify("abort", error.release());
  if (status.ok()) in_transaction_ = false;
  return status;
}

}  // namespace tally
