// Dead letters that could never be produced, against librdkafka's mock
// cluster (as kafka_transaction_test.cc): a letter above the producer's
// message.max.bytes is cut to fit, with the original's size and hash in
// headers; a record refused for good is a fatal error, not an abort to redo;
// and the committer gives up after kMaxConsecutiveAborts aborts in a row.
// The real broker's side is in test/integration/available_now_test.sh.
#include "kafka/kafka_dead_letter_sink.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "kafka/transactional_committer.h"
#include "runtime/task_set.h"
#include "state/store_provider.h"

#include "kafka_mock_cluster.h"

namespace tally {
namespace {

// The first record of partition 0 of `topic`: its value and headers.
struct ReadBack {
  std::string value;
  std::map<std::string, std::string> headers;
};
ReadBack ReadFirst(const std::string& servers, const std::string& topic) {
  auto conf = MakeKafkaConf({{"bootstrap.servers", servers}, {"group.id", "reader"}}, {});
  char error[512];
  KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), error, sizeof error));
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), list.get());
  ReadBack result;
  for (int i = 0; i < 100; ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      result.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t h = 0; rd_kafka_header_get_all(headers, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++h) {
          result.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      rd_kafka_message_destroy(m);
      break;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer.get());
  return result;
}

DeadLetter Letter(std::string bytes) {
  return DeadLetter{DeadLetterReason::kNotJson, "not JSON", std::move(bytes), RecordOrigin{0, 7}};
}

