#include "cli/run_command.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/duration.h"
#include "cli/usage_error.h"
#include "cli/flag.h"
#include "cli/number_format.h"
#include "runtime/pipeline.h"
#include "sink/atomic_output_file.h"
#include "sink/cassandra_sink.h"
#include "sink/console_sink.h"
#include "sink/csv_sink.h"
#include "sink/file_dead_letter_sink.h"
#include "kafka/kafka_dead_letter_sink.h"
#include "kafka/kafka_endpoint.h"
#include "kafka/changelog_store_provider.h"
#include "kafka/changelog_topic.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "kafka/transactional_committer.h"
#include "state/state_dir.h"
#include "source/file_source.h"

namespace tally {
namespace {

constexpr char kDefaultDeadLetterFile[] = "tally-dead-letters.jsonl";
// The dead-letter topic of a Kafka source, unless --dead-letter says otherwise.
constexpr char kDeadLetterTopicSuffix[] = ".dead-letters";

// Set by SIGTERM and SIGINT: finish the current trigger, commit, exit 0 (the
// seed's stopGracefullyOnShutdown). A second signal ends the process at once.
std::atomic<bool> stop_requested{false};

void OnStopSignal(int signal) {
  stop_requested.store(true, std::memory_order_relaxed);
  ::signal(signal, SIG_DFL);
}

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = &OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}



double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double PeakMemoryMiB() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// The part of an endpoint after "scheme:", or nullopt if it has another scheme.
std::optional<std::string> AfterScheme(const std::string& endpoint, std::string_view scheme) {
  if (endpoint.size() <= scheme.size() || endpoint.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
  return endpoint.substr(scheme.size());
}

KafkaEndpoint KafkaEndpointFlag(const char* name, const std::string& value) {
  auto endpoint = ParseKafkaEndpoint(value);
  if (!endpoint.ok()) throw UsageError{absl::StrCat(name, " ", endpoint.status().message())};
  return *endpoint;
}

// The Kafka flags of a run, checked once for the source and the dead letters.
struct KafkaFlags {
  std::optional<KafkaEndpoint> input;  // set if the source is a topic
  KafkaProperties properties;
};

KafkaFlags ParseKafkaFlags(const RunFlags& flags) {
  KafkaFlags kafka;
  if (IsKafkaEndpoint(flags.source)) kafka.input = KafkaEndpointFlag("--source", flags.source);
  auto properties = ParseKafkaProperties(flags.kafka_properties);
  if (!properties.ok()) throw UsageError{absl::StrCat("--kafka ", properties.status().message())};
  kafka.properties = std::move(*properties);
  return kafka;
}

absl::StatusOr<std::unique_ptr<Source>> OpenSource(const RunFlags& flags, const KafkaFlags& kafka) {
  const std::string& spec = flags.source;
  if (kafka.input) {
    KafkaSourceOptions options;
    options.endpoint = *kafka.input;
    options.group = flags.group;
    if (flags.starting_offsets == "earliest") {
      options.starting_offsets = StartingOffsets::kEarliest;
    } else if (flags.starting_offsets == "latest") {
      options.starting_offsets = StartingOffsets::kLatest;
    } else {
      throw UsageError{absl::StrCat("--starting-offsets '", flags.starting_offsets, "': expected earliest or latest")};
    }
    options.properties = kafka.properties;
    options.available_now = flags.available_now;
    auto source = KafkaSource::Open(options);
    if (!source.ok()) return source.status();
    return std::unique_ptr<Source>(std::move(*source));
  }
  if (flags.available_now) {
    throw UsageError{"--available-now applies to a Kafka source; a file source always ends with its input"};
  }
  const std::optional<std::string> path = FileSourcePath(spec);
  if (!path) {
    throw UsageError{absl::StrCat("--source '", spec,
                                  "': expected file:PATH, - for standard input, or kafka://HOST:PORT[,...]/TOPIC")};
  }
  auto source = FileSource::Open(*path);
  if (!source.ok()) return source.status();
  return std::unique_ptr<Source>(std::move(*source));
}

absl::StatusOr<std::unique_ptr<Sink>> OpenSink(const RunFlags& flags) {
  if (flags.sink == "console") return std::unique_ptr<Sink>(std::make_unique<ConsoleSink>(stdout, flags.console_rows));
  if (auto path = AfterScheme(flags.sink, "csv:")) {
    auto sink = CsvSink::Create(*path);
    if (!sink.ok()) return sink.status();
    return std::unique_ptr<Sink>(std::move(*sink));
  }
  if (IsCassandraTable(flags.sink)) {
    CassandraSinkOptions options;
    auto table = ParseCassandraTable(flags.sink);
    if (!table.ok()) throw UsageError{absl::StrCat("--sink ", table.status().message())};
    options.table = *table;
    options.replication = flags.cassandra_replication;
    options.username = flags.cassandra_username;
    options.password = flags.cassandra_password;
    options.tls = flags.cassandra_tls;
    options.ca_file = flags.cassandra_ca_file;
    options.verify_server_certificate = !flags.cassandra_skip_verify;
    if (flags.cassandra_in_flight < 1) throw UsageError{"--cassandra-in-flight: must be at least 1"};
    options.max_in_flight = flags.cassandra_in_flight;
    auto sink = CassandraSink::Open(options);
    if (!sink.ok()) return sink.status();
    return std::unique_ptr<Sink>(std::move(*sink));
  }
  throw UsageError{absl::StrCat("--sink '", flags.sink,
                                "': expected csv:PATH, console or cassandra://HOST:PORT[,...]/KEYSPACE.TABLE")};
}

// The dead-letter destination: --dead-letter if given; else, for a Kafka
// source, the topic beside it named TOPIC.dead-letters; for a csv sink, a file
// beside it; else ./tally-dead-letters.jsonl.
// With a transaction (a Kafka source), the letters go to a topic of the same
// cluster, inside the transaction: exactly once.
absl::StatusOr<std::unique_ptr<DeadLetterSink>> OpenDeadLetterSink(const RunFlags& flags, const KafkaFlags& kafka,
                                                                   const Source& source,
                                                                   KafkaTransaction* transaction) {
  std::string spec = flags.dead_letter;
  if (spec.empty() && kafka.input) {
    spec = absl::StrCat("kafka://", kafka.input->bootstrap_servers, "/", kafka.input->topic, kDeadLetterTopicSuffix);
  }
  if (transaction != nullptr) {
    const KafkaEndpoint endpoint =
        IsKafkaEndpoint(spec) ? KafkaEndpointFlag("--dead-letter", spec) : KafkaEndpoint{};
    if (!IsKafkaEndpoint(spec) || endpoint.bootstrap_servers != kafka.input->bootstrap_servers) {
      throw UsageError{absl::StrCat("--dead-letter '", spec,
                                    "': with a Kafka source, dead letters go to a topic of the same cluster (",
                                    kafka.input->bootstrap_servers,
                                    "), written in the same transaction as the offsets: give kafka://",
                                    kafka.input->bootstrap_servers, "/TOPIC, or leave it out")};
    }
    auto sink = std::make_unique<KafkaDeadLetterSink>(transaction->producer(), endpoint, kafka.input->topic);
    if (auto s = sink->EnsureTopic(); !s.ok()) return s;
    return std::unique_ptr<DeadLetterSink>(std::move(sink));
  }
  if (IsKafkaEndpoint(spec)) {
    const KafkaEndpoint endpoint = KafkaEndpointFlag("--dead-letter", spec);
    auto producer = KafkaProducer::Open(endpoint.bootstrap_servers, kafka.properties);
    if (!producer.ok()) return producer.status();
    const std::string source_topic = kafka.input ? kafka.input->topic : source.Describe();
    auto sink = std::make_unique<KafkaDeadLetterSink>(std::move(*producer), endpoint, source_topic);
    if (auto s = sink->EnsureTopic(); !s.ok()) return s;
    return std::unique_ptr<DeadLetterSink>(std::move(sink));
  }
  std::string path;
  if (spec.empty()) {
    auto csv = AfterScheme(flags.sink, "csv:");
    path = csv && *csv != "-" ? absl::StrCat(*csv, ".dead-letters.jsonl") : kDefaultDeadLetterFile;
  } else if (auto p = AfterScheme(spec, "file:")) {
    path = *p;
  } else {
    throw UsageError{absl::StrCat("--dead-letter '", spec, "': expected file:PATH or kafka://HOST:PORT[,...]/TOPIC")};
  }
  auto sink = FileDeadLetterSink::Create(path, source.Describe(), source.position_name());
  if (!sink.ok()) return sink.status();
  return std::unique_ptr<DeadLetterSink>(std::move(*sink));
}

absl::Duration DurationFlag(const char* name, const std::string& value) {
  auto d = ParseDuration(value);
  if (!d.ok()) throw UsageError{absl::StrCat(name, ": ", d.status().message())};
  return *d;
}

std::string SummaryJson(const RecordCounts& c) {
  return absl::StrCat("{\"records\":", c.records, ",\"invalid\":", c.invalid, ",\"late\":", c.late,
                      ",\"duplicates\":", c.duplicates, ",\"counted\":", c.counted, "}\n");
}

std::string Report(const std::string& source, const Sink& sink, const DeadLetterSink& dead_letters,
                   const std::string& summary_path, const PipelineResult& r, bool durable, double seconds,
                   double cpu) {
  const RecordCounts& c = r.counts;
  std::string reasons;
  for (int i = 0; i < kDeadLetterReasonCount; ++i) {
    if (c.invalid_by_reason[i] == 0) continue;
    absl::StrAppend(&reasons, reasons.empty() ? "" : ", ", ReasonName(static_cast<DeadLetterReason>(i)), " ",
                    Grouped(c.invalid_by_reason[i]));
  }
  std::string text = absl::StrFormat(
      "tally: read %s records from %s in %.2f s (%.2fM records/s, %.2f CPU-s per million)%s: %s counted, "
      "%s duplicates, %s late, %s invalid%s. Wrote %s row updates in %d trigger%s to %s; %s dead letters to %s",
      Grouped(r.records_read), source, seconds,
      seconds > 0 ? static_cast<double>(r.records_read) / seconds / 1e6 : 0.0,
      r.records_read > 0 ? cpu * 1e6 / static_cast<double>(r.records_read) : 0.0,
      durable ? absl::StrCat("; the job's state holds ", Grouped(c.records), " records") : "", Grouped(c.counted),
      Grouped(c.duplicates),
      Grouped(c.late), Grouped(c.invalid), reasons.empty() ? "" : absl::StrCat(" (", reasons, ")"),
      Grouped(r.rows_written), r.triggers, r.triggers == 1 ? "" : "s", sink.Describe(), Grouped(r.dead_letters),
      dead_letters.Describe());
  if (!summary_path.empty()) absl::StrAppend(&text, "; summary to ", summary_path);
  absl::StrAppendFormat(&text, ". Peak dedup state %s entries; peak memory %.1f MiB.\n",
                        Grouped(static_cast<int64_t>(r.peak_dedup_entries)), PeakMemoryMiB());
  return text;
}

// One status line while a run goes on: how fast, how far behind, where the
// watermark is, what was written.
class ProgressLine {
 public:
  void Print(const PipelineProgress& p) {
    if (!p.outage.empty()) {
      std::fprintf(stderr, "tally: sink %s\n", p.outage.c_str());
      return;
    }
    const absl::Time now = absl::Now();
    const double seconds = absl::ToDoubleSeconds(now - last_time_);
    const double rate = seconds > 0 ? static_cast<double>(p.records_read - last_records_) / seconds : 0.0;
    last_records_ = p.records_read;
    last_time_ = now;
    std::string watermark = "none yet";
    if (p.watermark != Watermark::kNone) {
      watermark = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(p.watermark), absl::UTCTimeZone());
    }
    std::fprintf(stderr,
                 "tally: %s records (%s/s), lag %s, watermark %s, %s rows written in %lld triggers, %s dead letters\n",
                 Grouped(p.counts.records).c_str(), Grouped(static_cast<int64_t>(rate)).c_str(),
                 p.lag < 0 ? "unknown" : Grouped(p.lag).c_str(), watermark.c_str(), Grouped(p.rows_written).c_str(),
                 static_cast<long long>(p.triggers), Grouped(p.dead_letters).c_str());
  }

 private:
  int64_t last_records_ = 0;
  absl::Time last_time_ = absl::Now();
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "tally: %s\n", std::string(status.message()).c_str());
  return kExitFailure;
}

