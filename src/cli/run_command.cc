#include "cli/run_command.h"

#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/duration.h"
#include "cli/usage_error.h"
#include "cli/flag.h"
#include "runtime/pipeline.h"
#include "sink/atomic_output_file.h"
#include "sink/console_sink.h"
#include "sink/csv_sink.h"
#include "sink/file_dead_letter_sink.h"
#include "source/file_source.h"

namespace tally {
namespace {

constexpr char kDefaultDeadLetterFile[] = "tally-dead-letters.jsonl";


// "1234567" -> "1,234,567": the report is read by people.
std::string Grouped(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
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

absl::StatusOr<std::unique_ptr<Source>> OpenSource(const std::string& spec) {
  std::string path;
  if (spec == "-") {
    path = "-";
  } else if (auto p = AfterScheme(spec, "file:")) {
    path = *p;
  } else {
    throw UsageError{absl::StrCat("--source '", spec, "': expected file:PATH, or - for standard input")};
  }
  auto source = FileSource::Open(path);
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
  throw UsageError{absl::StrCat("--sink '", flags.sink, "': expected csv:PATH or console")};
}

std::string DeadLetterPath(const RunFlags& flags) {
  if (flags.dead_letter.empty()) {
    auto csv = AfterScheme(flags.sink, "csv:");
    return csv && *csv != "-" ? absl::StrCat(*csv, ".dead-letters.jsonl") : kDefaultDeadLetterFile;
  }
  if (auto path = AfterScheme(flags.dead_letter, "file:")) return *path;
  throw UsageError{absl::StrCat("--dead-letter '", flags.dead_letter, "': expected file:PATH")};
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
                   const std::string& summary_path, const PipelineResult& r, double seconds, double cpu) {
  const RecordCounts& c = r.counts;
  std::string reasons;
  for (int i = 0; i < kDeadLetterReasonCount; ++i) {
    if (c.invalid_by_reason[i] == 0) continue;
    absl::StrAppend(&reasons, reasons.empty() ? "" : ", ", ReasonName(static_cast<DeadLetterReason>(i)), " ",
                    Grouped(c.invalid_by_reason[i]));
  }
  std::string text = absl::StrFormat(
      "tally: read %s records from %s in %.2f s (%.2fM records/s, %.2f CPU-s per million): %s counted, "
      "%s duplicates, %s late, %s invalid%s. Wrote %s row updates in %d trigger%s to %s; %s dead letters to %s",
      Grouped(c.records), source, seconds, seconds > 0 ? static_cast<double>(c.records) / seconds / 1e6 : 0.0,
      c.records > 0 ? cpu * 1e6 / static_cast<double>(c.records) : 0.0, Grouped(c.counted), Grouped(c.duplicates),
      Grouped(c.late), Grouped(c.invalid), reasons.empty() ? "" : absl::StrCat(" (", reasons, ")"),
      Grouped(r.rows_written), r.triggers, r.triggers == 1 ? "" : "s", sink.Describe(), Grouped(r.dead_letters),
      dead_letters.Describe());
  if (!summary_path.empty()) absl::StrAppend(&text, "; summary to ", summary_path);
  absl::StrAppendFormat(&text, ". Peak dedup state %s entries; peak memory %.1f MiB.\n",
                        Grouped(static_cast<int64_t>(r.peak_dedup_entries)), PeakMemoryMiB());
  return text;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "tally: %s\n", std::string(status.message()).c_str());
  return kExitFailure;
}

int Run(const RunFlags& flags) {
  PipelineOptions options;
  options.processor.field_names = {flags.event_id_field, flags.user_id_field, flags.event_name_field,
                                   flags.created_at_field};
  options.processor.lateness = absl::ToInt64Microseconds(DurationFlag("--lateness", flags.lateness));
  options.trigger_interval = DurationFlag("--trigger", flags.trigger);
  if (!absl::LoadTimeZone(flags.input_timezone, &options.processor.input_zone)) {
    throw UsageError{absl::StrCat("--input-timezone '", flags.input_timezone,
                                  "': not a known IANA time zone name (e.g. UTC, Asia/Calcutta, Europe/Berlin)")};
  }
  options.processor.max_record_bytes = flags.max_record_bytes;
  const std::string dead_letter_path = DeadLetterPath(flags);

  // Open everything before reading a record: a bad path fails the run before
  // any work, and nothing half-written is left (see AtomicOutputFile).
  auto source = OpenSource(flags.source);
  if (!source.ok()) return Fail(source.status());
  auto sink = OpenSink(flags);
  if (!sink.ok()) return Fail(sink.status());
  auto dead_letters = FileDeadLetterSink::Create(dead_letter_path, (*source)->Describe(), (*source)->position_name());
  if (!dead_letters.ok()) return Fail(dead_letters.status());
  std::unique_ptr<AtomicOutputFile> summary;
  if (!flags.summary.empty()) {
    auto file = AtomicOutputFile::Create(flags.summary);
    if (!file.ok()) return Fail(file.status());
    summary = std::move(*file);
  }

  MemoryStoreProvider stores;
  SystemClock clock;
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  auto result = RunPipeline(**source, **sink, **dead_letters, stores, options, clock);
  if (!result.ok()) return Fail(result.status());
  if (auto s = (*sink)->Commit(); !s.ok()) return Fail(s);
  if (auto s = (*dead_letters)->Commit(); !s.ok()) return Fail(s);
  if (summary) {
    if (auto s = summary->Append(SummaryJson(result->counts)); !s.ok()) return Fail(s);
    if (auto s = summary->Commit(); !s.ok()) return Fail(s);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string report = Report((*source)->Describe(), **sink, **dead_letters, flags.summary, *result, seconds,
                                    CpuSeconds() - cpu_start);
  std::fputs(report.c_str(), stderr);
  return kExitOk;
}

}  // namespace

CLI::App* AddRunCommand(CLI::App& app, RunFlags* f) {
  CLI::App* run = app.add_subcommand("run", "Count each learner's distinct events per day from a stream of JSON events");
  AddFlag(run, "--source", &f->source, "Input: file:PATH (JSON lines), or - for standard input")->required();
  AddFlag(run, "--sink", &f->sink, "Output: csv:PATH (the final table) or console (each trigger's changed rows)");
  AddFlag(run, "--summary", &f->summary, "Write the run's record counts as JSON to PATH");
  AddFlag(run, "--dead-letter", &f->dead_letter,
          "Invalid and late records: file:PATH (default: beside the csv output, else ./tally-dead-letters.jsonl)");
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
  AddConfigFlag(run);
  return run;
}

int RunCommand(const RunFlags& flags) {
  return RunCommandLine("tally run", [&] { return Run(flags); });
}

}  // namespace tally
