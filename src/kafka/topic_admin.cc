#include "kafka/topic_admin.h"

#include <algorithm>
#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tally {
namespace {

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};

struct ConfigResourceDeleter {
  void operator()(rd_kafka_ConfigResource_t* r) const { rd_kafka_ConfigResource_destroy(r); }
};

}  // namespace

int RemainingMs(absl::Time deadline) { return std::max(1, KafkaTimeoutMs(deadline - absl::Now())); }

KafkaAdminOptions MakeAdminOptions(rd_kafka_t* client, rd_kafka_admin_op_t op, absl::Time deadline) {
  KafkaAdminOptions options(rd_kafka_AdminOptions_new(client, op));
  char error[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), RemainingMs(deadline), error, sizeof error);
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS) {
    // Answer once the topic is made, not when the controller has the request.
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), RemainingMs(deadline), error, sizeof error);
  }
  return options;
}

KafkaEvent AwaitResult(rd_kafka_queue_t* queue, absl::Time deadline) {
  // librdkafka answers by the request timeout at the latest; the margin keeps
  // a late answer from being taken for silence.
  return KafkaEvent(rd_kafka_queue_poll(queue, RemainingMs(deadline) + 1000));
}

CreateTopicResult CreateTopic(rd_kafka_t* client, const std::string& topic, int32_t partitions,
                              const std::vector<std::pair<std::string, std::string>>& configs, absl::Time deadline) {
  char error[256];
  std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> new_topic(
      rd_kafka_NewTopic_new(topic.c_str(), partitions, /*replication_factor=*/-1, error, sizeof error));
  if (new_topic == nullptr) return {RD_KAFKA_RESP_ERR__INVALID_ARG, error};
  for (const auto& [name, value] : configs) rd_kafka_NewTopic_set_config(new_topic.get(), name.c_str(), value.c_str());
  KafkaAdminOptions options = MakeAdminOptions(client, RD_KAFKA_ADMIN_OP_CREATETOPICS, deadline);
  KafkaQueue queue(rd_kafka_queue_new(client));
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(client, topics, 1, options.get(), queue.get());
  KafkaEvent event = AwaitResult(queue.get(), deadline);
  if (event == nullptr) return {RD_KAFKA_RESP_ERR__TIMED_OUT, "no answer"};
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {rd_kafka_event_error(event.get()), rd_kafka_event_error_string(event.get())};
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* text = rd_kafka_topic_result_error_string(results[i]);
      return {rd_kafka_topic_result_error(results[i]),
              text != nullptr ? text : KafkaErrorText(rd_kafka_topic_result_error(results[i]))};
    }
  }
  return {};
}

std::string ClientBootstrapServers(rd_kafka_t* client) {
  char servers[512] = "";
  size_t size = sizeof servers;
  rd_kafka_conf_get(rd_kafka_conf(client), "bootstrap.servers", servers, &size);
  return servers;
}

absl::StatusOr<std::string> TopicConfig(rd_kafka_t* client, const std::string& topic, absl::string_view name,
                                        absl::Time deadline) {
  const std::string where = absl::StrCat("kafka://", ClientBootstrapServers(client), ": topic '", topic, "'");
  std::unique_ptr<rd_kafka_ConfigResource_t, ConfigResourceDeleter> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  KafkaAdminOptions options = MakeAdminOptions(client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, deadline);
  KafkaQueue queue(rd_kafka_queue_new(client));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(client, resources, 1, options.get(), queue.get());
  KafkaEvent event = AwaitResult(queue.get(), deadline);
  if (event == nullptr || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* reason = event == nullptr ? "no answer" : rd_kafka_event_error_string(event.get());
    return absl::UnavailableError(absl::StrCat(where, ": cannot read its configuration: ", reason));
  }
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_ConfigResource_error(described[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat(where, ": cannot read its configuration: ",
                                                 rd_kafka_ConfigResource_error_string(described[i])));
    }
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(described[i], &entries);
    for (size_t j = 0; j < entries; ++j) {
      if (absl::string_view(rd_kafka_ConfigEntry_name(configs[j])) == name) {
        const char* value = rd_kafka_ConfigEntry_value(configs[j]);
        return std::string(value != nullptr ? value : "");
      }
    }
  }
  return absl::UnavailableError(absl::StrCat(where, ": its configuration has no ", name));
}

absl::StatusOr<int> TopicPartitionCount(rd_kafka_t* client, const std::string& topic, bool wait_for_it,
                                        absl::Time deadline) {
  for (;;) {
    // Every topic's metadata, not the one's: a request naming a missing
    // topic would have a broker that auto-creates topics create it, with
    // the wrong cleanup.policy.
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(client, 1, nullptr, &raw, RemainingMs(deadline));
    KafkaMetadata metadata(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("kafka://", ClientBootstrapServers(client),
                                                 ": cannot read the metadata of topic '", topic,
                                                 "': ", KafkaErrorText(err)));
    }
    int count = 0;
    bool ready = false;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = metadata->topics[i];
      if (topic != t.topic || t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
      count = t.partition_cnt;
      ready = t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0 &&
              std::all_of(t.partitions, t.partitions + t.partition_cnt,
                          [](const rd_kafka_metadata_partition_t& p) { return p.leader >= 0; });
    }
    if (ready || (count == 0 && !wait_for_it)) return count;
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(absl::StrCat("kafka://", ClientBootstrapServers(client), ": topic '", topic,
                                                 "' has no leader for every partition yet"));
    }
    // Metadata has no event to await: a new topic's leaders show up within
    // moments, so ask again shortly.
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::Status DeleteRecordsBefore(rd_kafka_t* client, const std::string& topic,
                                 const std::vector<std::pair<int32_t, int64_t>>& before, absl::Time deadline) {
  if (before.empty()) return absl::OkStatus();
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(before.size())));
  for (const auto& [partition, offset] : before) {
    rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = offset;
  }
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(offsets.get());
  KafkaAdminOptions options = MakeAdminOptions(client, RD_KAFKA_ADMIN_OP_DELETERECORDS, deadline);
  KafkaQueue queue(rd_kafka_queue_new(client));
  rd_kafka_DeleteRecords(client, &request, 1, options.get(), queue.get());
  rd_kafka_DeleteRecords_destroy(request);
  KafkaEvent event = AwaitResult(queue.get(), deadline);
  if (event == nullptr) return absl::DeadlineExceededError(absl::StrCat("DeleteRecords on '", topic, "': no answer"));
  if (rd_kafka_resp_err_t err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("DeleteRecords on '", topic, "': ", rd_kafka_event_error_string(event.get())));
  }
  const rd_kafka_topic_partition_list_t* result =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event.get()));
  for (int i = 0; result != nullptr && i < result->cnt; ++i) {
    if (result->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("DeleteRecords on '", topic, "' partition ", result->elems[i].partition,
                                                 ": ", KafkaErrorText(result->elems[i].err)));
    }
  }
  return absl::OkStatus();
}

}  // namespace tally
