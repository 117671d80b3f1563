#include "kafka/kafka_dead_letter_sink.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kafka/topic_admin.h"

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
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, KafkaTimeoutMs(timeout));
  KafkaMetadata metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaUnreachableError(servers, timeout, err);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (endpoint_.topic == metadata->topics[i].topic && metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::OkStatus();
    }
  }

  // The broker's default partition count: dead letters have no key order
  // to keep.
  const CreateTopicResult created =
      CreateTopic(rk, endpoint_.topic, /*partitions=*/-1, {}, absl::Now() + timeout);
  // Made now, or by another process meanwhile: either way it is there.
  if (created.err == RD_KAFKA_RESP_ERR_NO_ERROR || created.err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return absl::OkStatus();
  }
  if (created.err == RD_KAFKA_RESP_ERR__TIMED_OUT || created.err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    return absl::UnavailableError(absl::StrCat(where, ": cannot create it: ", created.text));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(where, " does not exist and cannot be created (", created.text, ", ", rd_kafka_err2name(created.err),
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
