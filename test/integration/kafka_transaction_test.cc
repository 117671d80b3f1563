// tally's transactional producer and changelog topics against the real Kafka
// of the local stack (scripts/local-stack: Kafka 3.9, one KRaft broker with a
// transaction log of replication 1, on 127.0.0.1:9092, or $TALLY_KAFKA). Each
// test makes topics of its own (random names) and the suite deletes them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kafka/changelog_topic.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_endpoint.h"
#include "kafka/kafka_producer.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "kafka_test_env.h"

namespace tally {
namespace {

struct Record {
  std::string key;
  std::optional<std::string> value;
  int64_t offset;
  bool operator==(const Record&) const = default;
};

void PrintTo(const Record& r, std::ostream* os) {
  *os << "{" << r.key << ", " << (r.value ? "'" + *r.value + "'" : "null") << ", @" << r.offset << "}";
}

// Reads a changelog partition into records.
absl::StatusOr<int64_t> ReadAll(const std::string& topic, int32_t partition, int64_t from, std::vector<Record>* out,
                                absl::Duration timeout = absl::Seconds(30)) {
  return ReadChangelog(
      KafkaAddress(), {}, topic, partition, from,
      [out](const ChangelogRecord& r) {
        out->push_back(Record{std::string(r.key),
                              r.value ? std::optional<std::string>(std::string(*r.value)) : std::nullopt, r.offset});
        return absl::OkStatus();
      },
      timeout);
}

using AdminEvent = KafkaEvent;

class KafkaTransactionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto admin = KafkaProducer::Open(KafkaAddress(), {}, {}, absl::Seconds(10));
    ASSERT_TRUE(admin.ok()) << admin.status() << " (is the local stack up? scripts/local-stack start kafka)";
    admin_ = std::move(*admin).release();
  }

  static void TearDownTestSuite() {
    if (admin_ == nullptr) return;
    if (!topics_.empty()) {
      std::vector<rd_kafka_DeleteTopic_t*> deletes;
      for (const std::string& t : topics_) deletes.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
      KafkaQueue queue(rd_kafka_queue_new(rk()));
      rd_kafka_DeleteTopics(rk(), deletes.data(), deletes.size(), nullptr, queue.get());
      AdminEvent event(rd_kafka_queue_poll(queue.get(), 30000));
      EXPECT_NE(event, nullptr) << "no answer to DeleteTopics";
      rd_kafka_DeleteTopic_destroy_array(deletes.data(), deletes.size());
      topics_.clear();
    }
    delete admin_;
    admin_ = nullptr;
  }

  static rd_kafka_t* rk() { return admin_->handle(); }

  // A fresh compacted topic made as tally makes its changelogs.
  static std::string NewChangelog(const std::string& what, int32_t partitions) {
    const std::string topic = UniqueName(what);
    topics_.push_back(topic);
    absl::Status s = EnsureChangelogTopic(rk(), topic, partitions);
    EXPECT_TRUE(s.ok()) << s;
    return topic;
  }

