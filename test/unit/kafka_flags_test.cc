#include "cli/kafka_flags.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cli/usage_error.h"

namespace tally {
namespace {

std::string Find(const KafkaProperties& properties, const std::string& key) {
  std::string value = "(unset)";
  for (const auto& [k, v] : properties) {
    if (k == key) value = v;  // the last one wins, as in librdkafka
  }
  return value;
}

class KafkaFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kafka-flags-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ::unsetenv("TALLY_KAFKA_SASL_PASSWORD");
    std::filesystem::remove_all(dir_);
  }
  std::string WriteFile(const std::string& text) {
    const std::string path = (dir_ / "client.properties").string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(KafkaFlagsTest, FileThenEnvironmentThenCommandLine) {
  KafkaClientFlags flags;
  flags.config_file = WriteFile(
      "# comment\n! comment too\n\nsecurity.protocol = SASL_SSL\nsasl.mechanism=PLAIN\n"
      "sasl.username=alice\nsasl.password=from-file\n");
  EXPECT_EQ(Find(KafkaClientProperties(flags), "sasl.password"), "from-file");
  EXPECT_EQ(Find(KafkaClientProperties(flags), "security.protocol"), "SASL_SSL");

  ::setenv("TALLY_KAFKA_SASL_PASSWORD", "from-env", 1);
  EXPECT_EQ(Find(KafkaClientProperties(flags), "sasl.password"), "from-env");

  flags.settings = {"sasl.password=from-flag"};
  EXPECT_EQ(Find(KafkaClientProperties(flags), "sasl.password"), "from-flag");
}

TEST_F(KafkaFlagsTest, ABadLineIsNamedAndNoSecretIsShown) {
  KafkaClientFlags flags;
  flags.config_file = WriteFile("sasl.password=hunter2\nsasl.username\n");
  try {
    KafkaClientProperties(flags);
    FAIL() << "a line without '=' was taken";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message.find("line 2: expected KEY=VALUE"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("hunter2"), std::string::npos) << e.message;
  }
  flags.config_file.clear();
  flags.settings = {"sasl.password hunter2"};
  try {
    KafkaClientProperties(flags);
    FAIL() << "a setting without '=' was taken";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message.find("sasl.password"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("hunter2"), std::string::npos) << e.message;
  }
}

TEST_F(KafkaFlagsTest, AConfigThatIsNotARegularFileIsRefused) {
  KafkaClientFlags flags;
  flags.config_file = dir_.string();
  EXPECT_THROW(KafkaClientProperties(flags), UsageError);
  flags.config_file = (dir_ / "missing").string();
  EXPECT_THROW(KafkaClientProperties(flags), UsageError);
}

}  // namespace
}  // namespace tally
