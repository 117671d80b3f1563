#include "cli/run_command.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/byte_size.h"
#include "cli/duration.h"
#include "cli/usage_error.h"
#include "cli/flag.h"
#include "cli/number_format.h"
#include "cli/stop_signal.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/operations_endpoint.h"
#include "runtime/redact.h"
#include "runtime/pipeline.h"
#include "sink/atomic_output_file.h"
#include "sink/cassandra_sink.h"
#include "aws/credential_providers.h"
#include "aws/refreshing_credentials.h"
#include "aws/region.h"
#include "cql/sigv4_sasl.h"
#include "sink/console_sink.h"
#include "sink/csv_sink.h"
#include "sink/file_dead_letter_sink.h"
#include "sink/output_file_set.h"
#include "sink/output_target.h"
#include "sink/temporary_files.h"
#include "kafka/kafka_dead_letter_sink.h"
#include "kafka/kafka_endpoint.h"
#include "kafka/changelog_reseed.h"
#include "kafka/changelog_store_provider.h"
#include "kafka/changelog_topic.h"
#include "kafka/job_settings.h"
#include "kafka/kafka_source.h"
#include "kafka/kafka_transaction.h"
#include "kafka/repartition_router.h"
#include "kafka/standby_tasks.h"
#include "kafka/topic_admin.h"
#include "kafka/kafka_producer.h"
#include "kafka/transactional_committer.h"
#include "state/spill_space.h"
#include "state/state_dir.h"
#include "source/file_source.h"