  // A fresh topic with the broker's default configuration (cleanup.policy=delete).
  static std::string NewPlainTopic(const std::string& what, int32_t partitions,
                                   const std::vector<std::pair<std::string, std::string>>& config = {}) {
    const std::string topic = UniqueName(what);
    topics_.push_back(topic);
    char error[256];
    rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error);
    for (const auto& [key, value] : config) rd_kafka_NewTopic_set_config(t, key.c_str(), value.c_str());
    KafkaAdminOptions options(
        rd_kafka_AdminOptions_new(rk(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), 20000, error, sizeof error);
    KafkaQueue queue(rd_kafka_queue_new(rk()));
    rd_kafka_CreateTopics(rk(), &t, 1, options.get(), queue.get());
    AdminEvent event(rd_kafka_queue_poll(queue.get(), 30000));
    rd_kafka_NewTopic_destroy(t);
    EXPECT_NE(event, nullptr);
    if (event == nullptr) return topic;
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &n);
    EXPECT_EQ(n, 1u);
    if (n == 1) {
      EXPECT_EQ(rd_kafka_topic_result_error(results[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    return topic;
  }

  // The topic's `key` configuration, as the broker tells it.
  static std::string TopicConfig(const std::string& topic, const std::string& key) {
    rd_kafka_ConfigResource_t* resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    KafkaQueue queue(rd_kafka_queue_new(rk()));
    rd_kafka_DescribeConfigs(rk(), &resource, 1, nullptr, queue.get());
    AdminEvent event(rd_kafka_queue_poll(queue.get(), 30000));
    rd_kafka_ConfigResource_destroy(resource);
    if (event == nullptr) return "(no answer)";
    size_t n = 0;
    const rd_kafka_ConfigResource_t** described =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      size_t entries = 0;
      const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(described[i], &entries);
      for (size_t j = 0; j < entries; ++j) {
        if (key == rd_kafka_ConfigEntry_name(configs[j])) return rd_kafka_ConfigEntry_value(configs[j]);
      }
    }
    return "(none)";
  }

  // The topic's partition count from the cluster's metadata; -1 if missing.
  static int PartitionCount(const std::string& topic) {
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(rk(), 1, nullptr, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    int count = -1;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      if (topic == metadata->topics[i].topic) count = metadata->topics[i].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
    return count;
  }

  // (low, high) of a partition as read_uncommitted (high: the high
  // watermark) or read_committed (high: the last stable offset) sees it.
  static std::pair<int64_t, int64_t> Watermarks(const std::string& topic, int32_t partition, bool committed) {
    auto conf = MakeKafkaConf({{"bootstrap.servers", KafkaAddress()},
                               {"isolation.level", committed ? "read_committed" : "read_uncommitted"}},
                              {});
    EXPECT_TRUE(conf.ok());
    char error[256];
    KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), error, sizeof error));
    int64_t low = -1, high = -1;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), partition, &low, &high, 10000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    return {low, high};
  }
  static int64_t HighWatermark(const std::string& topic, int32_t partition) {
    return Watermarks(topic, partition, false).second;
  }

  // Waits until every transaction on the partition has its marker written:
  // Commit and Abort return once the coordinator has logged the outcome; the
  // markers follow a moment later, and until then the last stable offset
  // stays below the high watermark. No event tells of it: ask the broker.
  static void AwaitMarkers(const std::string& topic, int32_t partition) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (Watermarks(topic, partition, true).second != HighWatermark(topic, partition)) {
      ASSERT_LT(absl::Now(), deadline) << "the transaction markers of " << topic << " never came";
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  static std::unique_ptr<KafkaTransaction> OpenTransaction(const std::string& id) {
    auto t = KafkaTransaction::Open(KafkaAddress(), id, {}, absl::Seconds(30));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  }

  static KafkaProducer* admin_;
  static std::vector<std::string> topics_;
};

KafkaProducer* KafkaTransactionTest::admin_ = nullptr;
std::vector<std::string> KafkaTransactionTest::topics_;

