#pragma once
// librdkafka's mock cluster (rdkafka_mock.h: brokers inside the process whose
// requests can be made to fail), for unit tests of the Kafka types.

#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "kafka/kafka_config.h"

namespace tally {

// Kafka protocol API keys, as the mock's error injection takes them.
inline constexpr int16_t kProduce = 0;
inline constexpr int16_t kFindCoordinator = 10;
inline constexpr int16_t kInitProducerId = 22;
inline constexpr int16_t kEndTxn = 26;

// One mock broker with the given topics (one partition each).
class MockCluster {
 public:
  explicit MockCluster(std::initializer_list<const char*> topics) {
    auto conf = MakeKafkaConf({}, {});
    char error[512];
    handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), error, sizeof error));
    cluster_ = rd_kafka_mock_cluster_new(handle_.get(), 1);
    for (const char* topic : topics) rd_kafka_mock_topic_create(cluster_, topic, 1, 1);
  }
  ~MockCluster() { rd_kafka_mock_cluster_destroy(cluster_); }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::string bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  // The next `n` requests of `api` fail with `err`.
  void Fail(int16_t api, size_t n, rd_kafka_resp_err_t err) {
    std::vector<rd_kafka_resp_err_t> errors(n, err);
    rd_kafka_mock_push_request_errors_array(cluster_, api, n, errors.data());
  }
  void Heal(int16_t api) { rd_kafka_mock_clear_request_errors(cluster_, api); }

 private:
  KafkaHandle handle_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace tally
