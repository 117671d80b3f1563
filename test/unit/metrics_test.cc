// The plumbing of --http's metrics: counts published per trigger as counter
// steps, per-partition gauges that go with their task, readiness, the
// address flag, the exposition; and a run of the trigger loop whose
// published figures equal its result.

#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "prometheus/text_serializer.h"
#include "runtime/clock.h"
#include "runtime/operations_endpoint.h"
#include "runtime/pipeline.h"
#include "source/file_source.h"
#include "state/store_provider.h"
#include "null_sinks.h"

namespace tally {
namespace {

std::string Exposition(const Metrics& metrics) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, metrics.Collect());
  return text.str();
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(CountsPublisher, PublishesStepsFromTheRestoredBaseline) {
  Metrics metrics(std::make_shared<prometheus::Registry>());
  CountsPublisher publisher(metrics);
  RecordCounts restored;
  restored.records = restored.counted = 100;  // an earlier run's: not this process's work
  publisher.Opened(0, restored);
  RecordCounts now = restored;
  now.records += 7;
  now.counted += 3;
  now.duplicates += 1;
  now.late += 1;
  now.invalid += 2;
  now.invalid_by_reason[static_cast<int>(DeadLetterReason::kNotJson)] += 1;
  now.invalid_by_reason[static_cast<int>(DeadLetterReason::kWrongKey)] += 1;
  publisher.Publish(0, now);
  publisher.Publish(0, now);  // nothing new: no step
  EXPECT_EQ(metrics.records(Metrics::kCounted).Value(), 3);
  EXPECT_EQ(metrics.records(Metrics::kDuplicate).Value(), 1);
  EXPECT_EQ(metrics.records(Metrics::kLate).Value(), 1);
  EXPECT_EQ(metrics.records(Metrics::kInvalid).Value(), 1);  // wrong_key is a verdict of its own
  EXPECT_EQ(metrics.records(Metrics::kWrongKey).Value(), 1);
  EXPECT_EQ(metrics.dead_letters(DeadLetterReason::kNotJson).Value(), 1);
  EXPECT_EQ(metrics.dead_letters(DeadLetterReason::kWrongKey).Value(), 1);
  EXPECT_EQ(metrics.dead_letters(DeadLetterReason::kLate).Value(), 1);

  // Reopened from its last commit with fewer counts: a new baseline, and
  // what it processes again counts again; counters never go down.
  publisher.Closed(0);
  EXPECT_FALSE(publisher.Known(0));
  publisher.Opened(0, restored);
  RecordCounts redone = restored;
  redone.records += 2;
  redone.counted += 2;
  publisher.Publish(0, redone);
  EXPECT_EQ(metrics.records(Metrics::kCounted).Value(), 5);
}

TEST(Metrics, PartitionGaugesGoWithTheirTask) {
  Metrics metrics(std::make_shared<prometheus::Registry>());
  metrics.SetWatermark(3, 1704067200, 604800);
  metrics.SetLag("events", 3, 42);
  metrics.SetRestoreRemaining(3, 0);
  metrics.SetWatermark(4, 1704067201, 604800);
  std::string text = Exposition(metrics);
  EXPECT_TRUE(Has(text, "tally_watermark_seconds{partition=\"3\"} 1704067200")) << text;
  EXPECT_TRUE(Has(text, "tally_consumer_lag_records{partition=\"3\",topic=\"events\"} 42") ||
              Has(text, "tally_consumer_lag_records{topic=\"events\",partition=\"3\"} 42"))
      << text;
  EXPECT_TRUE(Has(text, "tally_event_time_skew_seconds{partition=\"3\"} 604800")) << text;
  metrics.RemovePartition(3);
  text = Exposition(metrics);
  EXPECT_EQ(text.find("partition=\"3\""), std::string::npos) << text;
  EXPECT_TRUE(Has(text, "tally_watermark_seconds{partition=\"4\"} 1704067201")) << text;
  metrics.RemovePartition(3);  // twice: nothing
}

// A repartitioned job's router reports its input's lag beside the counting
// side's repartition-topic lag for the same partition number; a revoked input
// partition stops being reported while the task's other gauges stay.
TEST(Metrics, ALagGoesAloneWhenItsTopicsPartitionIsRevoked) {
  Metrics metrics(std::make_shared<prometheus::Registry>());
  metrics.SetLag("events", 2, 7);
  metrics.SetLag("g-events-repartition", 2, 9);
  metrics.SetWatermark(2, 1704067200, 0);
  metrics.RemoveLag("events", 2);
  const std::string text = Exposition(metrics);
  EXPECT_EQ(text.find("topic=\"events\""), std::string::npos) << text;
  EXPECT_NE(text.find("topic=\"g-events-repartition\""), std::string::npos) << text;
  EXPECT_TRUE(Has(text, "tally_watermark_seconds{partition=\"2\"} 1704067200")) << text;
  metrics.RemoveLag("events", 2);  // twice: nothing
  metrics.RemoveLag("events", 5);  // a partition never reported: nothing
}

TEST(Metrics, ExpositionCarriesTheSharedNames) {
  Metrics metrics(std::make_shared<prometheus::Registry>());
  metrics.state_entries_dedup().Set(5);
  metrics.state_entries_windows().Set(2);
  const std::string text = Exposition(metrics);
  for (const char* line : {"tally_state_entries{store=\"dedup\"} 5", "tally_state_entries{store=\"windows\"} 2",
                           "tally_records_total{verdict=\"counted\"} 0", "tally_rows_written_total 0",
                           "tally_tasks{state=\"restoring\"} 0", "tally_tasks{state=\"running\"} 0",
                           "tally_cassandra_errors_total{kind=\"write_failure\"} 0",
                           "tally_dead_letters_total{reason=\"not_json\"} 0", "tally_cassandra_requests_in_flight 0",
                           "tally_commit_duration_seconds_count{kind=\"transaction\"} 0",
                           "tally_trigger_duration_seconds_count 0",
                           "tally_cassandra_request_duration_seconds_count 0"}) {
    EXPECT_TRUE(Has(text, line)) << line << " missing from\n" << text;
  }
  for (const char* name : {"# TYPE process_cpu_seconds_total counter", "# TYPE process_resident_memory_bytes gauge",
                           "# TYPE process_start_time_seconds gauge"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(Metrics, ReadyOnlyWhenRunningRestoredAndTheSinkReachable) {
  Metrics metrics(std::make_shared<prometheus::Registry>());
  EXPECT_NE(metrics.NotReadyReason(), "");
  metrics.SetStarted(true);
  EXPECT_EQ(metrics.NotReadyReason(), "");
  metrics.tasks_restoring().Increment();
  EXPECT_EQ(metrics.NotReadyReason(), "restoring the state of 1 task from the changelog");
  metrics.tasks_restoring().Decrement();
  metrics.SetSinkOutage("no connection to any Cassandra host");
  EXPECT_EQ(metrics.NotReadyReason(), "sink unreachable: no connection to any Cassandra host");
  metrics.SetSinkOutage("");
  EXPECT_EQ(metrics.NotReadyReason(), "");
  metrics.SetStarted(false);
  EXPECT_NE(metrics.NotReadyReason(), "");
}

TEST(HttpAddress, Parses) {
  auto a = ParseHttpAddress("127.0.0.1:9400");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9400);
  a = ParseHttpAddress("localhost:0");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  a = ParseHttpAddress("[::1]:9400");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "[::1]");
  a = ParseHttpAddress("0.0.0.0:80");
  ASSERT_TRUE(a.ok()) << a.status();
  for (const char* bad : {"9400", "127.0.0.1", "127.0.0.1:", ":9400", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:94x", "example.com:9400", "::1:9400", "[::1:9400", "1.2.3:9400"}) {
    EXPECT_FALSE(ParseHttpAddress(bad).ok()) << bad;
  }
}

TEST(OperationsEndpoint, RefusesAPortInUseNamingIt) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  Metrics metrics(std::make_shared<prometheus::Registry>());
  auto endpoint = OperationsEndpoint::Start({"127.0.0.1", port}, metrics);
  close(fd);
  ASSERT_FALSE(endpoint.ok());
  EXPECT_NE(endpoint.status().message().find(absl::StrCat("port ", port)), std::string::npos)
      << endpoint.status().message();
}

class StoppedClock final : public Clock {
 public:
  absl::Time Now() override { return absl::FromUnixSeconds(1'700'000'000); }
};

std::string Event(const std::string& id, const std::string& time) {
  return absl::StrCat(R"({"EventUUID":")", id, R"(","UserUUID":"8c0e4b4e-8d63-4bb3-9a39-8e0a3a47f001",)",
                      R"("EventName":"lesson","CreatedAt":")", time, "\"}");
}

TEST(Metrics, TheLoopPublishesWhatItsResultSays) {
  const std::string path = (std::filesystem::temp_directory_path() / "tally-metrics-test.jsonl").string();
  {
    std::ofstream f(path);
    f << Event("00000000-0000-4000-8000-000000000001", "2024-01-10T00:00:00Z") << "\n"
      << Event("00000000-0000-4000-8000-000000000002", "2024-01-10T01:00:00Z") << "\n"
      << Event("00000000-0000-4000-8000-000000000001", "2024-01-10T00:00:00Z") << "\n"  // duplicate
      << "not json\n"
      << Event("00000000-0000-4000-8000-000000000003", "2024-01-01T00:00:00Z") << "\n";  // late (> 7 d)
  }
  auto source = FileSource::Open(path, 1 << 20);
  ASSERT_TRUE(source.ok()) << source.status();
  NullSink sink;
  NullDeadLetterSink dead_letters;
  MemoryStoreProvider stores;
  StoppedClock clock;
  Metrics metrics(std::make_shared<prometheus::Registry>());
  PipelineOptions options;
  options.metrics = &metrics;
  auto result = RunPipeline(**source, sink, dead_letters, stores, options, clock);
  std::filesystem::remove(path);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->counts.records, 5);
  EXPECT_EQ(metrics.records(Metrics::kCounted).Value(), static_cast<double>(result->counts.counted));
  EXPECT_EQ(metrics.records(Metrics::kDuplicate).Value(), static_cast<double>(result->counts.duplicates));
  EXPECT_EQ(metrics.records(Metrics::kLate).Value(), static_cast<double>(result->counts.late));
  EXPECT_EQ(metrics.records(Metrics::kInvalid).Value(), static_cast<double>(result->counts.invalid));
  EXPECT_EQ(metrics.records(Metrics::kCounted).Value(), 2);
  EXPECT_EQ(metrics.records(Metrics::kLate).Value(), 1);
  EXPECT_EQ(metrics.dead_letters(DeadLetterReason::kNotJson).Value(), 1);
  EXPECT_EQ(metrics.rows_written().Value(), static_cast<double>(result->rows_written));
  EXPECT_GT(result->rows_written, 0);
  const std::string text = Exposition(metrics);
  EXPECT_TRUE(Has(text, absl::StrCat("tally_trigger_duration_seconds_count ", result->triggers))) << text;
  EXPECT_TRUE(Has(text, "tally_watermark_seconds{partition=\"0\"} 1704243600")) << text;  // 01:00 - 7 d
  EXPECT_NE(metrics.NotReadyReason(), "");  // the loop has ended
}

}  // namespace
}  // namespace tally