TEST_F(KafkaTransactionTest, CommittedRecordsReadBackWithTombstonesAndOffsets) {
  const std::string topic = NewChangelog("commit", 2);
  const std::string other = NewChangelog("commit-other", 1);
  std::unique_ptr<KafkaTransaction> txn = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(txn, nullptr);

  ASSERT_TRUE(txn->Begin().ok());
  EXPECT_TRUE(txn->in_transaction());
  KafkaProducer& p = txn->producer();
  ASSERT_TRUE(p.ProduceTo(topic, 0, "a", "1").ok());
  ASSERT_TRUE(p.ProduceTo(topic, 0, "b", std::nullopt).ok());  // a tombstone
  ASSERT_TRUE(p.ProduceTo(topic, 0, "c", "").ok());            // an empty value, not a tombstone
  ASSERT_TRUE(p.ProduceTo(topic, 1, "d", "4", {{"h", "x"}}).ok());
  absl::Status s = txn->Commit();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(txn->in_transaction());
  EXPECT_EQ(p.LastOffset(topic, 0), 2);
  EXPECT_EQ(p.LastOffset(topic, 1), 0);
  EXPECT_EQ(p.LastOffset(topic, 2), -1);
  EXPECT_EQ(p.LastOffset(other, 0), -1);

  // The next transaction starts the offsets afresh.
  ASSERT_TRUE(txn->Begin().ok());
  EXPECT_EQ(p.LastOffset(topic, 0), -1);
  ASSERT_TRUE(p.ProduceTo(topic, 0, "a", "2").ok());
  ASSERT_TRUE(p.Produce(other, "e", "5").ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(p.LastOffset(topic, 0), 4);  // after a, b, c and the first commit's marker at 3
  EXPECT_EQ(p.LastOffset(topic, 1), -1);
  EXPECT_EQ(p.LastOffset(other, 0), 0);

  AwaitMarkers(topic, 0);
  AwaitMarkers(topic, 1);
  std::vector<Record> records;
  absl::StatusOr<int64_t> end = ReadAll(topic, 0, 0, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(records, (std::vector<Record>{{"a", "1", 0}, {"b", std::nullopt, 1}, {"c", "", 2}, {"a", "2", 4}}));
  EXPECT_EQ(*end, HighWatermark(topic, 0));
  EXPECT_EQ(*end, 6);  // past the second commit's marker at 5

  records.clear();
  end = ReadAll(topic, 1, 0, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(records, (std::vector<Record>{{"d", "4", 0}}));
  EXPECT_EQ(*end, 2);
  EXPECT_EQ(*end, HighWatermark(topic, 1));

  // From a checkpoint in the middle: the rest only.
  records.clear();
  end = ReadAll(topic, 0, 2, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(records, (std::vector<Record>{{"c", "", 2}, {"a", "2", 4}}));
  EXPECT_EQ(*end, 6);
}

TEST_F(KafkaTransactionTest, AbortedRecordsAreSkippedAndTheReadEndsPastTheMarker) {
  const std::string topic = NewChangelog("abort", 1);
  std::unique_ptr<KafkaTransaction> txn = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(txn, nullptr);

  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "x", "1").ok());
  ASSERT_TRUE(txn->Commit().ok());  // x at 0, marker at 1

  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "y", "2").ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "z", std::nullopt).ok());
  // Written to the log before the abort, so there is something to skip.
  ASSERT_TRUE(txn->producer().Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(txn->producer().LastOffset(topic, 0), 3);
  absl::Status s = txn->Abort();  // y at 2, z at 3, marker at 4
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(txn->in_transaction());
  EXPECT_TRUE(txn->Abort().ok()) << "none open: nothing to do";

  AwaitMarkers(topic, 0);
  ASSERT_EQ(HighWatermark(topic, 0), 5);
  std::vector<Record> records;
  absl::StatusOr<int64_t> end = ReadAll(topic, 0, 0, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(records, (std::vector<Record>{{"x", "1", 0}}));
  EXPECT_EQ(*end, 5);

  records.clear();
  end = ReadAll(topic, 0, 2, &records);  // from inside the aborted transaction
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_TRUE(records.empty());
  EXPECT_EQ(*end, 5);

  // The producer goes on after an abort.
  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "w", "3").ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(txn->producer().LastOffset(topic, 0), 5);
}

TEST_F(KafkaTransactionTest, ARecordTheBrokerRefusesAbortsTheTransactionAndTheNextOneCommits) {
  const std::string topic = NewPlainTopic("refusing", 1, {{"max.message.bytes", "1000"}});
  std::unique_ptr<KafkaTransaction> txn = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(txn, nullptr);
  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "small", "1").ok());
  ASSERT_TRUE(txn->producer().Flush(absl::Seconds(10)).ok());
  // Too large for the topic, not for the producer: the broker refuses it.
  // (Random, so that compression does not shrink it below the limit.)
  absl::BitGen gen;
  std::string large(5000, ' ');
  for (char& c : large) c = static_cast<char>(absl::Uniform<int>(gen, 0, 256));
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "large", large).ok());
  absl::Status s = txn->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_TRUE(txn->in_transaction());
  s = txn->producer().ProduceTo(topic, 0, "small", "2");
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  s = txn->Abort();
  ASSERT_TRUE(s.ok()) << s;

  // Redo, as a caller does on Aborted. librdkafka 2.0.2 keeps the refused
  // record's sequence number through that abort, so the first redo fails
  // too (OUT_OF_ORDER_SEQUENCE_NUMBER, abortable); its abort bumps the
  // producer's epoch, and the next one commits.
  int attempts = 0;
  for (;;) {
    ++attempts;
    ASSERT_TRUE(txn->Begin().ok());
    ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "small", "3").ok());
    s = txn->Commit();
    if (s.ok() || attempts == 3) break;
    ASSERT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    ASSERT_TRUE(txn->Abort().ok());
  }
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_LE(attempts, 2);
  AwaitMarkers(topic, 0);
  std::vector<Record> records;
  absl::StatusOr<int64_t> end = ReadAll(topic, 0, 0, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "3");
  EXPECT_EQ(records[0].offset, txn->producer().LastOffset(topic, 0));
}