// Everything a run opens before it reads a record.
struct Job {
  std::unique_ptr<StateDir> state_dir;
  std::unique_ptr<Source> source;
  KafkaSource* kafka_source = nullptr;  // source, if it is a Kafka topic
  std::unique_ptr<KafkaTransaction> transaction;
  std::string changelog_topic;
  std::unique_ptr<Sink> sink;
  std::unique_ptr<DeadLetterSink> dead_letters;
  std::unique_ptr<AtomicOutputFile> summary;
};

// Opens a run's source, state, sinks and outputs, in an order that writes
// nothing (no table, no topic, no file) before every check has passed that
// can fail for a reason a person must fix. A Kafka source runs exactly once:
// task state under the state dir and in its changelog topic, and one
// transaction per trigger. The state dir comes first: its instance id names
// this process to the transaction coordinator, so a restart on the same dir
// fences its predecessor at once. (Not to the group as a static member:
// librdkafka 2.0.2 then fences itself when the broker restarts.)
absl::Status OpenJob(const RunFlags& flags, const KafkaFlags& kafka, Job* job) {
  std::string instance;
  bool state_dir_existed = true;
  if (kafka.input) {
    if (flags.state_dir.empty()) throw UsageError{"--state-dir: must name a directory"};
    std::error_code ec;
    state_dir_existed = std::filesystem::exists(flags.state_dir, ec);
    auto dir = StateDir::Open(flags.state_dir, {kafka.input->topic, flags.group});
    if (!dir.ok()) return dir.status();
    job->state_dir = std::move(*dir);
    instance = absl::StrCat("tally-", flags.group, "-", job->state_dir->instance_id());
  } else if (flags.state_dir != RunFlags{}.state_dir) {
    throw UsageError{"--state-dir applies to a Kafka source; a file source is read whole by every run"};
  }
  auto source = OpenSource(flags, kafka);
  if (!source.ok()) {
    // A state dir made just now for a topic that turned out not to exist
    // (a typo) would refuse the corrected run: take it back.
    if (!state_dir_existed) {
      job->state_dir.reset();
      std::error_code ec;
      std::filesystem::remove_all(flags.state_dir, ec);
    }
    return source.status();
  }
  job->source = std::move(*source);
  job->kafka_source = dynamic_cast<KafkaSource*>(job->source.get());
  if (job->kafka_source != nullptr) {
    auto transaction = KafkaTransaction::Open(kafka.input->bootstrap_servers, instance, kafka.properties);
    if (!transaction.ok()) return transaction.status();
    job->transaction = std::move(*transaction);
    job->changelog_topic = ChangelogTopicName(flags.group, job->kafka_source->topic());
    if (auto s = EnsureChangelogTopic(job->transaction->producer().handle(), job->changelog_topic,
                                      job->kafka_source->partition_count());
        !s.ok()) {
      return s;
    }
  }
  auto sink = OpenSink(flags);
  if (!sink.ok()) return sink.status();
  job->sink = std::move(*sink);
  auto dead_letters = OpenDeadLetterSink(flags, kafka, *job->source, job->transaction.get());
  if (!dead_letters.ok()) return dead_letters.status();
  job->dead_letters = std::move(*dead_letters);
  if (!flags.summary.empty()) {
    auto file = AtomicOutputFile::Create(flags.summary);
    if (!file.ok()) return file.status();
    job->summary = std::move(*file);
  }
  return absl::OkStatus();
}

