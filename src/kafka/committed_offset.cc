#include "kafka/committed_offset.h"

#include "absl/strings/str_cat.h"

namespace tally {

absl::StatusOr<int64_t> ReadCommittedOffset(const std::string& bootstrap_servers, const KafkaProperties& properties,
                                            const std::string& group, const std::string& topic, int32_t partition,
                                            absl::Duration timeout) {
  const std::string where =
      absl::StrCat("kafka://", bootstrap_servers, "/", topic, " partition ", partition, ", group '", group, "'");
  auto conf = MakeKafkaConf({{"bootstrap.servers", bootstrap_servers},
                             {"client.id", "tally-restore"},
                             {"group.id", group},
                             {"enable.auto.commit", "false"},
                             {"allow.auto.create.topics", "false"}},
                            properties);
  if (!conf.ok()) return conf.status();
  char error[512];
  KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof error));
  if (consumer == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": ", error));
  conf.value().release();  // rd_kafka_new took it

  KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  rd_kafka_resp_err_t err = rd_kafka_committed(consumer.get(), list.get(), KafkaTimeoutMs(timeout));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  // Never subscribed: closing leaves no group, it only ends the handle.
  rd_kafka_consumer_close(consumer.get());
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return list->elems[0].offset >= 0 ? list->elems[0].offset : -1;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
      return absl::UnavailableError(
          absl::StrCat(where, ": cannot read the committed offset within ", absl::FormatDuration(timeout), ": ",
                       KafkaErrorText(err)));
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(where, ": cannot read the committed offset: ", KafkaErrorText(err)));
  }
}

}  // namespace tally
