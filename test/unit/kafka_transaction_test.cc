// KafkaTransaction's reading of librdkafka's transactional errors, against
// librdkafka's mock cluster (rdkafka_mock.h: brokers inside the process whose
// requests can be made to fail). What a real broker does is in
// test/integration/kafka_transaction_test.cc.
#include "kafka/kafka_transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

#include "kafka_mock_cluster.h"

namespace tally {
namespace {

TEST(KafkaTransactionMockTest, NoCoordinatorMeansTheClusterCannotRunTransactions) {
  MockCluster cluster({"t"});
  // What a transaction log that cannot be placed looks like to a client.
  cluster.Fail(kFindCoordinator, 10000, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-7", {}, absl::Seconds(1));
  ASSERT_FALSE(txn.ok());
  const absl::Status& s = txn.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), cluster.bootstrap_servers())) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "'tally-7'")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "transaction.state.log.replication.factor")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "Kafka >= 2.5")) << s;
}

TEST(KafkaTransactionMockTest, AnUnauthorizedIdIsNamedWithTheAclToGrant) {
  MockCluster cluster({"t"});
  cluster.Fail(kInitProducerId, 1, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-7", {}, absl::Seconds(5));
  ASSERT_FALSE(txn.ok());
  EXPECT_EQ(txn.status().code(), absl::StatusCode::kFailedPrecondition) << txn.status();
  EXPECT_TRUE(absl::StrContains(txn.status().message(), "WRITE and DESCRIBE on TransactionalId 'tally-7'"))
      << txn.status();
}

TEST(KafkaTransactionMockTest, AFailedRecordMakesTheTransactionAbortable) {
  MockCluster cluster({"t"});
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-7", {}, absl::Seconds(5));
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_TRUE((*txn)->Begin().ok());
  cluster.Fail(kProduce, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);  // not retried: the record fails
  ASSERT_TRUE((*txn)->producer().ProduceTo("t", 0, "k", "v").ok());
  absl::Status s = (*txn)->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_TRUE((*txn)->in_transaction());
  // Until aborted, the transaction takes no more records.
  s = (*txn)->producer().ProduceTo("t", 0, "k", "v");
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;

  s = (*txn)->Abort();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE((*txn)->in_transaction());
  // (That the next transaction then commits is shown against a real broker:
  // the mock of librdkafka 2.0.2 does not reset the sequence numbers on the
  // abort's epoch bump.)
}

TEST(KafkaTransactionMockTest, ACommitTimingOutIsRetriableAndResumes) {
  MockCluster cluster({"t"});
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-7", {}, absl::Seconds(1));
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_TRUE((*txn)->Begin().ok());
  ASSERT_TRUE((*txn)->producer().ProduceTo("t", 0, "k", "v").ok());
  cluster.Fail(kEndTxn, 10000, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
  absl::Status s = (*txn)->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE((*txn)->in_transaction());

  cluster.Heal(kEndTxn);
  s = (*txn)->Commit();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE((*txn)->in_transaction());
  EXPECT_EQ((*txn)->producer().LastOffset("t", 0), 0);
}

TEST(KafkaTransactionMockTest, AbortWithNothingOpenIsFine) {
  MockCluster cluster({"t"});
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-7", {}, absl::Seconds(5));
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_TRUE((*txn)->Abort().ok());
  ASSERT_TRUE((*txn)->Begin().ok());
  EXPECT_TRUE((*txn)->Abort().ok());
  EXPECT_FALSE((*txn)->in_transaction());
  EXPECT_TRUE((*txn)->Abort().ok());
}

// The steps of a transaction are retried only while the broker would still
// let it commit: a window below transaction.timeout.ms, tally's default or
// the user's, never the fixed 2 minutes that outlasted the 60 s timeout.
TEST(KafkaTransactionMockTest, TheRetryWindowEndsBeforeTheTransactionTimesOut) {
  MockCluster cluster({"t"});
  auto txn = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-7", {}, absl::Seconds(5));
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_EQ((*txn)->transaction_timeout(), absl::Seconds(60));
  EXPECT_LT((*txn)->retry_window(), (*txn)->transaction_timeout());
  EXPECT_GE((*txn)->retry_window(), (*txn)->transaction_timeout() / 2);

  auto tuned = KafkaTransaction::Open(cluster.bootstrap_servers(), "tally-8", {{"transaction.timeout.ms", "20000"}},
                                      absl::Seconds(5));
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ((*tuned)->transaction_timeout(), absl::Seconds(20));
  EXPECT_LT((*tuned)->retry_window(), absl::Seconds(20));
  EXPECT_GT((*tuned)->retry_window(), absl::ZeroDuration());
}

}  // namespace
}  // namespace tally
