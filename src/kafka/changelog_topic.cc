#include "kafka/changelog_topic.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kafka/topic_admin.h"

namespace tally {

std::string ChangelogTopicName(const std::string& group, const std::string& input_topic) {
  return absl::StrCat(group, "-", input_topic, "-changelog");
}

std::string JobSettingsTopicName(const std::string& group, const std::string& input_topic) {
  return absl::StrCat(group, "-", input_topic, "-settings");
}

namespace {

// Why a topic the job needs is still missing after CreateTopic, and the
// command that makes it by hand (`config`: its --config flags).
absl::Status MissingTopicError(const std::string& where, const std::string& servers, const std::string& topic,
                               int32_t partitions, const CreateTopicResult& created, absl::Duration timeout,
                               const std::string& config) {
  if (created.err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return absl::UnavailableError(
        absl::StrCat(where, ": the cluster did not create it within ", absl::FormatDuration(timeout)));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      where, ": cannot create it (", created.text, "); create it yourself: kafka-topics --bootstrap-server ", servers,
      " --create --topic ", topic, " --partitions ", partitions, " ", config));
}

}  // namespace

std::string RepartitionTopicName(const std::string& group, const std::string& input_topic) {
  return absl::StrCat(group, "-", input_topic, "-repartition");
}

absl::Status EnsureRepartitionTopic(rd_kafka_t* client, const std::string& topic, int32_t partitions,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string servers = ClientBootstrapServers(client);
  const std::string where = absl::StrCat("kafka://", servers, ": repartition topic '", topic, "'");
  const CreateTopicResult created =
      CreateTopic(client, topic, partitions, {{"cleanup.policy", "delete"}, {"retention.ms", "-1"}}, deadline);
  // Made now, or just now by another process of the job starting at the
  // same time: the cluster's metadata may not show it yet.
  const bool made = created.err == RD_KAFKA_RESP_ERR_NO_ERROR || created.err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
  auto count = TopicPartitionCount(client, topic, /*wait_for_it=*/made, deadline);
  if (!count.ok()) return count.status();
  if (*count == 0) {
    return MissingTopicError(where, servers, topic, partitions, created, timeout, "--config retention.ms=-1");
  }
  if (*count != partitions) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " has ", *count, " partitions, but the job asks for ", partitions,
        " (--partitions, by default the input's count): a learner's partition depends on the count. Run with "
        "--partitions ", *count, ", or start a new job (another --group)"));
  }
  // Records wait there until the counting tasks commit past them, however
  // long the job is down: compaction (by learner) or a retention would drop
  // events that were never counted. tally deletes what it has consumed.
  auto policy = TopicConfig(client, topic, "cleanup.policy", deadline);
  if (!policy.ok()) return policy.status();
  auto retention = TopicConfig(client, topic, "retention.ms", deadline);
  if (!retention.ok()) return retention.status();
  if (*policy != "delete" || *retention != "-1") {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " has cleanup.policy=", *policy, " and retention.ms=", *retention,
        "; tally needs cleanup.policy=delete and retention.ms=-1, or records not yet counted are dropped "
        "(tally deletes what it has counted): kafka-configs --bootstrap-server ", servers,
        " --alter --entity-type topics --entity-name ", topic,
        " --add-config cleanup.policy=delete,retention.ms=-1"));
  }
  return absl::OkStatus();
}

