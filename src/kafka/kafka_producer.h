#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"

namespace tally {

// A header of a produced record.
struct KafkaHeader {
  std::string_view name;
  std::string_view value;
};

// True for a produce or delivery error that no retry and no redo can cure:
// a record above the producer's message.max.bytes or the topic's
// max.message.bytes, a topic that does not exist (and that the cluster does
// not create) or is not a valid name, or a principal not allowed to write.
bool IsPermanentProduceError(rd_kafka_resp_err_t err);

// True for the FailedPrecondition of a transactional producer that can
// commit nothing more, while a new one with the same transactional.id can (a
// new start of the job, which restores its tasks from what was committed):
// it was fenced (another producer with its transactional.id started, or the
// broker aborted its transaction after transaction.timeout.ms and bumped its
// epoch: a process stopped or cut off that long), or the outcome of its last
// commit is unknown (KafkaProducer::Void).
bool NeedsNewProducer(const absl::Status& status);

// librdkafka's producer with delivery accounting: every record handed to
// Produce ends up acknowledged or failed, and Flush says which. Idempotent
// (enable.idempotence=true): a retried send is never written twice. Records
// are copied on Produce, so the caller's buffers may be reused at once.
//
// Not thread-safe.
class KafkaProducer {
 public:
  // Connects to `bootstrap_servers` and checks the cluster answers within
  // `connect_timeout`; fails naming the servers and what to do. `defaults` go
  // first, then the user's `properties`.
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Open(
      const std::string& bootstrap_servers, const KafkaProperties& properties,
      const std::vector<std::pair<std::string, std::string>>& defaults = {},
      absl::Duration connect_timeout = absl::Seconds(10));
  KafkaProducer() = default;  // use Open
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one record (null key if `key` is empty). While the local queue is
  // full it serves delivery reports and waits. Fails only on a fatal error or
  // a permanent one (IsPermanentProduceError: a record too large, an unknown
  // topic; FailedPrecondition: stop), or, on a transactional producer,
  // outside an open transaction or in a failed one (Aborted); delivery
  // failures show in Flush, TakeDeliveryError and failed().
  absl::Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                       std::initializer_list<KafkaHeader> headers = {});

  // As Produce, to `partition` (kAnyPartition: chosen by key, librdkafka's
  // default partitioner), with `value` nullopt for a tombstone (a null value,
  // which compaction reads as a delete).
  static constexpr int32_t kAnyPartition = -1;
  absl::Status ProduceTo(const std::string& topic, int32_t partition, std::string_view key,
                         std::optional<std::string_view> value, std::initializer_list<KafkaHeader> headers = {});
  absl::Status ProduceTo(const std::string& topic, int32_t partition, std::string_view key,
                         std::optional<std::string_view> value, std::span<const KafkaHeader> headers);

  // Sends the records of `topic` uncompressed from now on, unless the user
  // chose a codec (--kafka compression.codec or compression.type): for data
  // that does not compress, such as the changelog's chunks of counted events
  // (random UUIDs and times: LZ4 leaves them at 99% of their size), the
  // producer's default codec is CPU spent for nothing. Takes effect only if
  // nothing was produced to `topic` yet (librdkafka keeps a topic's settings
  // from its first use); idempotent.
  absl::Status SendUncompressed(const std::string& topic);

  // The largest record librdkafka accepts (message.max.bytes): key, value,
  // headers and librdkafka's per-record overhead together.
  size_t max_message_bytes() const;

  // The offset of the last record acknowledged in (topic, partition) since
  // the last ResetOffsets, or -1 if none was.
  int64_t LastOffset(const std::string& topic, int32_t partition) const;
  void ResetOffsets();

  // Serves delivery reports without waiting.
  void Poll();

  // Waits up to `timeout` for every queued record's acknowledgement. Returns
  // the first delivery error since the previous Flush, or DeadlineExceeded.
  absl::Status Flush(absl::Duration timeout);

  // The delivery error reported since the last call (or Flush), and clears
  // it: FailedPrecondition if a record can never be delivered
  // (IsPermanentProduceError, which wins over any other), else Unavailable;
  // ok if none. For a transactional producer, whose records are flushed by
  // the transaction's commit, to tell a redo that can succeed from one that
  // cannot.
  absl::Status TakeDeliveryError();

  int64_t acknowledged() const { return acknowledged_; }
  int64_t failed() const { return failed_; }
  // Records queued but not yet acknowledged or failed.
  int64_t in_flight() const;
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  rd_kafka_t* handle() const { return producer_.get(); }

 private:
  friend class KafkaTransaction;  // reports the fatal error as FatalError does

  static void DeliveryReport(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  // The producer's fatal error (after librdkafka's RD_KAFKA_RESP_ERR__FATAL)
  // as a FailedPrecondition naming its reason, `what` failed; a fenced
  // transactional producer says who took over.
  absl::Status FatalError(const std::string& what) const;

  // FailedPrecondition(`message`, "this producer cannot go on"), marked so
  // that NeedsNewProducer is true of it: for a transaction whose outcome is
  // unknown.
  static absl::Status Void(const std::string& message);

  std::string bootstrap_servers_;
  bool codec_chosen_ = false;  // the user set compression.codec or compression.type
  KafkaHandle producer_;
  // Topics given their own settings (SendUncompressed). After producer_, so
  // destroyed before it, as librdkafka requires.
  struct TopicDeleter {
    void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  };
  absl::flat_hash_map<std::string, std::unique_ptr<rd_kafka_topic_t, TopicDeleter>> topics_;
  int64_t acknowledged_ = 0;
  int64_t failed_ = 0;
  absl::Status delivery_error_;  // the first since the last Flush
  // LastOffset's figures: per topic, indexed by partition, -1 for none. Keyed
  // by name (the map's hash takes a string_view: no string per delivery).
  absl::flat_hash_map<std::string, std::vector<int64_t>> last_offsets_;
};

}  // namespace tally
