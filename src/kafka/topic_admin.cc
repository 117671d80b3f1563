#include "kafka/topic_admin.h"

#include <algorithm>
#include <memory>

#include "absl/time/clock.h"

namespace tally {
namespace {

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
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

}  // namespace tally