absl::Status EnsureChangelogTopic(rd_kafka_t* client, const std::string& topic, int32_t partitions,
                                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string servers = ClientBootstrapServers(client);
  const std::string where = absl::StrCat("kafka://", servers, ": changelog topic '", topic, "'");

  const CreateTopicResult created = CreateTopic(client, topic, partitions, {{"cleanup.policy", "compact"}}, deadline);
  if (created.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto count = TopicPartitionCount(client, topic, /*wait_for_it=*/true, deadline);
    return count.ok() ? absl::OkStatus() : count.status();
  }

  // It may exist already (TOPIC_ALREADY_EXISTS, or a principal that may not
  // create topics but may use this one): then check that it fits. Made by
  // another process of the job starting at the same time, the cluster's
  // metadata may not show it yet: wait for it.
  auto count = TopicPartitionCount(client, topic,
                                   /*wait_for_it=*/created.err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, deadline);
  if (!count.ok()) return count.status();
  if (*count == 0) {
    return MissingTopicError(where, servers, topic, partitions, created, timeout, "--config cleanup.policy=compact");
  }

  auto policy = TopicConfig(client, topic, "cleanup.policy", deadline);
  if (!policy.ok()) return policy.status();
  if (!absl::StrContains(*policy, "compact")) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " has cleanup.policy=", *policy, "; tally needs compact: kafka-configs --bootstrap-server ", servers,
        " --alter --entity-type topics --entity-name ", topic,
        " --add-config cleanup.policy=compact (do not delete the topic: it holds the job's state, and tally refuses "
        "to start on a changelog made anew while the group has committed offsets; docs/fault-tolerance.md)"));
  }
  if (*count < partitions) {
    // Partition N holds the state of input partition N, whatever the key:
    // partitions added later start empty and misplace nothing.
    return absl::FailedPreconditionError(absl::StrCat(
        where, " has ", *count, " partitions; tally needs one per input partition, ", partitions,
        ": kafka-topics --bootstrap-server ", servers, " --alter --topic ", topic, " --partitions ", partitions));
  }
  return absl::OkStatus();
}

namespace {

// A consumer that reads one partition without joining its group, closed on
// destruction.
class PartitionReader {
 public:
  ~PartitionReader() {
    if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }
  absl::Status Open(const std::vector<std::pair<std::string, std::string>>& defaults,
                    const KafkaProperties& properties, const std::string& where) {
    auto conf = MakeKafkaConf(defaults, properties);
    if (!conf.ok()) return conf.status();
    char error[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof error);
    if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": ", error));
    conf->release();  // rd_kafka_new took it
    consumer_.reset(rk);
    rd_kafka_poll_set_consumer(rk);
    queue_ = rd_kafka_queue_get_consumer(rk);
    return absl::OkStatus();
  }
  rd_kafka_t* get() const { return consumer_.get(); }
  rd_kafka_queue_t* queue() const { return queue_; }

 private:
  KafkaHandle consumer_;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue; owned
};

struct MessageBatch {
  std::vector<rd_kafka_message_t*> messages;
  ~MessageBatch() { Release(); }
  void Release() {
    for (rd_kafka_message_t* m : messages) rd_kafka_message_destroy(m);
    messages.clear();
  }
};

}  // namespace

absl::StatusOr<ChangelogOffsets> ReadChangelogOffsets(const std::string& bootstrap_servers,
                                                      const KafkaProperties& properties, const std::string& topic,
                                                      int32_t partition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string where = absl::StrCat("kafka://", bootstrap_servers, "/", topic, " partition ", partition);
  PartitionReader watermarks;
  if (auto s = watermarks.Open({{"bootstrap.servers", bootstrap_servers},
                                {"client.id", "tally-restore"},
                                {"isolation.level", "read_uncommitted"},
                                {"allow.auto.create.topics", "false"}},
                               properties, where);
      !s.ok()) {
    return s;
  }
  ChangelogOffsets offsets;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(watermarks.get(), topic.c_str(), partition,
                                                                   &offsets.start, &offsets.end, RemainingMs(deadline));
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return offsets;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(absl::StrCat(where, ": no such topic or partition (", KafkaErrorText(err), ")"));
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
      return KafkaUnreachableError(bootstrap_servers, timeout, err);
    default:
      return absl::UnavailableError(absl::StrCat(where, ": cannot read its offsets: ", KafkaErrorText(err)));
  }
}

