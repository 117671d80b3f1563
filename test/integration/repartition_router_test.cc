// RepartitionRouter (sub-topology 0) against the real broker of the local
// stack: records of a 3-partition input, not keyed by learner, go to the
// repartition topic in the partition of their learner, decodable, each once;
// invalid ones go to the dead letters; the input offsets commit with them.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/repartition_record.h"
#include "core/uuid.h"
#include "kafka/changelog_topic.h"
#include "kafka/kafka_dead_letter_sink.h"
#include "kafka/kafka_producer.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "kafka/repartition_router.h"
#include "kafka/topic_admin.h"
#include "kafka_test_env.h"

namespace tally {
namespace {

std::string EventJson(int i, int user) {
  return absl::StrCat(R"({"EventUUID":"00000000-0000-4000-8000-)", absl::StrFormat("%012d", i),
                      R"(","UserUUID":"11111111-1111-4111-8111-)", absl::StrFormat("%012d", user),
                      R"(","EventName":"lesson","CreatedAt":"2024-03-10T10:00:00Z"})");
}

TEST(RepartitionRouterTest, RoutesEachValidRecordOnceToItsLearnersPartition) {
  auto producer = KafkaProducer::Open(KafkaAddress(), {});
  ASSERT_TRUE(producer.ok()) << producer.status() << " (is the local stack up? scripts/local-stack start kafka)";
  const std::string input = UniqueName("router-in");
  const std::string repartition = UniqueName("router-repartition");
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  ASSERT_EQ(CreateTopic((*producer)->handle(), input, 3, {}, deadline).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(CreateTopic((*producer)->handle(), repartition, 4, {}, deadline).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  // 300 valid records of 20 learners spread over the input's partitions
  // with no key, and every 50th record invalid.
  int invalid = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string value = i % 50 == 7 ? (++invalid, std::string("not json")) : EventJson(i, i % 20);
    ASSERT_TRUE((*producer)->ProduceTo(input, i % 3, "", std::string_view(value)).ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());

  KafkaSourceOptions source_options;
  source_options.endpoint = *ParseKafkaEndpoint(absl::StrCat("kafka://", KafkaAddress(), "/", input));
  source_options.group = UniqueName("router-group");
  source_options.available_now = true;
  auto source = KafkaSource::Open(source_options);
  ASSERT_TRUE(source.ok()) << source.status();
  auto transaction = KafkaTransaction::Open(KafkaAddress(), UniqueName("router-txn"), {});
  ASSERT_TRUE(transaction.ok()) << transaction.status();
  KafkaDeadLetterSink dead_letters((*transaction)->producer(),
                                   *ParseKafkaEndpoint(absl::StrCat("kafka://", KafkaAddress(), "/", input, ".dl")),
                                   input);
  ASSERT_TRUE(dead_letters.EnsureTopic().ok());

  RepartitionRouterOptions options;
  options.repartition_topic = repartition;
  options.partitions = 4;
  options.commit_interval = absl::Milliseconds(300);
  RepartitionRouter router(**source, **transaction, dead_letters, options);
  auto result = router.Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records_read, 300);
  EXPECT_EQ(result->dead_letters, invalid);
  EXPECT_EQ(result->routed, 300 - invalid);

  // Each valid record once, decodable, in its learner's partition, with its
  // input origin and original bytes.
  std::set<int64_t> input_offsets_seen;
  int routed = 0, stand_ins = 0;
  for (int32_t p = 0; p < 4; ++p) {
    auto end = ReadChangelog(KafkaAddress(), {}, repartition, p, 0, [&](const ChangelogRecord& r) {
      RepartitionRecord record;
      absl::Status s = DecodeRepartitionValue(*r.value, &record);
      EXPECT_TRUE(s.ok()) << s;
      if (record.invalid) {  // stands for an invalid input record, counted on the counting side
        EXPECT_EQ(record.reason, DeadLetterReason::kNotJson);
        ++stand_ins;
        return absl::OkStatus();
      }
      EXPECT_EQ(RepartitionPartition(record.event.user_id, 4), p);
      EXPECT_EQ(record.original.substr(0, 1), "{");
      EXPECT_TRUE(input_offsets_seen.insert(record.input_origin.partition * 1000000 + record.input_origin.position)
                      .second)
          << "routed twice";
      ++routed;
      return absl::OkStatus();
    });
    ASSERT_TRUE(end.ok()) << end.status();
  }
  EXPECT_EQ(routed, 300 - invalid);
  EXPECT_EQ(stand_ins, invalid);
}

}  // namespace
}  // namespace tally