TEST_F(KafkaTransactionTest, ReadWaitsForAnotherProducersOpenTransaction) {
  const std::string topic = NewChangelog("open", 1);
  std::unique_ptr<KafkaTransaction> mine = OpenTransaction(UniqueName("txn"));
  std::unique_ptr<KafkaTransaction> theirs = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(mine, nullptr);
  ASSERT_NE(theirs, nullptr);

  ASSERT_TRUE(mine->Begin().ok());
  ASSERT_TRUE(mine->producer().ProduceTo(topic, 0, "k1", "1").ok());
  ASSERT_TRUE(mine->Commit().ok());  // k1 at 0, marker at 1
  AwaitMarkers(topic, 0);

  ASSERT_TRUE(theirs->Begin().ok());
  ASSERT_TRUE(theirs->producer().ProduceTo(topic, 0, "k2", "2").ok());
  ASSERT_TRUE(theirs->producer().ProduceTo(topic, 0, "k3", "3").ok());
  ASSERT_TRUE(theirs->producer().Flush(absl::Seconds(10)).ok());  // k2 at 2, k3 at 3, still open
  ASSERT_EQ(HighWatermark(topic, 0), 4);
  ASSERT_EQ(Watermarks(topic, 0, true).second, 2) << "the open transaction holds the last stable offset";

  // The read delivers k1, then must wait for their transaction: commit it
  // once the read has k1 in hand.
  std::promise<void> read_first;
  std::atomic<bool> committed = false;
  std::thread committer([&] {
    read_first.get_future().wait();
    absl::Status s = theirs->Commit();
    EXPECT_TRUE(s.ok()) << s;
    committed = true;
  });
  std::vector<Record> records;
  bool signalled = false;
  absl::StatusOr<int64_t> end = ReadChangelog(
      KafkaAddress(), {}, topic, 0, 0,
      [&](const ChangelogRecord& r) {
        records.push_back(Record{std::string(r.key), std::string(*r.value), r.offset});
        if (!signalled) read_first.set_value();
        signalled = true;
        return absl::OkStatus();
      },
      absl::Seconds(30));
  if (!signalled) read_first.set_value();
  committer.join();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_TRUE(committed);
  EXPECT_EQ(records, (std::vector<Record>{{"k1", "1", 0}, {"k2", "2", 2}, {"k3", "3", 3}}));
  // The high watermark when the read started: past k3, short of their
  // commit marker (at 4), which the next read from here skips.
  EXPECT_EQ(*end, 4);
}

TEST_F(KafkaTransactionTest, ReadGivesUpOnATransactionThatStaysOpen) {
  const std::string topic = NewChangelog("stuck", 1);
  std::unique_ptr<KafkaTransaction> theirs = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(theirs, nullptr);
  ASSERT_TRUE(theirs->Begin().ok());
  ASSERT_TRUE(theirs->producer().ProduceTo(topic, 0, "k", "v").ok());
  ASSERT_TRUE(theirs->producer().Flush(absl::Seconds(10)).ok());

  std::vector<Record> records;
  const absl::Time start = absl::Now();
  absl::StatusOr<int64_t> end = ReadAll(topic, 0, 0, &records, absl::Seconds(2));
  EXPECT_EQ(end.status().code(), absl::StatusCode::kUnavailable) << end.status();
  EXPECT_TRUE(absl::StrContains(end.status().message(), "transaction still open")) << end.status();
  EXPECT_TRUE(absl::StrContains(end.status().message(), topic)) << end.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(records.empty());
  ASSERT_TRUE(theirs->Abort().ok());
}

