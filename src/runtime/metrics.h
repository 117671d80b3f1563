#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/dead_letter.h"
#include "core/record_counts.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace tally {

class Source;


// The process's Prometheus metrics (names and labels: docs/operations.md,
// "Metrics and health"; the Grafana dashboard uses them as they are).
//
// One set per process, like the process_* figures it carries: the layers
// that have a figure (the trigger loop, the Cassandra client, the changelog
// restore) update it where it is, without threading a handle through every
// constructor. Updating is cheap and never waits on a scrape: counters and
// gauges are atomics; a histogram's Observe and a family's Add/Remove take a
// mutex that a scrape holds only while it copies the values. The loop
// publishes per-record figures once per trigger (see CountsPublisher), not per
// record. When no --http is given nothing reads them.
class Metrics {
 public:
  enum Verdict { kCounted, kDuplicate, kLate, kInvalid, kWrongKey, kVerdictCount };
  enum CommitKind { kChangelog, kTransaction, kOffsets, kCommitKindCount };
  enum CassandraError { kTimeout, kUnavailable, kOverloaded, kWriteFailure, kConnection, kOther, kErrorKindCount };

  static Metrics& Get();

  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  // What a scrape shows: the registry and the process_* figures.
  std::vector<prometheus::MetricFamily> Collect() const;

  prometheus::Counter& records(Verdict v) { return *records_[v]; }
  prometheus::Counter& dead_letters(DeadLetterReason r) { return *dead_letters_[static_cast<int>(r)]; }
  prometheus::Counter& rows_written() { return rows_written_; }
  prometheus::Histogram& trigger_duration() { return trigger_duration_; }
  prometheus::Histogram& commit_duration(CommitKind k) { return *commit_duration_[k]; }
  prometheus::Gauge& state_entries_dedup() { return state_entries_dedup_; }
  prometheus::Gauge& state_entries_windows() { return state_entries_windows_; }
  prometheus::Gauge& state_bytes_dedup() { return state_bytes_dedup_; }
  prometheus::Gauge& state_bytes_windows() { return state_bytes_windows_; }
  prometheus::Gauge& tasks_restoring() { return tasks_restoring_; }
  prometheus::Gauge& tasks_running() { return tasks_running_; }
  prometheus::Histogram& cassandra_request_duration() { return cassandra_request_duration_; }
  prometheus::Counter& cassandra_errors(CassandraError k) { return *cassandra_errors_[k]; }
  prometheus::Gauge& cassandra_in_flight() { return cassandra_in_flight_; }

  // Per-partition gauges, added when first set and removed when the task
  // goes (a revoked partition is no longer reported).
  void SetWatermark(int32_t partition, double unix_seconds, double skew_seconds);
  void SetLag(const std::string& topic, int32_t partition, int64_t records);
  // SetLag for every partition `source` reads (Source::ForEachPartitionLag).
  void SetLags(const Source& source);
  // Stops reporting the lag of one topic's partition (a partition the process
  // no longer reads), leaving the partition's other gauges.
  void RemoveLag(const std::string& topic, int32_t partition);
  void SetRestoreRemaining(int32_t partition, int64_t records);
  void RemovePartition(int32_t partition);

  // Readiness (/readyz): the trigger loop runs, no task is restoring, and
  // the sink is reachable. Reason() is "" when ready.
  void SetStarted(bool started) { started_.store(started, std::memory_order_relaxed); }
  void SetSinkOutage(std::string what);  // "" when the sink is reachable again
  std::string NotReadyReason() const;

 private:
  struct PartitionGauges {
    prometheus::Gauge* watermark = nullptr;
    prometheus::Gauge* skew = nullptr;
    prometheus::Gauge* restore_remaining = nullptr;
    absl::flat_hash_map<std::string, prometheus::Gauge*> lag;  // by topic
  };
  PartitionGauges& Partition(int32_t partition);  // mu_ held

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  prometheus::Family<prometheus::Counter>& records_family_;
  prometheus::Family<prometheus::Counter>& dead_letters_family_;
  prometheus::Family<prometheus::Gauge>& lag_family_;
  prometheus::Family<prometheus::Gauge>& watermark_family_;
  prometheus::Family<prometheus::Gauge>& skew_family_;
  prometheus::Family<prometheus::Gauge>& restore_family_;
  std::array<prometheus::Counter*, kVerdictCount> records_;
  std::array<prometheus::Counter*, kDeadLetterReasonCount> dead_letters_;
  prometheus::Counter& rows_written_;
  prometheus::Histogram& trigger_duration_;
  std::array<prometheus::Histogram*, kCommitKindCount> commit_duration_;
  prometheus::Gauge& state_entries_dedup_;
  prometheus::Gauge& state_entries_windows_;
  prometheus::Gauge& state_bytes_dedup_;
  prometheus::Gauge& state_bytes_windows_;
  prometheus::Gauge& tasks_restoring_;
  prometheus::Gauge& tasks_running_;
  prometheus::Histogram& cassandra_request_duration_;
  std::array<prometheus::Counter*, kErrorKindCount> cassandra_errors_;
  prometheus::Gauge& cassandra_in_flight_;

  std::mutex mu_;  // partitions_ (the loop and the restore may both set them)
  absl::flat_hash_map<int32_t, PartitionGauges> partitions_;

  std::atomic<bool> started_{false};
  mutable std::mutex outage_mu_;
  std::string outage_;
};

// Publishes the per-task RecordCounts the trigger loop already keeps as
// counter increments, once per trigger: what each task counted since the last
// publication. A task's counts start from what its durable state restored
// (records of earlier runs), which are not this process's work: the first
// figures of a task are its baseline. A task reopened from its last commit
// (revoked and assigned again, or a commit aborted) starts a new baseline, so
// records it processes again count again: the counters are the records this
// process processed, as Kafka Streams' process-total is. Not thread-safe (the
// loop's).
class CountsPublisher {
 public:
  explicit CountsPublisher(Metrics& metrics) : metrics_(metrics) {}

  // A task (re)opened with `restored` counts.
  void Opened(int32_t partition, const RecordCounts& restored) { published_[partition] = restored; }
  // Publishes what the task counted since Opened or the last Publish.
  void Publish(int32_t partition, const RecordCounts& now);
  void Closed(int32_t partition) { published_.erase(partition); }
  bool Known(int32_t partition) const { return published_.contains(partition); }

 private:
  Metrics& metrics_;
  absl::flat_hash_map<int32_t, RecordCounts> published_;
};

// The parts of --http HOST:PORT: an IPv4 address, a bracketed IPv6 address or
// "localhost", and a port (0: any free one).
struct HttpAddress {
  std::string host;  // as civetweb's listening_ports takes it
  int port = 0;
};
// InvalidArgument, saying what is expected, for anything else.
absl::StatusOr<HttpAddress> ParseHttpAddress(const std::string& text);

}  // namespace tally