namespace tally {
namespace {

// The largest --max-record-bytes: a record is held whole in memory, and
// neither Kafka nor a sane JSON line comes near it.
constexpr int64_t kMaxRecordBytesLimit = int64_t{1} << 30;

// How long a run may take to end after SIGTERM / SIGINT, whatever it does
// (docs/operations.md, "Exit codes"). The Cassandra sink gives up a stuck
// write within 20 s of the signal, well inside it.
constexpr absl::Duration kStopBound = absl::Seconds(30);
// A job fenced this many times in a row, each within kQuickFence of its
// start, stops (see Run).
constexpr absl::Duration kQuickFence = absl::Minutes(1);
constexpr int kMaxQuickFences = 3;

constexpr char kDefaultDeadLetterFile[] = "tally-dead-letters.jsonl";
// The dead-letter topic of a Kafka source, unless --dead-letter says otherwise.
constexpr char kDeadLetterTopicSuffix[] = ".dead-letters";

// A run over a bounded input stopped by a signal before the end of its input:
// its outputs would be a partial table presented as the result, so none is
// committed; the previous files stay. Exit 128 + the signal, as a shell
// reports a process the signal ended.
int StoppedBeforeTheEnd(const std::string& source) {
  LogLine("tally", absl::StrCat("stopped by ", StopSignal() == SIGINT ? "SIGINT" : "SIGTERM",
                                " before the end of its input (", source,
                                "): the run is incomplete and no output was committed (output files keep their "
                                "previous contents)"));
  return StoppedExitCode();
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
  kafka.properties = KafkaClientProperties(flags.kafka);
  return kafka;
}

// The source's flags, checked before anything is opened: the path of a file
// source ("-" for standard input), or nullopt for a Kafka source.
std::optional<std::string> CheckSourceFlags(const RunFlags& flags, const KafkaFlags& kafka) {
  if (kafka.input) {
    if (flags.state_dir.empty()) throw UsageError{"--state-dir: must name a directory"};
    if (flags.partitions != 0 && flags.input_keyed_by_user) {
      throw UsageError{"--partitions is the repartition topic's partition count; with --input-keyed-by-user the input "
                       "is counted as it is partitioned, without one"};
    }
    return std::nullopt;
  }
  if (flags.available_now) {
    throw UsageError{"--available-now applies to a Kafka source; a file source always ends with its input"};
  }
  if (flags.input_keyed_by_user) {
    throw UsageError{"--input-keyed-by-user applies to a Kafka source: it checks each record's Kafka key"};
  }
  if (flags.standby_replicas != 0) {
    throw UsageError{"--standby-replicas applies to a Kafka source: it keeps copies of other processes' task state"};
  }
  if (flags.partitions != 0) {
    throw UsageError{"--partitions applies to a Kafka source: it is the repartition topic's partition count"};
  }
  if (flags.state_dir != RunFlags{}.state_dir) {
    throw UsageError{"--state-dir applies to a Kafka source; a file source is read whole by every run"};
  }
  const std::optional<std::string> path = FileSourcePath(flags.source);
  if (!path) {
    throw UsageError{absl::StrCat("--source '", RedactUserinfo(flags.source),
                                  "': expected file:PATH, - for standard input, or kafka://HOST:PORT[,...]/TOPIC")};
  }
  return path;
}

absl::StatusOr<std::unique_ptr<Source>> OpenSource(const RunFlags& flags, const KafkaFlags& kafka) {
  if (kafka.input) {
    KafkaSourceOptions options;
    options.endpoint = *kafka.input;
    options.group = flags.group;
    // The flag's check admits only these two.
    options.starting_offsets =
        flags.starting_offsets == "latest" ? StartingOffsets::kLatest : StartingOffsets::kEarliest;
    options.properties = kafka.properties;
    options.available_now = flags.available_now;
    // Counting is exact only while each learner's records stay in one
    // partition: a partition added while the job runs moves or splits them.
    options.refuse_new_partitions = true;
    auto source = KafkaSource::Open(options);
    if (!source.ok()) return source.status();
    return std::unique_ptr<Source>(std::move(*source));
  }
  auto source = FileSource::Open(*FileSourcePath(flags.source), flags.max_record_bytes);
  if (!source.ok()) return source.status();
  return std::unique_ptr<Source>(std::move(*source));
}

// What --sink names, checked before anything is opened.
struct SinkSpec {
  std::optional<std::string> csv;  // the path of a csv sink
  std::optional<CassandraSinkOptions> cassandra;
  std::string aws_region;  // --cassandra-auth sigv4: the region to sign for
};

SinkSpec CheckSinkFlags(const RunFlags& flags) {
  SinkSpec spec;
  if (flags.sink == "console") return spec;
  if (auto path = AfterScheme(flags.sink, "csv:")) {
    spec.csv = *path;
    return spec;
  }
  if (IsCassandraTable(flags.sink)) {
    CassandraSinkOptions options;
    auto table = ParseCassandraTable(flags.sink);
    if (!table.ok()) throw UsageError{absl::StrCat("--sink ", table.status().message())};
    options.table = *table;
    options.replication = flags.cassandra_replication;
    options.username = flags.cassandra_username;
    options.password = flags.cassandra_password;
    // Nothing secret goes out in clear by accident: TLS options without TLS
    // would connect in plaintext, and SASL PLAIN sends the password as is.
    if (!flags.cassandra_tls && (!flags.cassandra_ca_file.empty() || flags.cassandra_skip_verify)) {
      throw UsageError{absl::StrCat(flags.cassandra_skip_verify ? "--cassandra-skip-verify" : "--cassandra-ca-file",
                                    " needs --cassandra-tls (without it the connection is plaintext)")};
    }
    if (flags.cassandra_auth == "sigv4") {
      // One way to authenticate, never a second one to fall back to.
      if (!flags.cassandra_username.empty() || !flags.cassandra_password.empty()) {
        throw UsageError{"--cassandra-auth sigv4 signs with AWS credentials: leave out --cassandra-username and "
                         "--cassandra-password (TALLY_CASSANDRA_PASSWORD), which are for --cassandra-auth plain"};
      }
      if (!flags.cassandra_tls && !flags.cassandra_allow_plaintext_auth) {
        throw UsageError{"--cassandra-auth sigv4 without --cassandra-tls would send the AWS session token in clear: "
                         "add --cassandra-tls (Amazon Keyspaces requires it, on port 9142)"};
      }
      auto region = aws::ResolveRegion(flags.aws_region, aws::ProcessEnvironment(), options.table.hosts);
      if (!region.ok()) throw UsageError{std::string(region.status().message())};
      spec.aws_region = *region;
    } else if (!flags.aws_region.empty()) {
      throw UsageError{"--aws-region is for --cassandra-auth sigv4"};
    }
    if (!flags.cassandra_tls && !flags.cassandra_allow_plaintext_auth &&
        (!flags.cassandra_username.empty() || !flags.cassandra_password.empty())) {
      throw UsageError{
          "--cassandra-username/--cassandra-password without --cassandra-tls would send the password in clear: "
          "add --cassandra-tls, or --cassandra-allow-plaintext-auth on a trusted network"};
    }
    options.tls = flags.cassandra_tls;
    options.ca_file = flags.cassandra_ca_file;
    options.verify_server_certificate = !flags.cassandra_skip_verify;
    if (flags.cassandra_in_flight < 1) throw UsageError{"--cassandra-in-flight: must be at least 1"};
    options.max_in_flight = flags.cassandra_in_flight;
    options.stop = &StopRequestedFlag();  // a write to a server that went silent must not hold up a SIGTERM
    spec.cassandra = std::move(options);
    return spec;
  }
  throw UsageError{absl::StrCat("--sink '", RedactUserinfo(flags.sink),
                                "': expected csv:PATH, console or cassandra://HOST:PORT[,...]/KEYSPACE.TABLE")};
}

// `csv_file` is the csv sink's file, created beforehand with the other local
// outputs.
absl::StatusOr<std::unique_ptr<Sink>> OpenSink(const RunFlags& flags, const SinkSpec& spec,
                                               std::unique_ptr<AtomicOutputFile> csv_file) {
  if (spec.csv) {
    // A Kafka job's state outlives the run: its csv holds the rows this run wrote.
    return std::unique_ptr<Sink>(std::make_unique<CsvSink>(std::move(csv_file), IsKafkaEndpoint(flags.source)));
  }
  if (spec.cassandra) {
    CassandraSinkOptions options = *spec.cassandra;
    if (!spec.aws_region.empty()) {
      // Fetched once here, so that missing or expired credentials fail the
      // start with their own message; refreshed in the background after.
      auto credentials = aws::RefreshingCredentials::Start(aws::DefaultCredentialsChain(aws::ProcessEnvironment()));
      if (!credentials.ok()) {
        return absl::Status(credentials.status().code(),
                            absl::StrCat(options.table.Describe(), ": --cassandra-auth sigv4: ",
                                         credentials.status().message()));
      }
      std::shared_ptr<aws::RefreshingCredentials> source = std::move(*credentials);
      options.sasl = std::make_shared<cql::SigV4Sasl>([source] { return source->Current(); }, spec.aws_region);
    }
    auto sink = CassandraSink::Open(options);
    if (!sink.ok()) return sink.status();
    return std::unique_ptr<Sink>(std::move(*sink));
  }
  return std::unique_ptr<Sink>(std::make_unique<ConsoleSink>(stdout, flags.console_rows));
}

// The dead-letter destination: --dead-letter if given; else, for a Kafka
// source, the topic beside it named TOPIC.dead-letters; for a csv sink, a file
// beside it; else ./tally-dead-letters.jsonl.
// With a Kafka source (a transaction), the letters go to a topic of the same
// cluster, inside the transaction: exactly once.
struct DeadLetterSpec {
  std::optional<KafkaEndpoint> topic;
  std::string file;     // the path, if not a topic
  bool named = false;   // by --dead-letter, not the default
};

DeadLetterSpec CheckDeadLetterFlags(const RunFlags& flags, const KafkaFlags& kafka) {
  DeadLetterSpec result;
  result.named = !flags.dead_letter.empty();
  std::string spec = flags.dead_letter;
  if (spec.empty() && kafka.input) {
    spec = absl::StrCat("kafka://", kafka.input->bootstrap_servers, "/", kafka.input->topic, kDeadLetterTopicSuffix);
  }
  if (kafka.input) {
    const KafkaEndpoint endpoint =
        IsKafkaEndpoint(spec) ? KafkaEndpointFlag("--dead-letter", spec) : KafkaEndpoint{};
    if (!IsKafkaEndpoint(spec) || endpoint.bootstrap_servers != kafka.input->bootstrap_servers) {
      throw UsageError{absl::StrCat("--dead-letter '", RedactUserinfo(spec),
                                    "': with a Kafka source, dead letters go to a topic of the same cluster (",
                                    kafka.input->bootstrap_servers,
                                    "), written in the same transaction as the offsets: give kafka://",
                                    kafka.input->bootstrap_servers, "/TOPIC, or leave it out")};
    }
    result.topic = endpoint;
    return result;
  }
  if (IsKafkaEndpoint(spec)) {
    result.topic = KafkaEndpointFlag("--dead-letter", spec);
  } else if (spec.empty()) {
    // Beside a csv file; not beside a stream (/dev/stdout, a FIFO).
    auto csv = AfterScheme(flags.sink, "csv:");
    std::optional<absl::StatusOr<OutputTarget>> csv_target;
    if (csv) csv_target = ResolveOutputTarget(*csv);
    result.file = csv_target && csv_target->ok() && !(*csv_target)->stream ? absl::StrCat(*csv, ".dead-letters.jsonl")
                                                                         : kDefaultDeadLetterFile;
  } else if (auto p = AfterScheme(spec, "file:")) {
    result.file = *p;
  } else {
    throw UsageError{absl::StrCat("--dead-letter '", RedactUserinfo(spec), "': expected file:PATH or kafka://HOST:PORT[,...]/TOPIC")};
  }
  return result;
}

// `file` is the dead-letter file, created beforehand with the other local
// outputs, if the letters go to a file.
// The source of the counting sub-topology of a repartitioned job: the
// repartition topic, in the job's group; available-now (if asked) once the
// routing sub-topology has routed the whole input (`routed`).
absl::StatusOr<std::unique_ptr<KafkaSource>> OpenRepartitionSource(const RunFlags& flags, const KafkaFlags& kafka,
                                                                   const std::string& topic,
                                                                   const std::atomic<bool>* routed) {
  KafkaSourceOptions options;
  options.endpoint = *kafka.input;
  options.endpoint.topic = topic;
  options.group = flags.group;
  options.starting_offsets = StartingOffsets::kEarliest;  // everything routed is counted
  options.properties = kafka.properties;
  options.refuse_new_partitions = true;
  if (flags.available_now) options.available_now_when = routed;
  return KafkaSource::Open(options);
}

absl::StatusOr<std::unique_ptr<DeadLetterSink>> OpenDeadLetterSink(const DeadLetterSpec& spec,
                                                                   const KafkaFlags& kafka, const Source& source,
                                                                   KafkaTransaction* transaction,
                                                                   std::unique_ptr<AtomicOutputFile> file) {
  if (transaction != nullptr) {
    auto sink = std::make_unique<KafkaDeadLetterSink>(transaction->producer(), *spec.topic, kafka.input->topic);
    if (auto s = sink->EnsureTopic(); !s.ok()) return s;
    return std::unique_ptr<DeadLetterSink>(std::move(sink));
  }
  if (spec.topic) {
    auto producer = KafkaProducer::Open(spec.topic->bootstrap_servers, kafka.properties);
    if (!producer.ok()) return producer.status();
    const std::string source_topic = kafka.input ? kafka.input->topic : source.Describe();
    auto sink = std::make_unique<KafkaDeadLetterSink>(std::move(*producer), *spec.topic, source_topic);
    if (auto s = sink->EnsureTopic(); !s.ok()) return s;
    return std::unique_ptr<DeadLetterSink>(std::move(sink));
  }
  return std::unique_ptr<DeadLetterSink>(
      std::make_unique<FileDeadLetterSink>(std::move(file), source.Describe(), source.position_name()));
}

// Refuses (a usage error, naming both) an output that is the input or another
// output: a file the run would replace while it reads it, or replace twice.
// Same inode or, for a file yet to be made, the same path once links are
// followed. Streams (/dev/null, a FIFO, standard output) may be shared.
void CheckDistinctFiles(const RunFlags& flags, const std::optional<std::string>& input, const SinkSpec& sink,
                        const DeadLetterSpec& dead_letters) {
  struct Named {
    std::string what;
    OutputTarget target;
  };
  std::vector<Named> files;
  auto add = [&files](std::string what, const std::string& path, bool is_stdin = false) {
    if (is_stdin) {
      files.push_back({std::move(what), StandardInputTarget()});
      return;
    }
    // What cannot be resolved (a directory) fails, naming it, when created.
    if (auto target = ResolveOutputTarget(path); target.ok()) files.push_back({std::move(what), *target});
  };
  if (input) add(absl::StrCat("--source ", flags.source), *input, *input == "-");
  if (sink.csv) add(absl::StrCat("--sink ", flags.sink), *sink.csv);
  if (!dead_letters.topic) {
    add(dead_letters.named ? absl::StrCat("--dead-letter ", flags.dead_letter)
                           : absl::StrCat("the dead letters (by default ", dead_letters.file, ")"),
        dead_letters.file);
  }
  if (!flags.summary.empty()) add(absl::StrCat("--summary ", flags.summary), flags.summary);
  for (size_t i = 0; i < files.size(); ++i) {
    for (size_t j = i + 1; j < files.size(); ++j) {
      if (!SameFile(files[i].target, files[j].target)) continue;
      throw UsageError{absl::StrCat(files[j].what, " and ", files[i].what, " name the same file",
                                    i == 0 && input ? ": the output would destroy the input" : "",
                                    "; give each output a path of its own")};
    }
  }
}

// True if `name` has the form of an IANA zone name ("UTC", "Asia/Calcutta",
// "Etc/GMT+5"): components of letters, digits, '_', '-' and '+' joined by '/'.
// absl would open any path it is given, a FIFO too (and wait on it forever).
bool IsZoneName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '+') return false;
    }
  }
  return true;
}

