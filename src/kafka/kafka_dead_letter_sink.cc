#include "kafka/kafka_dead_letter_sink.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tally {

KafkaDeadLetterSink::KafkaDeadLetterSink(std::unique_ptr<KafkaProducer> producer, KafkaEndpoint endpoint,
                                         std::string source_topic, absl::Duration flush_timeout)
    : KafkaDeadLetterSink(*producer, std::move(endpoint), std::move(source_topic), flush_timeout) {
  owned_ = std::move(producer);
}

KafkaDeadLetterSink::KafkaDeadLetterSink(KafkaProducer& producer, KafkaEndpoint endpoint, std::string source_topic,
                                         absl::Duration flush_timeout)
    : producer_(&producer),
      endpoint_(std::move(endpoint)),
      source_topic_(std::move(source_topic)),
      flush_timeout_(flush_timeout) {}

absl::Status KafkaDeadLetterSink::Write(std::span<const DeadLetter> letters) {
  char partition[16], offset[24];
  for (const DeadLetter& letter : letters) {
    char* end = absl::numbers_internal::FastIntToBuffer(letter.origin.partition, partition);
    const std::string_view partition_text(partition, static_cast<size_t>(end - partition));
    end = absl::numbers_internal::FastIntToBuffer(letter.origin.position, offset);
    const std::string_view offset_text(offset, static_cast<size_t>(end - offset));
    const std::string_view reason = ReasonName(letter.reason);
    if (auto s = producer_->Produce(endpoint_.topic, partition_text, letter.bytes,
                                    {{"tally.error.reason", reason},
                                     {"tally.source.topic", source_topic_},
                                     {"tally.source.partition", partition_text},
                                     {"tally.source.offset", offset_text},
                                     {"tally.error.detail", letter.detail}});
        !s.ok()) {
      return s;
    }
  }
  producer_->Poll();
  return absl::OkStatus();
}

absl::Status KafkaDeadLetterSink::Flush() { return producer_->Flush(flush_timeout_); }

}  // namespace tally
