// --kafka passes librdkafka properties through to every client, except those
// tally owns: a user's isolation.level or transactional.id would silently
// break exactly once, so ParseKafkaProperties refuses them (the CLI turns
// that into exit 2 before anything connects; test/cli/kafka_properties_test.sh).
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "kafka/kafka_config.h"

namespace tally {
namespace {

// Each owned key with a value librdkafka would accept, so only the ownership
// can refuse it.
const std::pair<std::string, std::string> kOwned[] = {
    {"bootstrap.servers", "10.0.0.1:9092"},
    {"metadata.broker.list", "10.0.0.1:9092"},
    {"group.id", "other"},
    {"enable.auto.commit", "true"},
    {"auto.commit.enable", "true"},
    {"enable.auto.offset.store", "true"},
    {"isolation.level", "read_uncommitted"},
    {"auto.offset.reset", "latest"},
    {"topic.auto.offset.reset", "earliest"},
    {"enable.partition.eof", "false"},
    {"transactional.id", "someone-else"},
    {"enable.idempotence", "false"},
    {"acks", "1"},
    {"request.required.acks", "1"},
    {"allow.auto.create.topics", "true"},
};

TEST(KafkaOwnedPropertyTest, EveryKeyTallyOwnsIsRefusedByName) {
  for (const auto& [key, value] : kOwned) {
    auto parsed = ParseKafkaProperties({"security.protocol=PLAINTEXT", key + "=" + value});
    ASSERT_FALSE(parsed.ok()) << key;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "'" + key + "'")) << parsed.status();
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "tally sets this property itself")) << parsed.status();
  }
}

TEST(KafkaOwnedPropertyTest, TuningAndSecurityPassThrough) {
  auto parsed = ParseKafkaProperties({"session.timeout.ms=30000", "transaction.timeout.ms=30000", "client.id=me",
                                      "linger.ms=20", "fetch.max.bytes=1000000", "security.protocol=SASL_SSL",
                                      "sasl.mechanisms=PLAIN", "compression.codec=zstd"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), 8u);
}

}  // namespace
}  // namespace tally