// A check for a flag that must not be empty (a field name, say).
const CLI::Validator kNotEmpty(
    [](std::string& text) -> std::string { return text.empty() ? "must not be empty" : ""; }, "TEXT");

// --state-memory in bytes, or 0 if not given (no bound).
uint64_t StateMemoryFlag(const std::string& value) {
  if (value.empty()) return 0;
  auto bytes = ParseByteSize(value);
  if (!bytes.ok()) throw UsageError{absl::StrCat("--state-memory: ", bytes.status().message())};
  if (*bytes < SpillSpace::kMinBytes) {
    throw UsageError{absl::StrCat("--state-memory ", value, ": below the minimum a job needs to run, ",
                                  SpillSpace::kMinBytes >> 20, "MiB (the hot part of the dedup state and the filters "
                                  "of the spilled part; see docs/operations.md)")};
  }
  return *bytes;
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
      "read %s records from %s in %.2f s (%.2fM records/s, %.2f CPU-s per million)%s: %s counted, "
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
  absl::StrAppendFormat(&text, ". Peak dedup state %s entries; peak memory %.1f MiB.",
                        Grouped(static_cast<int64_t>(r.peak_dedup_entries)), PeakMemoryMiB());
  return text;
}

// One status line while a run goes on: how fast, how far behind, where the
// watermark is, what was written.
class ProgressLine {
 public:
  void Print(const PipelineProgress& p) {
    if (!p.outage.empty()) {
      LogLine("tally", absl::StrCat("sink ", p.outage));
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
  LogLine("tally", status.message());
  return kExitFailure;
}

// Everything a run opens before it reads a record.
// Members are declared in the order they are opened, each after what it
// uses (the dead-letter sink borrows the transaction's producer, the
// transaction is named by the state dir): a Job is torn down only by its
// destructor, which closes them in the reverse order. (A move assignment
// would close them first to last.)
struct Job {
  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // The run's output files, renamed into place together (the sinks and
  // `summary` own them and outlive every use of the set).
  OutputFileSet outputs;
  std::unique_ptr<StateDir> state_dir;
  std::unique_ptr<Source> source;
  KafkaSource* kafka_source = nullptr;  // source, if it is a Kafka topic
  std::unique_ptr<KafkaTransaction> transaction;
  std::string changelog_topic;
  JobSettingsTopic settings_topic;
  bool settings_recorded = false;  // the job's settings were there, and ours
  std::unique_ptr<Sink> sink;
  std::unique_ptr<DeadLetterSink> dead_letters;
  std::unique_ptr<AtomicOutputFile> summary;
  // A topic not keyed by learner is repartitioned: sub-topology 0 (the
  // router) reads it with its own consumer and transactions, and `source`
  // is then the repartition topic. Null otherwise.
  std::string repartition_topic;
  int32_t repartition_partitions = 0;
  std::atomic<bool> routed{false};  // the router has routed the whole input (available-now)
  std::unique_ptr<KafkaSource> router_source;
  std::unique_ptr<KafkaTransaction> router_transaction;
  std::unique_ptr<KafkaDeadLetterSink> router_dead_letters;
};

// The settings this process runs its Kafka job with (kafka/job_settings.h).
// A csv sink counts by its kind only: its file is this process's own output.
JobSettings JobSettingsOf(const RunFlags& flags, const KafkaFlags& kafka, const SinkSpec& sink,
                          const DeadLetterSpec& dead_letters, int32_t repartition_partitions) {
  JobSettings s;
  s.input_topic = kafka.input->topic;
  s.lateness = DurationFlag("--lateness", flags.lateness);
  s.event_id_field = flags.event_id_field;
  s.user_id_field = flags.user_id_field;
  s.event_name_field = flags.event_name_field;
  s.created_at_field = flags.created_at_field;
  s.input_timezone = flags.input_timezone;
  s.max_record_bytes = static_cast<int64_t>(flags.max_record_bytes);
  s.sink = sink.csv ? "csv" : RedactUserinfo(flags.sink);
  s.dead_letter_topic = dead_letters.topic->topic;
  s.input_keyed_by_user = flags.input_keyed_by_user;
  s.repartition_partitions = repartition_partitions;
  return s;
}

// Opens a run's source, state, sinks and outputs, in an order that writes
// nothing (no table, no topic, no file) before every check has passed that
// can fail for a reason a person must fix: first every flag is checked (exit
// 2), then the local outputs are created (a bad path fails at once), and only
// then is a server contacted. A Kafka source runs exactly once:
// task state under the state dir and in its changelog topic, and one
// transaction per trigger. The state dir comes first: its instance id names
// this process to the transaction coordinator, so a restart on the same dir
// fences its predecessor at once. (Not to the group as a static member:
// librdkafka 2.0.2 then fences itself when the broker restarts.)
absl::Status OpenJob(const RunFlags& flags, const KafkaFlags& kafka, Job* job) {
  const std::optional<std::string> input = CheckSourceFlags(flags, kafka);
  const SinkSpec sink_spec = CheckSinkFlags(flags);
  const DeadLetterSpec dead_letter_spec = CheckDeadLetterFlags(flags, kafka);
  JobSettings settings;  // a Kafka job's, checked before the sink opens and recorded after
  CheckDistinctFiles(flags, input, sink_spec, dead_letter_spec);

  std::unique_ptr<AtomicOutputFile> csv_file;
  std::unique_ptr<AtomicOutputFile> dead_letter_file;
  if (sink_spec.csv) {
    auto file = job->outputs.Create(*sink_spec.csv);
    if (!file.ok()) return file.status();
    csv_file = std::move(*file);
  }
  if (!dead_letter_spec.topic) {
    auto file = job->outputs.Create(dead_letter_spec.file);
    if (!file.ok()) return file.status();
    dead_letter_file = std::move(*file);
  }
  if (!flags.summary.empty()) {
    auto file = job->outputs.Create(flags.summary);
    if (!file.ok()) return file.status();
    job->summary = std::move(*file);
  }

  std::string instance;
  if (kafka.input) {
    auto dir = StateDir::Open(flags.state_dir, {kafka.input->topic, flags.group});
    if (!dir.ok()) return dir.status();
    job->state_dir = std::move(*dir);
    instance = absl::StrCat("tally-", flags.group, "-", job->state_dir->instance_id());
  }
  auto source = OpenSource(flags, kafka);
  if (!source.ok()) return source.status();
  job->source = std::move(*source);
  job->kafka_source = dynamic_cast<KafkaSource*>(job->source.get());
  if (job->kafka_source != nullptr) {
    auto transaction = KafkaTransaction::Open(kafka.input->bootstrap_servers, instance, kafka.properties);
    if (!transaction.ok()) return transaction.status();
    job->transaction = std::move(*transaction);
    const int32_t input_partitions = job->kafka_source->partition_count();
    if (!flags.input_keyed_by_user && (input_partitions > 1 || flags.partitions > 1)) {
      // Each task counts its partition alone, so a learner's records must
      // all be in one: re-key them through the repartition topic.
      job->repartition_partitions = flags.partitions > 0 ? flags.partitions : input_partitions;
      job->repartition_topic = RepartitionTopicName(flags.group, kafka.input->topic);
      if (auto s = EnsureRepartitionTopic(job->transaction->producer().handle(), job->repartition_topic,
                                          job->repartition_partitions);
          !s.ok()) {
        return s;
      }
      auto router_transaction =
          KafkaTransaction::Open(kafka.input->bootstrap_servers, absl::StrCat(instance, "-route"), kafka.properties,
                                 absl::Seconds(30), kRouterTransactionTimeout);
      if (!router_transaction.ok()) return router_transaction.status();
      job->router_transaction = std::move(*router_transaction);
      auto counted = OpenRepartitionSource(flags, kafka, job->repartition_topic, &job->routed);
      if (!counted.ok()) return counted.status();
      job->router_source.reset(static_cast<KafkaSource*>(job->source.release()));
      job->router_source->AcceptNewPartitions();
      job->kafka_source = counted->get();
      job->source = std::move(*counted);
    }
    job->changelog_topic = ChangelogTopicName(flags.group, job->kafka_source->topic());
    if (auto s = EnsureChangelogTopic(job->transaction->producer().handle(), job->changelog_topic,
                                      job->kafka_source->partition_count());
        !s.ok()) {
      return s;
    }
    // Before the sink is opened (it may create the table): a process with
    // other settings than its job's writes nothing. A new job's settings are
    // recorded below, once the start has succeeded.
    job->settings_topic = {kafka.input->bootstrap_servers, kafka.properties, flags.group,
                           JobSettingsTopicName(flags.group, kafka.input->topic)};
    settings = JobSettingsOf(flags, kafka, sink_spec, dead_letter_spec, job->repartition_partitions);
    auto recorded = CheckJobSettings(job->transaction->producer().handle(), job->settings_topic, settings);
    if (!recorded.ok()) return recorded.status();
    job->settings_recorded = *recorded;
  }
  auto sink = OpenSink(flags, sink_spec, std::move(csv_file));
  if (!sink.ok()) return sink.status();
  job->sink = std::move(*sink);
  auto dead_letters =
      OpenDeadLetterSink(dead_letter_spec, kafka, *job->source, job->transaction.get(), std::move(dead_letter_file));
  if (!dead_letters.ok()) return dead_letters.status();
  job->dead_letters = std::move(*dead_letters);
  if (job->router_transaction) {
    job->router_dead_letters = std::make_unique<KafkaDeadLetterSink>(job->router_transaction->producer(),
                                                                     *dead_letter_spec.topic, kafka.input->topic);
  }
  if (job->kafka_source != nullptr && !job->settings_recorded) {
    return RecordJobSettings(job->settings_topic, settings);
  }
  return absl::OkStatus();
}

// Runs `after` once each commit of `committer` has succeeded (what the
// run does then: bind the state dir, bring the standby replicas up).
class AfterCommit final : public Committer {
 public:
  AfterCommit(Committer& committer, std::function<absl::Status(TaskSet&)> after)
      : committer_(committer), after_(std::move(after)) {}
  bool carries_dead_letters() const override { return committer_.carries_dead_letters(); }
  absl::Status Commit(TaskSet& tasks) override {
    if (absl::Status s = committer_.Commit(tasks); !s.ok()) return s;
    return after_(tasks);
  }

 private:
  Committer& committer_;
  std::function<absl::Status(TaskSet&)> after_;
};

// A failure to open that time may cure: a server not (yet) reachable, as
// while Cassandra or a broker restarts.
bool IsTransient(const absl::Status& s) { return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s); }

absl::StatusOr<int> RunJob(const RunFlags& flags, const KafkaFlags& kafka, PipelineOptions options, Job& job);

int Run(const RunFlags& flags) {
  PipelineOptions options;
  options.processor.field_names = {flags.event_id_field, flags.user_id_field, flags.event_name_field,
                                   flags.created_at_field};
  options.processor.lateness = absl::ToInt64Microseconds(DurationFlag("--lateness", flags.lateness));
  options.trigger_interval = DurationFlag("--trigger", flags.trigger);
  const absl::Duration startup_wait = DurationFlag("--startup-wait", flags.startup_wait);
  if (!IsZoneName(flags.input_timezone) || !absl::LoadTimeZone(flags.input_timezone, &options.processor.input_zone)) {
    throw UsageError{absl::StrCat("--input-timezone '", flags.input_timezone,
                                  "': not a known IANA time zone name (e.g. UTC, Asia/Calcutta, Europe/Berlin)")};
  }
  StateMemoryFlag(flags.state_memory);  // checked before anything opens
  options.processor.max_record_bytes = flags.max_record_bytes;
  options.processor.require_user_key = flags.input_keyed_by_user;
  options.stop = &StopRequestedFlag();
  // The operations endpoints, up before anything is opened: a probe sees
  // the process live (and not ready) while it waits for its servers.
  std::unique_ptr<OperationsEndpoint> endpoint;
  if (!flags.http.empty()) {
    auto address = ParseHttpAddress(flags.http);
    if (!address.ok()) throw UsageError{absl::StrCat("--http ", address.status().message())};
    auto started = OperationsEndpoint::Start(*address, Metrics::Get());
    if (!started.ok()) return Fail(started.status());
    endpoint = std::move(*started);
    options.metrics = &Metrics::Get();
    LogLine("tally", absl::StrCat("serving /metrics, /healthz and /readyz on http://", endpoint->address()));
  }

  // Open everything before reading a record: a bad path or an unreachable
  // server fails the run before any work, and nothing half-written is left
  // (see AtomicOutputFile). A server that is away is waited for, up to
  // --startup-wait: a job restarted while Cassandra or a broker restarts
  // starts once they are back.
  const KafkaFlags kafka = ParseKafkaFlags(flags);
  if (flags.reseed_changelog && !kafka.input) {
    throw UsageError{"--reseed-changelog applies to a Kafka source: it copies the local state back to the changelog"};
  }
  // However a stop finds the run — restoring, waiting on a server, writing —
  // the process ends within kStopBound of it.
  ExitIfStopOverruns(kStopBound, absl::StrCat("a call to --source ", RedactUserinfo(flags.source), " or --sink ",
                                              RedactUserinfo(flags.sink)));
  // A process whose producer can go on no more starts the job anew and
  // rejoins, as a restarted process would (NeedsNewProducer): fenced (it
  // was stopped or cut off past its transaction timeout, and another member
  // took its partitions), or its last commit got no answer within the retry
  // window (a new producer learns the outcome). Fenced again soon after each
  // start, something else holds its identity (a copy of its state dir
  // running elsewhere): then it stops.
  int quick_fences = 0;
  for (;;) {
    std::unique_ptr<Job> job;
    const absl::Time give_up = absl::Now() + startup_wait;
    for (absl::Duration backoff = absl::Seconds(1);; backoff = std::min(backoff * 2, absl::Seconds(10))) {
      job = std::make_unique<Job>();
      absl::Status opened = OpenJob(flags, kafka, job.get());
      if (opened.ok()) break;
      job.reset();
      if (StopRequested() && !kafka.input) return StoppedBeforeTheEnd(flags.source);
      if (!IsTransient(opened) || absl::Now() + backoff > give_up || StopRequested()) return Fail(opened);
      LogLine("tally", absl::StrCat("waiting for a server (retrying in ", absl::FormatDuration(backoff),
                                    ", for up to ", absl::FormatDuration(startup_wait), " in all): ",
                                    opened.message()));
      absl::SleepFor(backoff);
    }
    const absl::Time started = absl::Now();
    absl::StatusOr<int> ran = RunJob(flags, kafka, options, *job);
    if (ran.ok()) return *ran;
    quick_fences = absl::Now() - started < kQuickFence ? quick_fences + 1 : 1;
    if (quick_fences >= kMaxQuickFences) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          ran.status().message(), "; fenced ", quick_fences, " times in a row within ",
          absl::FormatDuration(kQuickFence), " of starting: another process runs with this process's identity "
          "(a copy of its --state-dir?)")));
    }
    LogLine("tally", absl::StrCat(ran.status().message(), ". Its uncommitted work is dropped; the job starts anew "
                                  "and rejoins the group"));
  }
}