// A failure to open that time may cure: a server not (yet) reachable, as
// while Cassandra or a broker restarts.
bool IsTransient(const absl::Status& s) { return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s); }

int Run(const RunFlags& flags) {
  PipelineOptions options;
  options.processor.field_names = {flags.event_id_field, flags.user_id_field, flags.event_name_field,
                                   flags.created_at_field};
  options.processor.lateness = absl::ToInt64Microseconds(DurationFlag("--lateness", flags.lateness));
  options.trigger_interval = DurationFlag("--trigger", flags.trigger);
  const absl::Duration startup_wait = DurationFlag("--startup-wait", flags.startup_wait);
  if (!absl::LoadTimeZone(flags.input_timezone, &options.processor.input_zone)) {
    throw UsageError{absl::StrCat("--input-timezone '", flags.input_timezone,
                                  "': not a known IANA time zone name (e.g. UTC, Asia/Calcutta, Europe/Berlin)")};
  }
  options.processor.max_record_bytes = flags.max_record_bytes;
  options.stop = &stop_requested;
  ProgressLine progress;
  options.on_progress = [&progress](const PipelineProgress& p) { progress.Print(p); };
  InstallStopHandlers();

  // Open everything before reading a record: a bad path or an unreachable
  // server fails the run before any work, and nothing half-written is left
  // (see AtomicOutputFile). A server that is away is waited for, up to
  // --startup-wait: a job restarted while Cassandra or a broker restarts
  // starts once they are back.
  const KafkaFlags kafka = ParseKafkaFlags(flags);
  Job job;
  const absl::Time give_up = absl::Now() + startup_wait;
  for (absl::Duration backoff = absl::Seconds(1);; backoff = std::min(backoff * 2, absl::Seconds(10))) {
    absl::Status opened = OpenJob(flags, kafka, &job);
    if (opened.ok()) break;
    job = Job{};
    if (!IsTransient(opened) || absl::Now() + backoff > give_up || stop_requested.load()) return Fail(opened);
    std::fprintf(stderr, "tally: waiting for a server (retrying in %s, for up to %s in all): %s\n",
                 absl::FormatDuration(backoff).c_str(), absl::FormatDuration(startup_wait).c_str(),
                 std::string(opened.message()).c_str());
    absl::SleepFor(backoff);
  }

  MemoryStoreProvider memory_stores;
  std::unique_ptr<ChangelogStoreProvider> changelog_stores;
  std::unique_ptr<TransactionalCommitter> committer;
  StoreProvider* stores = &memory_stores;
  if (job.transaction) {
    ChangelogStoreOptions store_options;
    store_options.bootstrap_servers = kafka.input->bootstrap_servers;
    store_options.properties = kafka.properties;
    store_options.changelog_topic = job.changelog_topic;
    store_options.lateness = options.processor.lateness;
    store_options.log = [](const std::string& message) { std::fprintf(stderr, "tally: %s\n", message.c_str()); };
    changelog_stores = std::make_unique<ChangelogStoreProvider>(*job.state_dir, std::move(store_options));
    stores = changelog_stores.get();
    committer = std::make_unique<TransactionalCommitter>(*job.transaction, *job.kafka_source,
                                                         static_cast<KafkaDeadLetterSink&>(*job.dead_letters),
                                                         job.changelog_topic);
    options.committer = committer.get();
  }
  SystemClock clock;
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  auto result = RunPipeline(*job.source, *job.sink, *job.dead_letters, *stores, options, clock);
  if (!result.ok()) return Fail(result.status());
  if (auto s = job.sink->Commit(); !s.ok()) return Fail(s);
  if (auto s = job.dead_letters->Commit(); !s.ok()) return Fail(s);
  if (job.summary) {
    if (auto s = job.summary->Append(SummaryJson(result->counts)); !s.ok()) return Fail(s);
    if (auto s = job.summary->Commit(); !s.ok()) return Fail(s);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string report = Report(job.source->Describe(), *job.sink, *job.dead_letters, flags.summary, *result,
                                    job.transaction != nullptr, seconds, CpuSeconds() - cpu_start);
  std::fputs(report.c_str(), stderr);
  return kExitOk;
}

}  // namespace

