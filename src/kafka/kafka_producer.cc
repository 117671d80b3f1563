#include "kafka/kafka_producer.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// What to do about a permanent produce error, for the operator.
std::string PermanentErrorHint(rd_kafka_resp_err_t err, const std::string& topic) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return absl::StrCat("the record is larger than the producer's message.max.bytes or the topic's "
                          "max.message.bytes: raise them (--kafka message.max.bytes=...; kafka-configs --alter "
                          "--entity-type topics --entity-name ", topic, " --add-config max.message.bytes=...)");
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return absl::StrCat("not authorized: grant tally's principal WRITE and DESCRIBE on topic '", topic, "'");
    default:
      return absl::StrCat("topic '", topic, "' does not exist, cannot be created or is not a valid name: create it "
                          "(kafka-topics --create --topic ", topic, ")");
  }
}

}  // namespace

bool IsPermanentProduceError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Open(
    const std::string& bootstrap_servers, const KafkaProperties& properties,
    const std::vector<std::pair<std::string, std::string>>& defaults, absl::Duration connect_timeout) {
  std::vector<std::pair<std::string, std::string>> all = {
      {"bootstrap.servers", bootstrap_servers},
      {"client.id", "tally"},
      {"enable.idempotence", "true"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"compression.codec", "lz4"},
  };
  all.insert(all.end(), defaults.begin(), defaults.end());
  auto conf = MakeKafkaConf(all, properties);
  if (!conf.ok()) return conf.status();

  auto producer = std::make_unique<KafkaProducer>();
  producer->bootstrap_servers_ = bootstrap_servers;
  for (const auto& [key, value] : properties) {
    std::string_view k = key;
    if (k.starts_with("topic.")) k.remove_prefix(6);
    if (k == "compression.codec" || k == "compression.type") producer->codec_chosen_ = true;
  }
  rd_kafka_conf_set_opaque(conf->get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::DeliveryReport);
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof error);
  if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat("kafka://", bootstrap_servers, ": ", error));
  conf->release();
  producer->producer_.reset(rk);

  // A metadata request for no topic in particular: does any broker answer?
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, nullptr, &metadata, KafkaTimeoutMs(connect_timeout));
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaUnreachableError(bootstrap_servers, connect_timeout, err);
  return producer;
}

KafkaProducer::~KafkaProducer() {
  // Whatever is still queued was never acknowledged; the owner saw that in
  // Flush (or chose not to wait). Don't block the exit on it.
  if (producer_) rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

void KafkaProducer::DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->acknowledged_;
    // Once per record: find by string_view, allocate only for a new topic
    // or partition.
    const absl::string_view topic = rd_kafka_topic_name(m->rkt);
    auto it = self->last_offsets_.find(topic);
    if (it == self->last_offsets_.end()) it = self->last_offsets_.try_emplace(std::string(topic)).first;
    std::vector<int64_t>& offsets = it->second;
    const auto partition = static_cast<size_t>(m->partition);
    if (partition >= offsets.size()) offsets.resize(partition + 1, -1);
    offsets[partition] = std::max(offsets[partition], m->offset);
    return;
  }
  ++self->failed_;
  // A purge is the owner's doing (an aborted transaction, a shutdown), not a
  // failure to report at the next Flush.
  if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) return;
  const std::string topic = rd_kafka_topic_name(m->rkt);
  if (IsPermanentProduceError(m->err)) {
    if (!absl::IsFailedPrecondition(self->delivery_error_)) {
      self->delivery_error_ = absl::FailedPreconditionError(
          absl::StrCat("kafka://", self->bootstrap_servers_, "/", topic, ": a record of ", m->len,
                       " bytes can never be delivered (", rd_kafka_err2str(m->err), ", ", rd_kafka_err2name(m->err),
                       "): ", PermanentErrorHint(m->err, topic)));
    }
  } else if (self->delivery_error_.ok()) {
    self->delivery_error_ = absl::UnavailableError(absl::StrCat("kafka://", self->bootstrap_servers_, "/", topic,
                                                                ": a record was not delivered: ", rd_kafka_err2str(m->err)));
  }
}

int64_t KafkaProducer::LastOffset(const std::string& topic, int32_t partition) const {
  const auto it = last_offsets_.find(topic);
  if (it == last_offsets_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.size()) return -1;
  return it->second[static_cast<size_t>(partition)];
}

void KafkaProducer::ResetOffsets() {
  for (auto& [topic, offsets] : last_offsets_) std::fill(offsets.begin(), offsets.end(), -1);
}

namespace {
constexpr char kNewProducerPayload[] = "tally/kafka/needs-new-producer";
}  // namespace

bool NeedsNewProducer(const absl::Status& status) { return status.GetPayload(kNewProducerPayload).has_value(); }

absl::Status KafkaProducer::Void(const std::string& message) {
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(message, "; this producer cannot go on"));
  s.SetPayload(kNewProducerPayload, absl::Cord("void"));
  return s;
}