// Runs an opened job to its end and returns its exit status; or, if the
// producer of a job that can start anew (a Kafka job writing no output file)
// can go on no more (NeedsNewProducer), that status, for Run to start the
// job again.
absl::StatusOr<int> RunJob(const RunFlags& flags, const KafkaFlags& kafka, PipelineOptions options, Job& job) {
  // Rates are of this start of the job: its counts begin at 0.
  ProgressLine progress;
  options.on_progress = [&progress](const PipelineProgress& p) { progress.Print(p); };
  const bool can_start_anew = job.kafka_source != nullptr && job.outputs.empty();
  auto fail = [&](const absl::Status& status) -> absl::StatusOr<int> {
    if (can_start_anew && NeedsNewProducer(status)) {
      if (!StopRequested()) return status;
      // Asked to stop anyway: nothing is lost. What this producer did not
      // commit is redone from the last commit by whoever owns the
      // partitions, or by the next start.
      LogLine("tally", absl::StrCat(status.message(), ". Stopping as asked; the work since the last commit is redone "
                                                      "from it by the group"));
      return kExitOk;
    }
    return Fail(status);
  };
  // Under --state-memory each task's dedup store keeps its part of the
  // budget in memory and spills the rest (state/spill_space.h).
  std::unique_ptr<SpillSpace> spill;
  DedupStoreFactory dedup_stores;
  if (const uint64_t budget = StateMemoryFlag(flags.state_memory); budget > 0) {
    auto opened = SpillSpace::Open(budget, job.state_dir ? job.state_dir->path() : std::string());
    if (!opened.ok()) return Fail(opened.status());
    spill = std::move(*opened);
    dedup_stores = [s = spill.get(), lateness = options.processor.lateness](int32_t partition) {
      return s->OpenDedupStore(partition, lateness);
    };
  }
  MemoryStoreProvider memory_stores(dedup_stores);
  std::unique_ptr<ChangelogStoreProvider> changelog_stores;
  std::unique_ptr<TransactionalCommitter> committer;
  std::unique_ptr<StandbyTasks> standby;
  std::unique_ptr<AfterCommit> after_commit;
  StoreProvider* stores = &memory_stores;
  if (job.transaction) {
    ChangelogStoreOptions store_options;
    store_options.bootstrap_servers = kafka.input->bootstrap_servers;
    store_options.properties = kafka.properties;
    store_options.changelog_topic = job.changelog_topic;
    store_options.input_topic = job.kafka_source->topic();
    store_options.group = flags.group;
    store_options.lateness = options.processor.lateness;
    store_options.dedup = dedup_stores;
    store_options.log = [](const std::string& message) { LogLine("tally", message); };
    if (flags.reseed_changelog) {
      auto reseeded =
          ReseedChangelog(*job.state_dir, job.kafka_source->partition_count(), store_options, *job.transaction);
      if (!reseeded.ok()) return Fail(reseeded.status());
      LogLine("tally", absl::StrCat("reseeded ", *reseeded, " partition", *reseeded == 1 ? "" : "s",
                                    " of changelog topic '", job.changelog_topic, "' from ", flags.state_dir,
                                    "; now start the job without --reseed-changelog"));
      return kExitOk;
    }
    changelog_stores = std::make_unique<ChangelogStoreProvider>(*job.state_dir, std::move(store_options));
    stores = changelog_stores.get();
    committer = std::make_unique<TransactionalCommitter>(*job.transaction, *job.kafka_source,
                                                         static_cast<KafkaDeadLetterSink&>(*job.dead_letters),
                                                         job.changelog_topic);
    if (flags.standby_replicas > 0) {
      StandbyTasksOptions standby_options;
      standby_options.consumer = job.kafka_source->consumer();
      standby_options.topic = job.kafka_source->topic();
      standby_options.group = flags.group;
      standby_options.replicas = flags.standby_replicas;
      standby_options.log = [](const std::string& message) { LogLine("tally", message); };
      standby = std::make_unique<StandbyTasks>(*changelog_stores, std::move(standby_options));
      changelog_stores->SetBeforeOpen([s = standby.get()](int32_t partition) { s->Release(partition); });
    }
    after_commit = std::make_unique<AfterCommit>(*committer, [&job, s = standby.get()](TaskSet& tasks) {
      // The state dir is the job's once a commit succeeded: until then a
      // failed start leaves it free for the corrected run.
      if (absl::Status bound = job.state_dir->Bind(); !bound.ok()) return bound;
      // The task set is the process's own partitions now. A stopping run
      // has no use for standbys: it ends without delay.
      if (s != nullptr && !StopRequested()) s->Update(tasks.Partitions());
      // The repartition topic's records below what was just committed are
      // consumed for good: delete them (Kafka Streams purges its
      // repartition topics so). A failure only delays it to the next commit.
      if (!job.repartition_topic.empty()) {
        std::vector<std::pair<int32_t, int64_t>> consumed;
        tasks.ForEach([&](Task& task) {
          if (task.staged_position >= 0) consumed.emplace_back(task.partition(), task.staged_position);
        });
        if (absl::Status purged = DeleteRecordsBefore(job.transaction->producer().handle(), job.repartition_topic,
                                                      consumed, absl::Now() + absl::Seconds(5));
            !purged.ok()) {
          LogLine("tally", absl::StrCat("could not delete consumed repartition records (next commit tries again): ",
                                        purged.message()));
        }
      }
      return absl::OkStatus();
    });
    options.committer = after_commit.get();
  }
  SystemClock clock;
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  // A repartitioned job runs its two sub-topologies side by side: the router
  // on a thread of its own, the counting trigger loop here. A stop reaches
  // the router first; once it has committed, the counter stops too (as it
  // does when the router fails).
  std::atomic<bool> counter_stop{false};
  std::atomic<bool> counter_ended{false};
  absl::StatusOr<RepartitionRouterResult> routed = RepartitionRouterResult{};
  std::thread router_thread;
  if (job.router_source) {
    options.processor.input_repartitioned = true;
    options.stop = &counter_stop;
    RepartitionRouterOptions router_options;
    router_options.repartition_topic = job.repartition_topic;
    router_options.partitions = job.repartition_partitions;
    router_options.field_names = options.processor.field_names;
    router_options.input_zone = options.processor.input_zone;
    router_options.max_record_bytes = options.processor.max_record_bytes;
    router_options.commit_interval = std::min(options.trigger_interval, router_options.commit_interval);
    router_options.metrics = options.metrics;
    router_options.stop = &StopRequestedFlag();
    router_options.stop_too = &counter_ended;
    router_thread = std::thread([&job, &routed, &counter_stop, router_options] {
      {
        RepartitionRouter router(*job.router_source, *job.router_transaction, *job.router_dead_letters,
                                 router_options);
        routed = router.Run();
      }
      // Leave the group at once: a member that no longer polls would hold up
      // every rebalance of the group (the counting side's included) until
      // its max.poll.interval.ms ran out.
      job.router_source.reset();
      job.routed = true;  // available-now: the counter's end is known now
      if (!routed.ok() || StopRequested()) counter_stop = true;
    });
  }
  auto result = RunPipeline(*job.source, *job.sink, *job.dead_letters, *stores, options, clock);
  if (router_thread.joinable()) {
    counter_ended = true;
    router_thread.join();
    if (!routed.ok()) return fail(routed.status());
  }
  if (!result.ok()) return fail(result.status());
  if (result->stopped && job.kafka_source == nullptr) return StoppedBeforeTheEnd(job.source->Describe());
  // Each output file is prepared (written, synced, closed) by its Commit, and
  // only when all are does Publish rename them into place: all or none.
  if (auto s = job.sink->Commit(); !s.ok()) return Fail(s);
  if (auto s = job.dead_letters->Commit(); !s.ok()) return Fail(s);
  if (job.summary) {
    if (auto s = job.summary->Append(SummaryJson(result->counts)); !s.ok()) return Fail(s);
    if (auto s = job.summary->Commit(); !s.ok()) return Fail(s);
  }
  if (auto s = job.outputs.Publish(); !s.ok()) return Fail(s);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string report = Report(job.source->Describe(), *job.sink, *job.dead_letters, flags.summary, *result,
                                    job.transaction != nullptr, seconds, CpuSeconds() - cpu_start);
  LogLine("tally", report);
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
  AddFlag(run, "--event-id-field", &f->event_id_field, "JSON field of the event's UUID")
      ->check(kNotEmpty);
  AddFlag(run, "--user-id-field", &f->user_id_field, "JSON field of the learner's UUID")
      ->check(kNotEmpty);
  AddFlag(run, "--event-name-field", &f->event_name_field, "JSON field of the event's name")
      ->check(kNotEmpty);
  AddFlag(run, "--created-at-field", &f->created_at_field, "JSON field of the event time")
      ->check(kNotEmpty);
  AddFlag(run, "--max-record-bytes", &f->max_record_bytes,
          "Records larger than this are invalid (too_large); their dead letter keeps their first 1024 bytes")
      ->check(WholeNumber(1, kMaxRecordBytesLimit));
  AddFlag(run, "--console-rows", &f->console_rows, "Rows the console sink prints per trigger at most");
  AddFlag(run, "--group", &f->group, "Kafka consumer group: processes of one group share the topic's partitions");
  AddFlag(run, "--starting-offsets", &f->starting_offsets,
          "Where a partition without a committed offset starts: earliest or latest")
      ->check(CLI::IsMember({"earliest", "latest"}));
  AddKafkaClientFlags(run, &f->kafka);
  AddFlag(run, "--startup-wait", &f->startup_wait,
          "How long a start waits for Kafka or Cassandra to become reachable (they may be restarting)");
  AddFlag(run, "--state-dir", &f->state_dir,
          "Kafka source: directory of the task state (RocksDB), restored from the changelog topic when missing");
  AddFlag(run, "--state-memory", &f->state_memory,
          "Memory for the dedup state, e.g. 256MiB (at least 16MiB); beyond it, the oldest entries spill to sorted "
          "files on local disk (under --state-dir, else a temporary directory). Default: no bound, all in memory");
  AddSwitch(run, "--reseed-changelog", &f->reseed_changelog,
            "Kafka: copy the local state in --state-dir back to a changelog topic that lost it (deleted and made "
            "anew), then exit; see docs/fault-tolerance.md");
  AddSwitch(run, "--available-now", &f->available_now,
            "Kafka: process what the topic holds when the run starts, write, commit and exit");
  AddFlag(run, "--partitions", &f->partitions,
          "Kafka, a topic not keyed by learner: partitions of the repartition topic GROUP-TOPIC-repartition, the job's "
          "parallelism (0: the input's count)")
      ->check(WholeNumber(0, 100000));
  AddFlag(run, "--standby-replicas", &f->standby_replicas,
          "Kafka: keep warm copies of this many other processes' task state (from their changelogs), so that a "
          "failover restores only the changelog's tail")
      ->check(WholeNumber(0, std::numeric_limits<int>::max()));
  AddSwitch(run, "--input-keyed-by-user", &f->input_keyed_by_user,
            "Kafka: the producer keys every record by its UserUUID; a record whose key is not is a dead letter "
            "(wrong_key), and a partition added to the topic stops the job");
  AddFlag(run, "--cassandra-replication", &f->cassandra_replication,
          "Replication of the keyspace, if tally creates it (a CQL map)");
  AddFlag(run, "--cassandra-auth", &f->cassandra_auth,
          "How to authenticate to Cassandra: plain (SASL PLAIN with --cassandra-username, if given) or sigv4 "
          "(Amazon Keyspaces with AWS credentials: environment, ~/.aws/credentials, ECS/EKS or EC2 role)")
      ->check(CLI::IsMember({"plain", "sigv4"}));
  AddFlag(run, "--aws-region", &f->aws_region,
          "--cassandra-auth sigv4: the AWS region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, or the "
          "region of a cassandra.REGION.amazonaws.com endpoint)");
  AddFlag(run, "--cassandra-username", &f->cassandra_username,
          "Cassandra / Keyspaces user (SASL PLAIN; Keyspaces: service-specific credentials)");
  AddFlag(run, "--cassandra-password", &f->cassandra_password,
          "Its password; prefer the environment variable TALLY_CASSANDRA_PASSWORD");
  AddSwitch(run, "--cassandra-tls", &f->cassandra_tls, "Connect with TLS (Keyspaces: port 9142)");
  AddFlag(run, "--cassandra-ca-file", &f->cassandra_ca_file, "PEM file of CAs to trust (default: the system's)");
  AddSwitch(run, "--cassandra-skip-verify", &f->cassandra_skip_verify,
            "Do not verify the server's certificate (testing only)");
  AddSwitch(run, "--cassandra-allow-plaintext-auth", &f->cassandra_allow_plaintext_auth,
            "Send the username and password without --cassandra-tls (a trusted network only)");
  AddFlag(run, "--cassandra-in-flight", &f->cassandra_in_flight, "Write requests in flight at most");
  AddFlag(run, "--http", &f->http,
          "Serve /metrics (Prometheus), /healthz and /readyz on HOST:PORT, e.g. 127.0.0.1:9400 (default: off)");
  AddConfigFlag(run);
  return run;
}

int RunCommand(const RunFlags& flags) {
  return RunCommandLine("tally run", [&] { return Run(flags); });
}

}  // namespace tally
