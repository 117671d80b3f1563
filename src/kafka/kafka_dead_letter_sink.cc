#include "kafka/kafka_dead_letter_sink.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tally {
namespace {

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "unavailable";
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), size));
}

// A header's share of a record, librdkafka's way (two varints of at most 5
// bytes each, then the name and the value).
size_t HeaderBytes(const KafkaHeader& h) { return 10 + h.name.size() + h.value.size(); }

// librdkafka's overhead of one record beyond key, value and headers
// (RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD is below this), with room to spare.
constexpr size_t kRecordOverhead = 128;

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};

}  // namespace

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

absl::Status KafkaDeadLetterSink::EnsureTopic(absl::Duration timeout) {
  rd_kafka_t* rk = producer_->handle();
  const std::string& servers = producer_->bootstrap_servers();
  const std::string where = absl::StrCat(endpoint_.Describe(), ": dead-letter topic '", endpoint_.topic, "'");
  // Every topic's metadata, not this one's: a request naming it would make
  // an auto-creating broker create it, and tell nothing of one that does not.
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, KafkaTimeoutMs(timeout));
  KafkaMetadata metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaUnreachableError(servers, timeout, err);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (endpoint_.topic == metadata->topics[i].topic && metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::OkStatus();
    }
  }

  char error[256];
  std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> topic(rd_kafka_NewTopic_new(
      endpoint_.topic.c_str(), /*num_partitions=*/-1, /*replication_factor=*/-1, error, sizeof error));
  if (topic == nullptr) return absl::FailedPreconditionError(absl::StrCat(where, ": ", error));
  KafkaAdminOptions options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), KafkaTimeoutMs(timeout), error, sizeof error);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), KafkaTimeoutMs(timeout), error, sizeof error);
  KafkaQueue queue(rd_kafka_queue_new(rk));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(rk, topics, 1, options.get(), queue.get());
  KafkaEvent event(rd_kafka_queue_poll(queue.get(), KafkaTimeoutMs(timeout) + 1000));
  if (event == nullptr) {
    return absl::UnavailableError(absl::StrCat(where, ": no answer to creating it within ", absl::FormatDuration(timeout)));
  }
  err = rd_kafka_event_error(event.get());
  std::string reason = err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_event_error_string(event.get()) : "";
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
    for (size_t i = 0; i < count && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      err = rd_kafka_topic_result_error(results[i]);
      const char* text = rd_kafka_topic_result_error_string(results[i]);
      reason = text != nullptr ? text : KafkaErrorText(err);
    }
  }
  // Made now, or by another process meanwhile: either way it is there.
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return absl::OkStatus();
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    return absl::UnavailableError(absl::StrCat(where, ": cannot create it: ", reason));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(where, " does not exist and cannot be created (", reason, ", ", rd_kafka_err2name(err),
                   "): create it (kafka-topics --bootstrap-server ", servers, " --create --topic ", endpoint_.topic,
                   "), or name another with --dead-letter kafka://", servers, "/TOPIC"));
}

absl::Status KafkaDeadLetterSink::Write(std::span<const DeadLetter> letters) {
  char partition[16], offset[24];
  const size_t max_bytes = producer_->max_message_bytes();
  for (const DeadLetter& letter : letters) {
    char* end = absl::numbers_internal::FastIntToBuffer(letter.origin.partition, partition);
    const std::string_view partition_text(partition, static_cast<size_t>(end - partition));
    end = absl::numbers_internal::FastIntToBuffer(letter.origin.position, offset);
    const std::string_view offset_text(offset, static_cast<size_t>(end - offset));
    const std::string_view reason = ReasonName(letter.reason);
    std::vector<KafkaHeader> headers = {{"tally.error.reason", reason},
                                        {"tally.source.topic", source_topic_},
                                        {"tally.source.partition", partition_text},
                                        {"tally.source.offset", offset_text},
                                        {"tally.error.detail", letter.detail}};
    std::string_view value = letter.bytes;
    size_t fixed = kRecordOverhead + partition_text.size();
    for (const KafkaHeader& h : headers) fixed += HeaderBytes(h);
    std::string size_text, sha256;
    if (fixed + value.size() > max_bytes) {
      // Cut the value to what fits beside the two headers that keep what was
      // cut out verifiable.
      size_text = absl::StrCat(letter.bytes.size());
      sha256 = Sha256Hex(letter.bytes);
      headers.push_back({"tally.record.size", size_text});
      headers.push_back({"tally.record.sha256", sha256});
      fixed += HeaderBytes(headers[headers.size() - 2]) + HeaderBytes(headers.back());
      value = value.substr(0, max_bytes > fixed ? max_bytes - fixed : 0);
    }
    if (auto s = producer_->ProduceTo(endpoint_.topic, KafkaProducer::kAnyPartition, partition_text, value, headers);
        !s.ok()) {
      return s;
    }
  }
  producer_->Poll();
  return absl::OkStatus();
}

absl::Status KafkaDeadLetterSink::Flush() { return producer_->Flush(flush_timeout_); }

}  // namespace tally