TEST(KafkaDeadLetterTest, ALetterAboveMessageMaxBytesIsCutAndKeepsItsSizeAndHash) {
  MockCluster cluster({"in", "dl"});
  auto producer = KafkaProducer::Open(cluster.bootstrap_servers(), {}, {{"message.max.bytes", "10000"}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  KafkaDeadLetterSink sink(std::move(*producer), KafkaEndpoint{cluster.bootstrap_servers(), "dl"}, "in");
  const std::vector<DeadLetter> letters = {Letter(std::string(50000, 'x'))};
  ASSERT_TRUE(sink.Write(letters).ok());
  ASSERT_TRUE(sink.Flush().ok());

  ReadBack letter = ReadFirst(cluster.bootstrap_servers(), "dl");
  EXPECT_GT(letter.value.size(), 9000u);
  EXPECT_LT(letter.value.size(), 10000u);
  EXPECT_EQ(letter.value, std::string(letter.value.size(), 'x'));
  EXPECT_EQ(letter.headers["tally.record.size"], "50000");
  EXPECT_EQ(letter.headers["tally.record.sha256"], "9483d1c3ad73c1fcfe3260e5fdecbd9a70966a2cf2cd8b95c59d691e46790149");
  EXPECT_EQ(letter.headers["tally.error.reason"], "not_json");
  EXPECT_EQ(letter.headers["tally.source.offset"], "7");
}

TEST(KafkaDeadLetterTest, ALetterThatFitsIsWholeAndHasNoSizeHeaders) {
  MockCluster cluster({"in", "dl"});
  auto producer = KafkaProducer::Open(cluster.bootstrap_servers(), {}, {{"message.max.bytes", "10000"}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  KafkaDeadLetterSink sink(std::move(*producer), KafkaEndpoint{cluster.bootstrap_servers(), "dl"}, "in");
  const std::vector<DeadLetter> letters = {Letter("{not json")};
  ASSERT_TRUE(sink.Write(letters).ok());
  ASSERT_TRUE(sink.Flush().ok());
  ReadBack letter = ReadFirst(cluster.bootstrap_servers(), "dl");
  EXPECT_EQ(letter.value, "{not json");
  EXPECT_EQ(letter.headers.count("tally.record.size"), 0u);
}

TEST(KafkaDeadLetterTest, ARecordTooLargeForTheProducerIsFatalNotAborted) {
  MockCluster cluster({"in", "dl"});
  auto producer = KafkaProducer::Open(cluster.bootstrap_servers(), {}, {{"message.max.bytes", "10000"}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::Status s = (*producer)->ProduceTo("dl", 0, "k", std::string(50000, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "message.max.bytes")) << s;
}

TEST(KafkaDeadLetterTest, ADeliveryRefusedForGoodIsTakenAsPermanent) {
  MockCluster cluster({"in", "dl"});
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-dl", {}, absl::Seconds(5));
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_TRUE((*txn)->Begin().ok());
  cluster.Fail(kProduce, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  ASSERT_TRUE((*txn)->producer().ProduceTo("dl", 0, "k", "v").ok());
  EXPECT_EQ((*txn)->Commit().code(), absl::StatusCode::kAborted);
  absl::Status delivery = (*txn)->producer().TakeDeliveryError();
  EXPECT_EQ(delivery.code(), absl::StatusCode::kFailedPrecondition) << delivery;
  EXPECT_TRUE(absl::StrContains(delivery.message(), "WRITE and DESCRIBE on topic 'dl'")) << delivery;
  EXPECT_TRUE((*txn)->producer().TakeDeliveryError().ok());  // taken
}

// A TransactionalCommitter over the mock cluster, with one task that staged
// one dead letter.
class DeadLetterCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A short transaction timeout: the retry window derives from it.
    auto txn = KafkaTransaction::Open(cluster_.bootstrap_servers(), "tally-letters",
                                      {{"transaction.timeout.ms", "2000"}}, absl::Seconds(5));
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn_ = std::move(*txn);
    KafkaSourceOptions options;
    options.endpoint = KafkaEndpoint{cluster_.bootstrap_servers(), "in"};
    options.group = "g";
    auto source = KafkaSource::Open(options);
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = std::move(*source);
    letters_ = std::make_unique<KafkaDeadLetterSink>(txn_->producer(),
                                                     KafkaEndpoint{cluster_.bootstrap_servers(), "dl"}, "in");
    committer_ = std::make_unique<TransactionalCommitter>(*txn_, *source_, *letters_, "changelog");
    auto task = tasks_.Get(0);
    ASSERT_TRUE(task.ok()) << task.status();
    (*task)->staged = true;
    (*task)->staged_letters.push_back(Letter("{"));
  }

  MockCluster cluster_{"in", "dl"};
  std::unique_ptr<KafkaTransaction> txn_;
  std::unique_ptr<KafkaSource> source_;
  std::unique_ptr<KafkaDeadLetterSink> letters_;
  std::unique_ptr<TransactionalCommitter> committer_;
  MemoryStoreProvider stores_;
  ProcessorOptions processor_;
  TaskSet tasks_{stores_, processor_};
};

// The committer's side: a transaction with a letter that can never be
// delivered is aborted and the run stops (FailedPrecondition), at once.
TEST_F(DeadLetterCommitTest, TheCommitterStopsAtOnceOnARecordRefusedForGood) {
  cluster_.Fail(kProduce, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  absl::Status s = committer_->Commit(tasks_);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "can never be delivered")) << s;
  EXPECT_FALSE(txn_->in_transaction());  // aborted, not left to time out
}

// A transaction whose letter the broker refuses each time, abortably: the
// committer aborts (the loop would redo) four times, then gives up.
TEST_F(DeadLetterCommitTest, TheCommitterGivesUpAfterFiveAbortsInARow) {
  cluster_.Fail(kProduce, 100, RD_KAFKA_RESP_ERR_INVALID_RECORD);
  for (int i = 1; i < KafkaTransaction::kMaxConsecutiveAborts; ++i) {
    absl::Status s = committer_->Commit(tasks_);
    ASSERT_EQ(s.code(), absl::StatusCode::kAborted) << "commit " << i << ": " << s;
  }
  absl::Status s = committer_->Commit(tasks_);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "aborted 5 times in a row")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "last error")) << s;
}

}  // namespace
}  // namespace tally
