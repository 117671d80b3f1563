#include "cli/generate_command.h"

#include <signal.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/duration.h"
#include "cli/usage_error.h"
#include "runtime/log.h"
#include "cli/flag.h"
#include "cli/number_format.h"
#include "generate/event_generator.h"
#include "sink/atomic_output_file.h"
#include "sink/temporary_files.h"

namespace tally {
namespace {



Micros DurationFlag(const char* name, const std::string& value) {
  auto d = ParseDuration(value);
  if (!d.ok()) throw UsageError{absl::StrCat(name, ": ", d.status().message())};
  return absl::ToInt64Microseconds(*d);
}

// Exactly YYYY-MM-DD, a real date.
absl::CivilDay DateFlag(const char* name, const std::string& value) {
  bool ok = value.size() == 10 && value[4] == '-' && value[7] == '-';
  for (size_t i = 0; ok && i < value.size(); ++i) {
    if (i != 4 && i != 7 && (value[i] < '0' || value[i] > '9')) ok = false;
  }
  if (ok) {
    const int year = std::stoi(value.substr(0, 4));
    const int month = std::stoi(value.substr(5, 2));
    const int day = std::stoi(value.substr(8, 2));
    const absl::CivilDay date(year, month, day);
    if (date.year() == year && date.month() == month && date.day() == day) return date;
  }
  throw UsageError{absl::StrCat(name, " '", value, "': expected a date YYYY-MM-DD")};
}

}  // namespace

GeneratorOptions GeneratorOptionsFromFlags(const GeneratorFlags& f) {
  GeneratorOptions o;
  o.events = f.events;
  o.learners = f.learners;
  o.days = f.days;
  o.start_date = DateFlag("--start-date", f.start_date);
  o.duplicate_ratio = f.duplicate_ratio;
  o.late_ratio = f.late_ratio;
  o.invalid_ratio = f.invalid_ratio;
  o.lateness = DurationFlag("--lateness", f.lateness);
  o.out_of_order = DurationFlag("--out-of-order", f.out_of_order);
  // Checked here: CLI11 would wrap a negative number into an unsigned one.
  if (f.oversized_bytes < 0) {
    throw UsageError{absl::StrCat("--oversized-bytes ", f.oversized_bytes, ": must not be negative")};
  }
  o.oversized_bytes = static_cast<size_t>(f.oversized_bytes);
  if (!ParseTimeFormat(f.time_format, &o.time_format)) {
    throw UsageError{absl::StrCat("--time-format '", f.time_format,
                                  "': expected iso, offset, space, local, epoch, epoch-fraction or mixed")};
  }
  if (!absl::LoadTimeZone(f.timezone, &o.zone)) {
    throw UsageError{absl::StrCat("--timezone '", f.timezone,
                                  "': not a known IANA time zone name (e.g. UTC, Asia/Calcutta, Europe/Berlin)")};
  }
  if (!ParseUuidCase(f.uuid_case, &o.uuid_case)) {
    throw UsageError{absl::StrCat("--uuid-case '", f.uuid_case, "': expected lower, upper or mixed")};
  }
  if (f.seed < 0) {
    throw UsageError{absl::StrCat("--seed ", f.seed, ": must not be negative")};
  }
  o.seed = static_cast<uint64_t>(f.seed);
  return o;
}

namespace {

int Fail(const absl::Status& status) {
  LogLine("tally generate", status.message());
  return kExitFailure;
}

int Generate(const GenerateFlags& flags) {
  const GeneratorOptions options = GeneratorOptionsFromFlags(flags.generator);
  auto generator = EventGenerator::Create(options);
  if (!generator.ok()) throw UsageError{std::string(generator.status().message())};

  // Killed while it writes (Ctrl-C, a closed pipe), it leaves no temporary
  // file behind: the handler removes it, then the signal ends the process.
  RemoveTemporaryFilesOnSignals({SIGTERM, SIGINT, SIGPIPE, SIGHUP});
  auto output = AtomicOutputFile::Create(flags.output);
  if (!output.ok()) return Fail(output.status());
  const absl::Time start = absl::Now();
  absl::Status status = (*generator)->WriteAll([&](std::string_view chunk) { return (*output)->Append(chunk); });
  if (status.ok()) status = (*output)->Commit();
  if (!status.ok()) return Fail(status);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  const GeneratorCounts& c = (*generator)->counts();
  const EventGenerator& g = **generator;
  std::string report = absl::StrFormat(
      "wrote %s lines to %s in %.2f s: %s events, %s duplicates, %s late, %s invalid "
      "(%d kinds, in turn); %s learners; event times from %s to %s UTC in %s time format, seed %d",
      Grouped(c.lines), flags.output == "-" ? "standard output" : flags.output, seconds, Grouped(c.events),
      Grouped(c.duplicates), Grouped(c.late), Grouped(c.invalid),
      options.oversized_bytes > 0 ? kInvalidKindCount : kInvalidKindCount - 1, Grouped(options.learners),
      absl::FormatCivilTime(absl::CivilDay(1970, 1, 1) + DayOf(g.start_time())),
      absl::FormatCivilTime(absl::CivilDay(1970, 1, 1) + DayOf(g.end_time() - 1)), TimeFormatName(options.time_format),
      options.seed);
  const bool local = options.time_format == TimeFormat::kLocal || options.time_format == TimeFormat::kMixed;
  if (local && options.zone != absl::UTCTimeZone()) {
    absl::StrAppend(&report, "; times without a zone are ", flags.generator.timezone,
                    " time: read them with tally run --input-timezone ", flags.generator.timezone);
  }
  absl::StrAppend(&report, ".");
  LogLine("tally generate", report);
  return kExitOk;
}

}  // namespace

void AddGeneratorFlags(CLI::App* gen, GeneratorFlags* f) {
  AddFlag(gen, "--events", &f->events, "Lines to write, of every kind");
  AddFlag(gen, "--learners", &f->learners, "Learners (UserUUIDs) in the fixed pool the events come from");
  AddFlag(gen, "--days", &f->days, "Days the event times spread over");
  AddFlag(gen, "--start-date", &f->start_date, "First day of event times, YYYY-MM-DD (from 00:00 UTC)");
  AddFlag(gen, "--duplicate-ratio", &f->duplicate_ratio,
          "Fraction of lines that re-send a recent counted event verbatim (within the lateness)");
  AddFlag(gen, "--late-ratio", &f->late_ratio,
          "Fraction of lines that are fresh events already late: 1 s to 1 day older than the watermark that "
          "tally run with the same --lateness will have");
  AddFlag(gen, "--lateness", &f->lateness, "The lateness of the tally run that will read the stream");
  AddFlag(gen, "--invalid-ratio", &f->invalid_ratio,
          "Fraction of lines that are malformed records, of every kind in turn (bad JSON, not UTF-8, not an "
          "object, missing fields, wrong types, bad UUIDs, empty EventName, bad and out-of-range times)");
  AddFlag(gen, "--oversized-bytes", &f->oversized_bytes,
          "If above 0, malformed records also include events padded to this many bytes (make it larger than "
          "tally run's --max-record-bytes)");
  AddFlag(gen, "--out-of-order", &f->out_of_order,
          "Each event's time lags the stream's progress by a random amount up to this (capped by the lateness)");
  AddFlag(gen, "--time-format", &f->time_format,
          "CreatedAt as iso (2024-01-01T10:00:00.123Z), offset (+05:30 / -0800, same instant), space "
          "(2024-01-01 10:00:00Z), local (no zone, --timezone local time), epoch (JSON integer seconds), "
          "epoch-fraction (JSON number, microseconds), or mixed (a random one per event)");
  AddFlag(gen, "--timezone", &f->timezone,
          "IANA zone of local times; tally run --input-timezone must be the same");
  AddFlag(gen, "--uuid-case", &f->uuid_case, "Letter case of UUIDs: lower, upper or mixed (varies per UUID)");
  AddFlag(gen, "--seed", &f->seed, "Seed: the same flags and seed write the same bytes");
}

CLI::App* AddGenerateCommand(CLI::App& app, GenerateFlags* f) {
  CLI::App* gen = app.add_subcommand(
      "generate", "Write a synthetic stream of app events (JSON lines) with duplicates, late and malformed records");
  AddGeneratorFlags(gen, &f->generator);
  AddFlag(gen, "--output", &f->output, "File to write (complete or not at all), or - for standard output");
  AddConfigFlag(gen);
  return gen;
}

int GenerateCommand(const GenerateFlags& flags) {
  return RunCommandLine("tally generate", [&] { return Generate(flags); });
}

}  // namespace tally