absl::Status KafkaProducer::FatalError(const std::string& what) const {
  char reason[512];
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(producer_.get(), reason, sizeof reason);
  switch (err) {
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH: {
      char id[256] = "";
      size_t size = sizeof id;
      rd_kafka_conf_get(rd_kafka_conf(producer_.get()), "transactional.id", id, &size);
      absl::Status fenced = absl::FailedPreconditionError(absl::StrCat(
          "kafka://", bootstrap_servers_, ": ", what, ": this producer was fenced: another tally process with "
          "transactional.id '", id, "', or a newer member of the consumer group, took over its work (", reason,
          "); this producer must not commit anything more"));
      fenced.SetPayload(kNewProducerPayload, absl::Cord(id));
      return fenced;
    }
    default:
      return absl::FailedPreconditionError(absl::StrCat("kafka://", bootstrap_servers_, ": ", what,
                                                        ": fatal producer error: ", reason, " (",
                                                        rd_kafka_err2name(err),
                                                        "); the producer cannot go on: stop the process"));
  }
}

absl::Status KafkaProducer::Produce(const std::string& topic, std::string_view key, std::string_view value,
                                    std::initializer_list<KafkaHeader> headers) {
  return ProduceTo(topic, kAnyPartition, key, value, headers);
}

absl::Status KafkaProducer::ProduceTo(const std::string& topic, int32_t partition, std::string_view key,
                                      std::optional<std::string_view> value,
                                      std::initializer_list<KafkaHeader> headers) {
  return ProduceTo(topic, partition, key, value, std::span<const KafkaHeader>(headers.begin(), headers.size()));
}

absl::Status KafkaProducer::SendUncompressed(const std::string& topic) {
  if (codec_chosen_ || topics_.contains(topic)) return absl::OkStatus();
  rd_kafka_topic_conf_t* conf = rd_kafka_topic_conf_new();
  char error[512];
  if (rd_kafka_topic_conf_set(conf, "compression.codec", "none", error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_topic_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("kafka://", bootstrap_servers_, "/", topic, ": ", error));
  }
  rd_kafka_topic_t* handle = rd_kafka_topic_new(producer_.get(), topic.c_str(), conf);  // takes conf
  if (handle == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka://", bootstrap_servers_, "/", topic, ": ",
                                                   rd_kafka_err2str(rd_kafka_last_error())));
  }
  topics_.try_emplace(topic, handle);
  return absl::OkStatus();
}

size_t KafkaProducer::max_message_bytes() const {
  char text[32] = "";
  size_t size = sizeof text;
  if (rd_kafka_conf_get(rd_kafka_conf(producer_.get()), "message.max.bytes", text, &size) != RD_KAFKA_CONF_OK) {
    return 1000000;  // librdkafka's default
  }
  return static_cast<size_t>(std::strtoull(text, nullptr, 10));
}

absl::Status KafkaProducer::ProduceTo(const std::string& topic, int32_t partition, std::string_view key,
                                      std::optional<std::string_view> value, std::span<const KafkaHeader> headers) {
  // librdkafka writes a null value for a null pointer: an empty value needs
  // one that is not.
  void* payload = nullptr;
  if (value.has_value()) payload = const_cast<char*>(value->empty() ? "" : value->data());
  const size_t size = value.has_value() ? value->size() : 0;
  for (;;) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (headers.size() > 0) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const KafkaHeader& h : headers) {
        rd_kafka_header_add(hdrs, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
      }
    }
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();  // the record owns hdrs now
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    switch (err) {
      case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        rd_kafka_poll(producer_.get(), 50);  // let deliveries drain the queue
        continue;
      case RD_KAFKA_RESP_ERR__FATAL:
        return FatalError(absl::StrCat("cannot produce to ", topic));
      case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        // Redoing the work would produce the same record again: stop.
        return absl::FailedPreconditionError(absl::StrCat("kafka://", bootstrap_servers_, "/", topic,
                                                          ": cannot produce a record of ", size + key.size(),
                                                          " bytes: ", KafkaErrorText(err), ": ",
                                                          PermanentErrorHint(err, topic)));
      case RD_KAFKA_RESP_ERR__STATE:
        // Only a transactional producer says this: outside a transaction, or
        // in one that failed (an abortable error, reported by Commit too).
        return absl::AbortedError(absl::StrCat("kafka://", bootstrap_servers_, "/", topic,
                                               ": cannot produce: no transaction is open, or the open one failed: "
                                               "abort it and redo its work"));
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("kafka://", bootstrap_servers_, "/", topic, ": cannot produce: ", KafkaErrorText(err)));
    }
  }
}

void KafkaProducer::Poll() { rd_kafka_poll(producer_.get(), 0); }

int64_t KafkaProducer::in_flight() const { return rd_kafka_outq_len(producer_.get()); }

absl::Status KafkaProducer::TakeDeliveryError() {
  absl::Status status = delivery_error_;
  delivery_error_ = absl::OkStatus();
  return status;
}

absl::Status KafkaProducer::Flush(absl::Duration timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), KafkaTimeoutMs(timeout));
  if (absl::Status status = TakeDeliveryError(); !status.ok()) return status;
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return absl::DeadlineExceededError(absl::StrCat("kafka://", bootstrap_servers_, ": ", in_flight(),
                                                    " records not acknowledged within ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

}  // namespace tally
