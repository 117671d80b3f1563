#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "kafka/kafka_endpoint.h"
#include "kafka/kafka_producer.h"
#include "sink/dead_letter_sink.h"

namespace tally {

// Writes dead letters to a Kafka topic. Each record's value is the original
// record, byte for byte (no encoding needed: Kafka values are bytes), and its
// headers say why and where it came from:
//   tally.error.reason      "not_json", "late", ... (DeadLetterReason names)
//   tally.source.topic      the input topic
//   tally.source.partition  decimal
//   tally.source.offset     decimal
//   tally.error.detail      what exactly is wrong, for people (last: free text)
// The key is the source partition (decimal), so each source partition's
// letters stay in order within one dead-letter partition.
//
// A record too large for the producer (message.max.bytes, 1,000,000 bytes by
// default, covers key, value and headers; --max-record-bytes lets records of
// up to 1 MiB through) would fail every redo of its trigger. Its letter's
// value is cut to what fits, and two more headers say so:
//   tally.record.size       the original record's size in bytes, decimal
//   tally.record.sha256     the SHA-256 of the original record, lowercase hex
// (only on a letter whose value was cut).
//
// Flush waits for every letter's acknowledgement. With a transactional
// producer the letters are part of its transactions instead (written between
// Begin and Commit by the TransactionalCommitter): readers with
// isolation.level=read_committed see each letter once. Not thread-safe.
class KafkaDeadLetterSink final : public DeadLetterSink {
 public:
  KafkaDeadLetterSink(std::unique_ptr<KafkaProducer> producer, KafkaEndpoint endpoint, std::string source_topic,
                      absl::Duration flush_timeout = absl::Minutes(2));
  // Writes through `producer` (a transaction's), which must outlive the sink.
  KafkaDeadLetterSink(KafkaProducer& producer, KafkaEndpoint endpoint, std::string source_topic,
                      absl::Duration flush_timeout = absl::Minutes(2));

  // Makes sure the topic exists, creating it (the broker's default partitions
  // and replication) if missing: on a cluster that does not create topics on
  // first use (MSK, Confluent Cloud), every trigger with a letter would
  // otherwise fail. FailedPrecondition, naming the topic and what to do, if
  // it neither exists nor can be created.
  absl::Status EnsureTopic(absl::Duration timeout = absl::Seconds(30));

  absl::Status Write(std::span<const DeadLetter> letters) override;
  absl::Status Flush() override;
  absl::Status Commit() override { return Flush(); }
  std::string Describe() const override { return endpoint_.Describe(); }

 private:
  std::unique_ptr<KafkaProducer> owned_;
  KafkaProducer* producer_;
  KafkaEndpoint endpoint_;
  std::string source_topic_;
  absl::Duration flush_timeout_;
};

}  // namespace tally
