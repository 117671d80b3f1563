#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "source/source.h"

namespace tally {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Latencies from a fraction of a millisecond (a local CQL write) to a minute
// (a trigger writing a backlog).
const prometheus::Histogram::BucketBoundaries kTriggerBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                                 2.5,  5,     10,   30,  60};
const prometheus::Histogram::BucketBoundaries kCommitBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                0.25,  0.5,    1,     2.5,  5,     10};
const prometheus::Histogram::BucketBoundaries kRequestBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};

// process_cpu_seconds_total, process_resident_memory_bytes and
// process_start_time_seconds, read when scraped (the Prometheus client
// libraries' standard process collector, for Linux).
class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector() : start_(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch())) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const double cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                       static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    // statm: size resident shared ... in pages.
    double rss = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      unsigned long size = 0, resident = 0;
      if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
        rss = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
      }
      std::fclose(f);
    }
    return {One("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                prometheus::MetricType::Counter, cpu),
            One("process_resident_memory_bytes", "Resident memory size in bytes.", prometheus::MetricType::Gauge, rss),
            One("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                prometheus::MetricType::Gauge, start_)};
  }

 private:
  static prometheus::MetricFamily One(std::string name, std::string help, prometheus::MetricType type,
                                      double value) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(std::move(metric));
    return family;
  }

  double start_;
};

std::string PartitionLabel(int32_t partition) { return absl::StrCat(partition); }

}  // namespace

Metrics& Metrics::Get() {
  // Never destroyed: the HTTP threads may read it until the process exits.
  static Metrics* const metrics = new Metrics(std::make_shared<prometheus::Registry>());
  return *metrics;
}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      records_family_(BuildCounter()
                          .Name("tally_records_total")
                          .Help("Input records by what became of them")
                          .Register(*registry_)),
      dead_letters_family_(
          BuildCounter().Name("tally_dead_letters_total").Help("Dead letters written, by reason").Register(*registry_)),
      lag_family_(BuildGauge()
                      .Name("tally_consumer_lag_records")
                      .Help("Records behind the end of the input partition")
                      .Register(*registry_)),
      watermark_family_(
          BuildGauge().Name("tally_watermark_seconds").Help("The task's watermark, Unix seconds").Register(*registry_)),
      skew_family_(BuildGauge()
                       .Name("tally_event_time_skew_seconds")
                       .Help("How far the task's newest event time is behind the newest of any task of this process")
                       .Register(*registry_)),
      restore_family_(BuildGauge()
                          .Name("tally_restore_remaining_records")
                          .Help("Changelog records left to restore (0 when live)")
                          .Register(*registry_)),
      rows_written_(BuildCounter()
                        .Name("tally_rows_written_total")
                        .Help("Rows the sink wrote (updates and final rows)")
                        .Register(*registry_)
                        .Add({})),
      trigger_duration_(BuildHistogram()
                            .Name("tally_trigger_duration_seconds")
                            .Help("One trigger: stage, write, commit")
                            .Register(*registry_)
                            .Add({}, kTriggerBuckets)),
      state_entries_dedup_(BuildGauge()
                               .Name("tally_state_entries")
                               .Help("State entries held, all tasks")
                               .Register(*registry_)
                               .Add({{"store", "dedup"}})),
      state_entries_windows_(BuildGauge()
                                 .Name("tally_state_entries")
                                 .Help("State entries held, all tasks")
                                 .Register(*registry_)
                                 .Add({{"store", "windows"}})),
      state_bytes_dedup_(BuildGauge()
                             .Name("tally_state_bytes")
                             .Help("State bytes held, all tasks")
                             .Register(*registry_)
                             .Add({{"store", "dedup"}})),
      state_bytes_windows_(BuildGauge()
                               .Name("tally_state_bytes")
                               .Help("State bytes held, all tasks")
                               .Register(*registry_)
                               .Add({{"store", "windows"}})),
      tasks_restoring_(BuildGauge()
                           .Name("tally_tasks")
                           .Help("Tasks by life-cycle state")
                           .Register(*registry_)
                           .Add({{"state", "restoring"}})),
      tasks_running_(BuildGauge()
                         .Name("tally_tasks")
                         .Help("Tasks by life-cycle state")
                         .Register(*registry_)
                         .Add({{"state", "running"}})),
      cassandra_request_duration_(BuildHistogram()
                                      .Name("tally_cassandra_request_duration_seconds")
                                      .Help("One CQL request, sent to answered")
                                      .Register(*registry_)
                                      .Add({}, kRequestBuckets)),
      cassandra_in_flight_(BuildGauge()
                               .Name("tally_cassandra_requests_in_flight")
                               .Help("CQL requests sent and not yet answered")
                               .Register(*registry_)
                               .Add({})) {
  static constexpr const char* kVerdicts[kVerdictCount] = {"counted", "duplicate", "late", "invalid", "wrong_key"};
  for (int v = 0; v < kVerdictCount; ++v) records_[v] = &records_family_.Add({{"verdict", kVerdicts[v]}});
  for (int r = 0; r < kDeadLetterReasonCount; ++r) {
    dead_letters_[r] = &dead_letters_family_.Add({{"reason", ReasonName(static_cast<DeadLetterReason>(r))}});
  }
  auto& commit = BuildHistogram().Name("tally_commit_duration_seconds").Help("Commit latency").Register(*registry_);
  static constexpr const char* kCommitKinds[kCommitKindCount] = {"changelog", "transaction", "offsets"};
  for (int k = 0; k < kCommitKindCount; ++k) commit_duration_[k] = &commit.Add({{"kind", kCommitKinds[k]}}, kCommitBuckets);
  auto& errors = BuildCounter()
                     .Name("tally_cassandra_errors_total")
                     .Help("CQL requests that failed, by kind")
                     .Register(*registry_);
  static constexpr const char* kErrorKinds[kErrorKindCount] = {"timeout",       "unavailable", "overloaded",
                                                               "write_failure", "connection",  "other"};
  for (int k = 0; k < kErrorKindCount; ++k) cassandra_errors_[k] = &errors.Add({{"kind", kErrorKinds[k]}});
  process_ = std::make_shared<ProcessCollector>();
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& f : process_->Collect()) families.push_back(std::move(f));
  return families;
}