TEST_F(KafkaTransactionTest, SecondOpenWithTheSameIdFencesTheFirst) {
  const std::string topic = NewChangelog("fence", 1);
  const std::string id = UniqueName("txn");
  std::unique_ptr<KafkaTransaction> first = OpenTransaction(id);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Begin().ok());
  ASSERT_TRUE(first->producer().ProduceTo(topic, 0, "old", "1").ok());
  ASSERT_TRUE(first->producer().Flush(absl::Seconds(10)).ok());

  // The second aborts the first's open transaction and takes the id over.
  std::unique_ptr<KafkaTransaction> second = OpenTransaction(id);
  ASSERT_NE(second, nullptr);

  ASSERT_TRUE(first->producer().ProduceTo(topic, 0, "old", "2").ok());  // queued locally: not yet refused
  absl::Status s = first->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "fenced")) << s;
  EXPECT_TRUE(NeedsNewProducer(s)) << s;  // the run starts its job anew on it
  EXPECT_TRUE(absl::StrContains(s.message(), id)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), KafkaAddress())) << s;
  // A fatal error of another kind is not taken for a fence.
  EXPECT_FALSE(NeedsNewProducer(absl::FailedPreconditionError("the producer cannot go on")));
  s = first->Begin();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  s = first->producer().ProduceTo(topic, 0, "old", "3");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "fenced")) << s;

  ASSERT_TRUE(second->Begin().ok());
  ASSERT_TRUE(second->producer().ProduceTo(topic, 0, "new", "1").ok());
  s = second->Commit();
  ASSERT_TRUE(s.ok()) << s;
  AwaitMarkers(topic, 0);
  std::vector<Record> records;
  absl::StatusOr<int64_t> end = ReadAll(topic, 0, 0, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "new");
  EXPECT_EQ(*end, HighWatermark(topic, 0));
}

// The group's committed offset of `topic` partition 0, as the consumer's
// group coordinator tells it.
int64_t Committed(rd_kafka_t* consumer, const std::string& topic) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 0);
  const rd_kafka_resp_err_t err = rd_kafka_committed(consumer, list.get(), 10000);
  EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  EXPECT_EQ(list->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(list->elems[0].err);
  return list->elems[0].offset;
}

TEST_F(KafkaTransactionTest, SentOffsetsAreCommittedWithTheTransactionOnly) {
  const std::string input = NewPlainTopic("input", 1);
  const std::string output = NewChangelog("output", 1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(admin_->Produce(input, "", absl::StrCat("record ", i)).ok());
  ASSERT_TRUE(admin_->Flush(absl::Seconds(10)).ok());

  KafkaSourceOptions options;
  options.endpoint = KafkaEndpoint{KafkaAddress(), input};
  options.group = UniqueName("group");
  auto source = KafkaSource::Open(options);
  ASSERT_TRUE(source.ok()) << source.status();
  // Join the group and read the records.
  RecordBatch batch;
  size_t read = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (read < 10) {
    ASSERT_LT(absl::Now(), deadline) << "the consumer read " << read << " of 10 records";
    absl::Status s = (*source)->Poll(absl::Milliseconds(200), &batch);
    ASSERT_TRUE(s.ok()) << s;
    read += batch.records.size();
  }
  rd_kafka_t* consumer = (*source)->consumer();
  EXPECT_EQ(Committed(consumer, input), RD_KAFKA_OFFSET_INVALID) << "nothing committed yet";

  std::unique_ptr<KafkaTransaction> txn = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(txn, nullptr);
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), input.c_str(), 0)->offset = 6;
  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(output, 0, "k", "v").ok());
  absl::Status s = txn->SendOffsets(consumer, offsets.get());
  ASSERT_TRUE(s.ok()) << s;
  s = txn->Commit();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Committed(consumer, input), 6);

  // Aborted: the offsets sent with it never count.
  offsets->elems[0].offset = 9;
  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(output, 0, "k", "w").ok());
  s = txn->SendOffsets(consumer, offsets.get());
  ASSERT_TRUE(s.ok()) << s;
  s = txn->Abort();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Committed(consumer, input), 6);

  // Nor do the offsets of a transaction left open when its producer goes.
  ASSERT_TRUE(txn->Begin().ok());
  s = txn->SendOffsets(consumer, offsets.get());
  ASSERT_TRUE(s.ok()) << s;
  txn.reset();
  EXPECT_EQ(Committed(consumer, input), 6);
}