absl::StatusOr<int64_t> ReadChangelog(const std::string& bootstrap_servers, const KafkaProperties& properties,
                                      const std::string& topic, int32_t partition, int64_t from_offset,
                                      const std::function<absl::Status(const ChangelogRecord&)>& f,
                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string where = absl::StrCat("kafka://", bootstrap_servers, "/", topic, " partition ", partition);

  // The end: the high watermark, asked read_uncommitted. A read_committed
  // query answers the last stable offset instead, which stops short of an
  // open transaction (to be waited for) and, for a moment after a commit,
  // of that commit's own records, until the broker writes its marker.
  auto offsets = ReadChangelogOffsets(bootstrap_servers, properties, topic, partition, timeout);
  if (!offsets.ok()) return offsets.status();
  const int64_t low = offsets->start, high = offsets->end;
  if (from_offset < low || from_offset > high) {
    return absl::OutOfRangeError(absl::StrCat(
        where, ": offset ", from_offset, " is outside the partition, which holds offsets ", low, " to ", high,
        ": the topic was deleted and made again, or truncated, since that offset was read; a checkpoint of it is "
        "worthless: restore from the start"));
  }
  if (from_offset == high) return high;

  PartitionReader reader;
  if (auto s = reader.Open(
          {
              {"bootstrap.servers", bootstrap_servers},
              {"client.id", "tally-restore"},
              // rd_kafka_assign needs a group; nothing joins it or commits to it.
              {"group.id", "tally-restore"},
              {"enable.auto.commit", "false"},
              {"enable.auto.offset.store", "false"},
              {"auto.offset.reset", "error"},  // an offset gone since the query is an error, not a jump
              {"isolation.level", "read_committed"},
              {"enable.partition.eof", "true"},
              {"allow.auto.create.topics", "false"},
              // A restore reads a long log once, as fast as it comes: large
              // fetches and a deep prefetch (librdkafka's default prefetch sets
              // the pace of a catch-up; docs/operations.md).
              {"fetch.max.bytes", "52428800"},
              {"max.partition.fetch.bytes", "10485760"},
              {"queued.min.messages", "500000"},
              // The end of the partition is known only from an empty fetch
              // (the EOF event): don't let the broker hold it long.
              {"fetch.wait.max.ms", "100"},
          },
          properties, where);
      !s.ok()) {
    return s;
  }
  KafkaPartitionList assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = from_offset;
  if (const rd_kafka_resp_err_t err = rd_kafka_assign(reader.get(), assignment.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat(where, ": cannot assign the partition: ", KafkaErrorText(err)));
  }

  // With read_committed, transaction markers occupy offsets and are never
  // delivered, and neither are aborted records: the last record's offset + 1
  // can stay short of the end. The EOF event carries the position past them.
  int64_t position = from_offset;
  bool at_stable_end = false;  // an EOF short of `high`: an open transaction lies ahead
  constexpr size_t kBatch = 4096;
  MessageBatch batch;
  while (position < high) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::UnavailableError(absl::StrCat(
          where, ": read to offset ", position, " of ", high, " within ", absl::FormatDuration(timeout),
          at_stable_end ? ": the rest belongs to a transaction still open (another producer's; it ends when that "
                          "producer commits or aborts, or after its transaction.timeout.ms)"
                        : ": the cluster did not deliver the rest"));
    }
    batch.messages.resize(kBatch);
    const ssize_t n = rd_kafka_consume_batch_queue(
        reader.queue(), KafkaTimeoutMs(std::min(left, absl::Milliseconds(100))), batch.messages.data(), kBatch);
    batch.messages.resize(n < 0 ? 0 : static_cast<size_t>(n));
    absl::Status status;
    for (const rd_kafka_message_t* m : batch.messages) {
      if (!status.ok()) break;
      switch (m->err) {
        case RD_KAFKA_RESP_ERR_NO_ERROR: {
          ChangelogRecord record;
          if (m->key != nullptr) record.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
          if (m->payload != nullptr) record.value = std::string_view(static_cast<const char*>(m->payload), m->len);
          record.offset = m->offset;
          status = f(record);
          position = std::max(position, m->offset + 1);
          break;
        }
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
          position = std::max(position, m->offset);
          at_stable_end = m->offset < high;
          break;
        case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
        case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
          status = absl::OutOfRangeError(absl::StrCat(where, ": offset ", position,
                                                      " is gone (the topic was deleted or truncated during the read): ",
                                                      rd_kafka_message_errstr(m)));
          break;
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
          status = absl::NotFoundError(absl::StrCat(where, ": the topic is gone: ", rd_kafka_message_errstr(m)));
          break;
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
          status = absl::PermissionDeniedError(absl::StrCat(where, ": not authorized: ", rd_kafka_message_errstr(m)));
          break;
        case RD_KAFKA_RESP_ERR__FATAL: {
          char reason[512];
          rd_kafka_fatal_error(reader.get(), reason, sizeof reason);
          status = absl::InternalError(absl::StrCat(where, ": fatal consumer error: ", reason));
          break;
        }
        default:
          // Transient (a broker down, a connection reset): librdkafka retries
          // by itself, within the deadline.
          break;
      }
    }
    batch.Release();
    if (!status.ok()) return status;
  }
  return position;
}

}  // namespace tally