Metrics::PartitionGauges& Metrics::Partition(int32_t partition) { return partitions_[partition]; }

void Metrics::SetWatermark(int32_t partition, double unix_seconds, double skew_seconds) {
  std::lock_guard lock(mu_);
  PartitionGauges& g = Partition(partition);
  if (g.watermark == nullptr) {
    g.watermark = &watermark_family_.Add({{"partition", PartitionLabel(partition)}});
    g.skew = &skew_family_.Add({{"partition", PartitionLabel(partition)}});
  }
  g.watermark->Set(unix_seconds);
  g.skew->Set(skew_seconds);
}

void Metrics::SetLag(const std::string& topic, int32_t partition, int64_t records) {
  std::lock_guard lock(mu_);
  PartitionGauges& g = Partition(partition);
  prometheus::Gauge*& gauge = g.lag[topic];
  if (gauge == nullptr) gauge = &lag_family_.Add({{"topic", topic}, {"partition", PartitionLabel(partition)}});
  gauge->Set(static_cast<double>(records));
}

void Metrics::SetLags(const Source& source) {
  source.ForEachPartitionLag(
      [this](const std::string& topic, int32_t partition, int64_t lag) { SetLag(topic, partition, lag); });
}

void Metrics::RemoveLag(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  auto lag = it->second.lag.find(topic);
  if (lag == it->second.lag.end()) return;
  lag_family_.Remove(lag->second);
  it->second.lag.erase(lag);
}

void Metrics::SetRestoreRemaining(int32_t partition, int64_t records) {
  std::lock_guard lock(mu_);
  PartitionGauges& g = Partition(partition);
  if (g.restore_remaining == nullptr) {
    g.restore_remaining = &restore_family_.Add({{"partition", PartitionLabel(partition)}});
  }
  g.restore_remaining->Set(static_cast<double>(records));
}

void Metrics::RemovePartition(int32_t partition) {
  std::lock_guard lock(mu_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  PartitionGauges& g = it->second;
  if (g.watermark != nullptr) watermark_family_.Remove(g.watermark);
  if (g.skew != nullptr) skew_family_.Remove(g.skew);
  if (g.restore_remaining != nullptr) restore_family_.Remove(g.restore_remaining);
  for (auto& [topic, gauge] : g.lag) lag_family_.Remove(gauge);
  partitions_.erase(it);
}

void Metrics::SetSinkOutage(std::string what) {
  std::lock_guard lock(outage_mu_);
  outage_ = std::move(what);
}

std::string Metrics::NotReadyReason() const {
  if (!started_.load(std::memory_order_relaxed)) return "not running: opening the source and the sink, or stopping";
  if (const double restoring = tasks_restoring_.Value(); restoring > 0) {
    return absl::StrCat("restoring the state of ", static_cast<int64_t>(restoring), " task",
                        restoring == 1 ? "" : "s", " from the changelog");
  }
  std::lock_guard lock(outage_mu_);
  if (!outage_.empty()) return absl::StrCat("sink unreachable: ", outage_);
  return "";
}

void CountsPublisher::Publish(int32_t partition, const RecordCounts& now) {
  RecordCounts& last = published_[partition];
  // Counts of one task only grow between Opened and Closed; a negative step
  // (never expected) is dropped rather than let a counter go down.
  auto add = [](prometheus::Counter& counter, int64_t step) {
    if (step > 0) counter.Increment(static_cast<double>(step));
  };
  const int wrong_key = static_cast<int>(DeadLetterReason::kWrongKey);
  add(metrics_.records(Metrics::kCounted), now.counted - last.counted);
  add(metrics_.records(Metrics::kDuplicate), now.duplicates - last.duplicates);
  add(metrics_.records(Metrics::kLate), now.late - last.late);
  add(metrics_.records(Metrics::kWrongKey), now.invalid_by_reason[wrong_key] - last.invalid_by_reason[wrong_key]);
  add(metrics_.records(Metrics::kInvalid), (now.invalid - now.invalid_by_reason[wrong_key]) -
                                               (last.invalid - last.invalid_by_reason[wrong_key]));
  for (int r = 0; r < kDeadLetterReasonCount; ++r) {
    if (r == static_cast<int>(DeadLetterReason::kLate)) continue;  // below, from `late`
    add(metrics_.dead_letters(static_cast<DeadLetterReason>(r)), now.invalid_by_reason[r] - last.invalid_by_reason[r]);
  }
  add(metrics_.dead_letters(DeadLetterReason::kLate), now.late - last.late);
  last = now;
}

absl::StatusOr<HttpAddress> ParseHttpAddress(const std::string& text) {
  const auto bad = [&text](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "': ", why, "; expected HOST:PORT with HOST an IPv4 address, [IPv6] or localhost (e.g. 127.0.0.1:9400)"));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  int port = 0;
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  if (host == "localhost") host = "127.0.0.1";
  unsigned char buf[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buf) != 1) return bad("not an IPv6 address");
  } else if (inet_pton(AF_INET, host.c_str(), buf) != 1) {
    return bad(host.empty() ? "no host" : "not an IPv4 address");
  }
  return HttpAddress{std::move(host), port};
}

}  // namespace tally