TEST_F(KafkaTransactionTest, EnsureChangelogTopicCreatesACompactedTopicOnceAndChecksIt) {
  EXPECT_EQ(ChangelogTopicName("tally", "babbel"), "tally-babbel-changelog");

  const std::string topic = UniqueName("changelog");
  topics_.push_back(topic);
  absl::Status s = EnsureChangelogTopic(rk(), topic, 3, absl::Seconds(30));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(PartitionCount(topic), 3);
  EXPECT_EQ(TopicConfig(topic, "cleanup.policy"), "compact");
  s = EnsureChangelogTopic(rk(), topic, 3, absl::Seconds(30));
  EXPECT_TRUE(s.ok()) << "idempotent: " << s;
  s = EnsureChangelogTopic(rk(), topic, 2, absl::Seconds(30));
  EXPECT_TRUE(s.ok()) << "more partitions than needed: " << s;
  EXPECT_EQ(PartitionCount(topic), 3);

  // Too few partitions.
  s = EnsureChangelogTopic(rk(), topic, 5, absl::Seconds(30));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), topic)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "has 3 partitions")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "--partitions 5")) << s;
  EXPECT_EQ(PartitionCount(topic), 3) << "left as it was";
}

TEST_F(KafkaTransactionTest, EnsureChangelogTopicRefusesATopicThatDeletes) {
  const std::string topic = NewPlainTopic("deleting", 2);
  ASSERT_EQ(TopicConfig(topic, "cleanup.policy"), "delete");
  absl::Status s = EnsureChangelogTopic(rk(), topic, 2, absl::Seconds(30));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat("'", topic, "' has cleanup.policy=delete"))) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "cleanup.policy=compact")) << s;
  EXPECT_EQ(TopicConfig(topic, "cleanup.policy"), "delete") << "left as it was";
}

TEST_F(KafkaTransactionTest, ReadChangelogOutsideThePartitionIsOutOfRange) {
  const std::string topic = NewChangelog("range", 1);
  std::unique_ptr<KafkaTransaction> txn = OpenTransaction(UniqueName("txn"));
  ASSERT_NE(txn, nullptr);
  ASSERT_TRUE(txn->Begin().ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "a", "1").ok());
  ASSERT_TRUE(txn->producer().ProduceTo(topic, 0, "b", "2").ok());
  ASSERT_TRUE(txn->Commit().ok());
  AwaitMarkers(topic, 0);
  ASSERT_EQ(HighWatermark(topic, 0), 3);

  std::vector<Record> records;
  absl::StatusOr<int64_t> end = ReadAll(topic, 0, 10, &records);
  EXPECT_EQ(end.status().code(), absl::StatusCode::kOutOfRange) << end.status();
  EXPECT_TRUE(absl::StrContains(end.status().message(), topic)) << end.status();
  EXPECT_TRUE(absl::StrContains(end.status().message(), "offset 10")) << end.status();
  EXPECT_TRUE(absl::StrContains(end.status().message(), "0 to 3")) << end.status();
  EXPECT_TRUE(records.empty());

  // At the end: nothing to read, at once.
  end = ReadAll(topic, 0, 3, &records);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(*end, 3);
  EXPECT_TRUE(records.empty());

  // A partition the topic does not have.
  end = ReadAll(topic, 7, 0, &records);
  EXPECT_EQ(end.status().code(), absl::StatusCode::kNotFound) << end.status();
}

TEST_F(KafkaTransactionTest, OpenAgainstAnUnreachableClusterFailsQuicklyNamingIt) {
  const absl::Time start = absl::Now();
  auto txn = KafkaTransaction::Open("127.0.0.1:1", UniqueName("txn"), {}, absl::Seconds(3));
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(txn.ok());
  EXPECT_EQ(txn.status().code(), absl::StatusCode::kUnavailable) << txn.status();
  EXPECT_TRUE(absl::StrContains(txn.status().message(), "127.0.0.1:1")) << txn.status();
  EXPECT_LT(took, absl::Seconds(8)) << txn.status();
}

}  // namespace
}  // namespace tally
