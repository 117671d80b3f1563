#include "runtime/redact.h"

#include <gtest/gtest.h>

namespace tally {
namespace {

TEST(RedactTest, SecretKeys) {
  EXPECT_TRUE(IsSecretKey("sasl.password"));
  EXPECT_TRUE(IsSecretKey("ssl.key.password"));
  EXPECT_TRUE(IsSecretKey("SASL.OAUTHBEARER.CLIENT.SECRET"));
  EXPECT_TRUE(IsSecretKey("sasl.jaas.config"));
  EXPECT_TRUE(IsSecretKey("sasl.oauthbearer.config"));
  EXPECT_FALSE(IsSecretKey("sasl.username"));
  EXPECT_FALSE(IsSecretKey("security.protocol"));
}

TEST(RedactTest, SettingsHideTheValueOfASecretHoweverItIsTyped) {
  EXPECT_EQ(RedactSetting("sasl.password=hunter2"), "sasl.password=***");
  EXPECT_EQ(RedactSetting("sasl.password hunter2"), "sasl.password ***");
  EXPECT_EQ(RedactSetting("sasl.password:hunter2"), "sasl.password:***");
  EXPECT_EQ(RedactSetting("sasl.password"), "sasl.password");
  EXPECT_EQ(RedactSetting("security.protocol=SASL_SSL"), "security.protocol=SASL_SSL");
}

TEST(RedactTest, UserinfoOfAnEndpoint) {
  EXPECT_TRUE(HasUserinfo("kafka://u:pw@broker:9092/babbel"));
  EXPECT_EQ(RedactUserinfo("kafka://u:pw@broker:9092/babbel"), "kafka://***@broker:9092/babbel");
  EXPECT_EQ(RedactUserinfo("cassandra://u:p@ss@h:9042/ks.t"), "cassandra://***@h:9042/ks.t");
  EXPECT_FALSE(HasUserinfo("kafka://broker:9092/babbel"));
  EXPECT_EQ(RedactUserinfo("kafka://broker:9092/a@b"), "kafka://broker:9092/a@b");  // '@' past the authority
  EXPECT_EQ(RedactUserinfo("file:events.jsonl"), "file:events.jsonl");
}

}  // namespace
}  // namespace tally
