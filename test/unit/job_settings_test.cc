#include "kafka/job_settings.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_replace.h"
#include "kafka/changelog_topic.h"

namespace tally {
namespace {

JobSettings Defaults() {
  JobSettings s;
  s.input_topic = "babbel";
  s.lateness = absl::Hours(24 * 7);
  s.event_id_field = "EventUUID";
  s.user_id_field = "UserUUID";
  s.event_name_field = "EventName";
  s.created_at_field = "CreatedAt";
  s.input_timezone = "UTC";
  s.max_record_bytes = 1 << 20;
  s.sink = "cassandra://127.0.0.1:9042/tally.daily_counts";
  s.dead_letter_topic = "babbel.dead-letters";
  return s;
}

TEST(JobSettingsTest, TopicNameSitsBesideTheChangelog) {
  EXPECT_EQ(JobSettingsTopicName("g", "babbel"), "g-babbel-settings");
  EXPECT_EQ(ChangelogTopicName("g", "babbel"), "g-babbel-changelog");
}

TEST(JobSettingsTest, EncodesAReadableJsonObject) {
  EXPECT_EQ(EncodeJobSettings(Defaults()),
            "{\"format\":2,\"input_topic\":\"babbel\",\"lateness\":\"7d\",\"event_id_field\":\"EventUUID\","
            "\"user_id_field\":\"UserUUID\",\"event_name_field\":\"EventName\",\"created_at_field\":\"CreatedAt\","
            "\"input_timezone\":\"UTC\",\"max_record_bytes\":1048576,"
            "\"sink\":\"cassandra://127.0.0.1:9042/tally.daily_counts\",\"dead_letter_topic\":\"babbel.dead-letters\","
            "\"input_keyed_by_user\":false,\"repartition_partitions\":0}");
}

TEST(JobSettingsTest, RoundTrips) {
  JobSettings s = Defaults();
  s.event_id_field = "id \"quoted\" \\ ü";
  s.input_keyed_by_user = true;
  s.repartition_partitions = 12;
  for (absl::Duration d : {absl::Hours(36), absl::Milliseconds(1500), absl::ZeroDuration(), absl::Minutes(90),
                           absl::Seconds(59), absl::Microseconds(7)}) {
    s.lateness = d;
    auto decoded = DecodeJobSettings(EncodeJobSettings(s));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, s) << EncodeJobSettings(s);
  }
}

TEST(JobSettingsTest, WritesLatenessInItsLargestExactUnit) {
  JobSettings s = Defaults();
  s.lateness = absl::Hours(72);
  EXPECT_NE(EncodeJobSettings(s).find("\"lateness\":\"3d\""), std::string::npos);
  s.lateness = absl::Hours(36);
  EXPECT_NE(EncodeJobSettings(s).find("\"lateness\":\"36h\""), std::string::npos);
  s.lateness = absl::Milliseconds(1500);
  EXPECT_NE(EncodeJobSettings(s).find("\"lateness\":\"1500ms\""), std::string::npos);
}

TEST(JobSettingsTest, DecodeIsStrict) {
  const std::string good = EncodeJobSettings(Defaults());
  auto refused = [](const std::string& text, const std::string& why) {
    auto decoded = DecodeJobSettings(text);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(decoded.status()));
    EXPECT_NE(decoded.status().message().find(why), std::string::npos) << decoded.status();
  };
  refused("", "not JSON");
  refused("[1]", "not a JSON object");
  refused("{}", "no integer \"format\"");
  refused(absl::StrReplaceAll(good, {{",\"sink\":", ",\"other\":1,\"sink\":"}}), "unknown key \"other\"");
  refused(absl::StrReplaceAll(good, {{",\"sink\":\"cassandra://127.0.0.1:9042/tally.daily_counts\"", ""}}),
          "no \"sink\"");
  refused(absl::StrReplaceAll(good, {{"\"max_record_bytes\":1048576", "\"max_record_bytes\":\"1048576\""}}),
          "\"max_record_bytes\" repeated or of the wrong type");
  refused(absl::StrReplaceAll(good, {{"\"7d\"", "\"7 days\""}}), "\"lateness\" '7 days' is not a duration");
  refused(absl::StrReplaceAll(good, {{"\"7d\"", "\"d\""}}), "is not a duration");
  refused(absl::StrReplaceAll(
              good, {{"\"input_topic\":\"babbel\"", "\"input_topic\":\"babbel\",\"input_topic\":\"x\""}}),
          "\"input_topic\" repeated");
}

TEST(JobSettingsTest, ANewerFormatIsNotJudged) {
  auto decoded = DecodeJobSettings("{\"format\":3,\"anything\":[1,2]}");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->format_version, 3);
}

TEST(JobSettingsTest, EqualSettingsHaveNoDifference) {
  EXPECT_TRUE(CompareJobSettings(Defaults(), Defaults()).empty());
  // The same lateness, however it was typed.
  JobSettings ours = Defaults();
  ours.lateness = absl::Hours(168);
  EXPECT_TRUE(CompareJobSettings(ours, Defaults()).empty());
}

TEST(JobSettingsTest, NamesEveryDifferenceWithBothValues) {
  JobSettings ours = Defaults();
  ours.lateness = absl::Hours(72);
  ours.created_at_field = "ts";
  ours.input_timezone = "Asia/Calcutta";
  ours.sink = "cassandra://127.0.0.1:9042/other.daily_counts";
  const auto d = CompareJobSettings(ours, Defaults());
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].flag, "--lateness");
  EXPECT_EQ(d[0].ours, "3d");
  EXPECT_EQ(d[0].job, "7d");
  EXPECT_EQ(d[1].flag, "--created-at-field");
  EXPECT_EQ(d[1].ours, "'ts'");
  EXPECT_EQ(d[1].job, "'CreatedAt'");
  EXPECT_EQ(d[2].flag, "--input-timezone");
  EXPECT_EQ(d[3].flag, "--sink");
  EXPECT_EQ(d[3].job, "'cassandra://127.0.0.1:9042/tally.daily_counts'");
}

TEST(JobSettingsTest, EveryFieldTakesPartInTheComparison) {
  const JobSettings base = Defaults();
  auto differs = [&base](const char* flag, void (*change)(JobSettings&)) {
    JobSettings ours = base;
    change(ours);
    const auto d = CompareJobSettings(ours, base);
    ASSERT_EQ(d.size(), 1u) << flag;
    EXPECT_EQ(d[0].flag, flag);
    EXPECT_FALSE(ours == base);
  };
  differs("--source (topic)", [](JobSettings& s) { s.input_topic = "other"; });
  differs("--lateness", [](JobSettings& s) { s.lateness = absl::Hours(1); });
  differs("--event-id-field", [](JobSettings& s) { s.event_id_field = "id"; });
  differs("--user-id-field", [](JobSettings& s) { s.user_id_field = "user"; });
  differs("--event-name-field", [](JobSettings& s) { s.event_name_field = "name"; });
  differs("--created-at-field", [](JobSettings& s) { s.created_at_field = "at"; });
  differs("--input-timezone", [](JobSettings& s) { s.input_timezone = "Europe/Berlin"; });
  differs("--max-record-bytes", [](JobSettings& s) { s.max_record_bytes = 10; });
  differs("--sink", [](JobSettings& s) { s.sink = "csv"; });
  differs("--dead-letter (topic)", [](JobSettings& s) { s.dead_letter_topic = "dl"; });
  differs("--input-keyed-by-user", [](JobSettings& s) { s.input_keyed_by_user = true; });
  differs("--partitions", [](JobSettings& s) { s.repartition_partitions = 6; });
}

}  // namespace
}  // namespace tally