CLI::App* AddRunCommand(CLI::App& app, RunFlags* f) {
  CLI::App* run = app.add_subcommand("run", "Count each learner's distinct events per day from a stream of JSON events");
  AddFlag(run, "--source", &f->source,
          "Input: file:PATH (JSON lines), - for standard input, or kafka://HOST:PORT[,HOST:PORT]/TOPIC")
      ->required();
  AddFlag(run, "--sink", &f->sink,
          "Output: csv:PATH (the final table), console (each trigger's changed rows), or "
          "cassandra://HOST:PORT[,HOST:PORT]/KEYSPACE.TABLE (each trigger's changed rows, upserted)");
  AddFlag(run, "--summary", &f->summary, "Write the run's record counts as JSON to PATH");
  AddFlag(run, "--dead-letter", &f->dead_letter,
          "Invalid and late records: file:PATH or kafka://HOST:PORT/TOPIC (default: for a Kafka source the topic "
          "TOPIC.dead-letters beside it; else a file beside the csv output, else ./tally-dead-letters.jsonl)");
  AddFlag(run, "--lateness", &f->lateness, "How far event time may lag the newest event before a record is late");
  AddFlag(run, "--input-timezone", &f->input_timezone, "IANA time zone of CreatedAt values that carry no zone");
  AddFlag(run, "--trigger", &f->trigger, "Processing time between triggers (micro-batches)");
  AddFlag(run, "--event-id-field", &f->event_id_field, "JSON field of the event's UUID");
  AddFlag(run, "--user-id-field", &f->user_id_field, "JSON field of the learner's UUID");
  AddFlag(run, "--event-name-field", &f->event_name_field, "JSON field of the event's name");
  AddFlag(run, "--created-at-field", &f->created_at_field, "JSON field of the event time");
  AddFlag(run, "--max-record-bytes", &f->max_record_bytes, "Records larger than this are invalid (too_large)")
      ->check(CLI::PositiveNumber);
  AddFlag(run, "--console-rows", &f->console_rows, "Rows the console sink prints per trigger at most")
      ->check(CLI::NonNegativeNumber);
  AddFlag(run, "--group", &f->group, "Kafka consumer group: processes of one group share the topic's partitions");
  AddFlag(run, "--starting-offsets", &f->starting_offsets,
          "Where a partition without a committed offset starts: earliest or latest");
  AddFlag(run, "--kafka", &f->kafka_properties,
          "A librdkafka property KEY=VALUE for every Kafka client (repeatable), e.g. security.protocol=SASL_SSL");
  AddFlag(run, "--startup-wait", &f->startup_wait,
          "How long a start waits for Kafka or Cassandra to become reachable (they may be restarting)");
  AddFlag(run, "--state-dir", &f->state_dir,
          "Kafka source: directory of the task state (RocksDB), restored from the changelog topic when missing");
  AddSwitch(run, "--available-now", &f->available_now,
            "Kafka: process what the topic holds when the run starts, write, commit and exit");
  AddFlag(run, "--cassandra-replication", &f->cassandra_replication,
          "Replication of the keyspace, if tally creates it (a CQL map)");
  AddFlag(run, "--cassandra-username", &f->cassandra_username,
          "Cassandra / Keyspaces user (SASL PLAIN; Keyspaces: service-specific credentials)");
  AddFlag(run, "--cassandra-password", &f->cassandra_password,
          "Its password; prefer the environment variable TALLY_CASSANDRA_PASSWORD");
  AddSwitch(run, "--cassandra-tls", &f->cassandra_tls, "Connect with TLS (Keyspaces: port 9142)");
  AddFlag(run, "--cassandra-ca-file", &f->cassandra_ca_file, "PEM file of CAs to trust (default: the system's)");
  AddSwitch(run, "--cassandra-skip-verify", &f->cassandra_skip_verify,
            "Do not verify the server's certificate (testing only)");
  AddFlag(run, "--cassandra-in-flight", &f->cassandra_in_flight, "Write requests in flight at most");
  AddConfigFlag(run);
  return run;
}

int RunCommand(const RunFlags& flags) {
  return RunCommandLine("tally run", [&] { return Run(flags); });
}

}  // namespace tally
