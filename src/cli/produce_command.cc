#include "cli/produce_command.h"

#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/flag.h"
#include "cli/number_format.h"
#include "cli/stop_signal.h"
#include "cli/usage_error.h"
#include "runtime/log.h"
#include "generate/event_generator.h"
#include "kafka/kafka_endpoint.h"
#include "kafka/kafka_producer.h"
#include "source/file_source.h"

namespace tally {
namespace {

// Longer lines than any broker takes by default (message.max.bytes is about
// 1 MB), so a line is refused here only if no broker could take it, while
// reading stays bounded in memory.
constexpr size_t kMaxProduceLineBytes = size_t{64} << 20;

// The record's key: the value of `"<field>":"<36 chars>"`, lower-cased, so
// that all of a learner's events land in one partition whatever the case of
// their UUID (tally counts per partition; see docs/operations.md). Empty (a
// null key, spread round-robin) if the record has no such field.
std::string_view LearnerKey(std::string_view record, const std::string& quoted_field, char* buffer) {
  size_t at = record.find(quoted_field);
  if (at == std::string_view::npos) return {};
  at += quoted_field.size();
  while (at < record.size() && (record[at] == ' ' || record[at] == ':')) ++at;
  if (at + 38 > record.size() || record[at] != '"' || record[at + 37] != '"') return {};
  for (size_t i = 0; i < 36; ++i) {
    const char c = record[at + 1 + i];
    buffer[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return std::string_view(buffer, 36);
}

// Hands out records one by one, from a file or from the generator.
class RecordFeed {
 public:
  virtual ~RecordFeed() = default;
  // Sets *record to the next record (valid until the next call); false at the end.
  virtual absl::StatusOr<bool> Next(std::string_view* record) = 0;
  virtual std::string Describe() const = 0;
};

class FileFeed final : public RecordFeed {
 public:
  explicit FileFeed(std::unique_ptr<FileSource> source) : source_(std::move(source)) {}
  absl::StatusOr<bool> Next(std::string_view* record) override {
    while (next_ == batch_.records.size()) {
      if (batch_.end_of_input) return false;
      if (auto s = source_->Poll(absl::Seconds(1), &batch_); !s.ok()) return s;
      next_ = 0;
    }
    const SourceRecord& r = batch_.records[next_++];
    if (r.cut_size != 0) {
      return absl::InvalidArgumentError(absl::StrCat(source_->Describe(), " line ", r.origin.position, " is ",
                                                     r.cut_size, " bytes; produce sends lines of up to ",
                                                     kMaxProduceLineBytes, " bytes"));
    }
    *record = r.bytes;
    return true;
  }
  std::string Describe() const override { return source_->Describe(); }

 private:
  std::unique_ptr<FileSource> source_;
  RecordBatch batch_;
  size_t next_ = 0;
};

class GeneratorFeed final : public RecordFeed {
 public:
  explicit GeneratorFeed(std::unique_ptr<EventGenerator> generator) : generator_(std::move(generator)) {}
  absl::StatusOr<bool> Next(std::string_view* record) override {
    if (generator_->done()) return false;
    line_.clear();
    generator_->Next(&line_);
    *record = std::string_view(line_).substr(0, line_.size() - 1);  // without its '\n'
    return true;
  }
  std::string Describe() const override {
    return absl::StrCat("the generator (seed ", generator_->options().seed, ")");
  }

 private:
  std::unique_ptr<EventGenerator> generator_;
  std::string line_;
};

std::unique_ptr<RecordFeed> OpenFeed(const ProduceFlags& flags, absl::Status* error) {
  if (flags.from.empty()) {
    auto generator = EventGenerator::Create(GeneratorOptionsFromFlags(flags.generator));
    if (!generator.ok()) throw UsageError{std::string(generator.status().message())};
    return std::make_unique<GeneratorFeed>(std::move(*generator));
  }
  const std::optional<std::string> path = FileSourcePath(flags.from);
  if (!path) throw UsageError{absl::StrCat("--from '", flags.from, "': expected file:PATH, or - for standard input")};
  auto source = FileSource::Open(*path, kMaxProduceLineBytes);
  if (!source.ok()) {
    *error = source.status();
    return nullptr;
  }
  return std::make_unique<FileFeed>(std::move(*source));
}

int Fail(const absl::Status& status) {
  LogLine("tally produce", status.message());
  return kExitFailure;
}

int Produce(const ProduceFlags& flags) {
  auto endpoint = ParseKafkaEndpoint(flags.to);
  if (!endpoint.ok()) throw UsageError{absl::StrCat("--to ", endpoint.status().message())};
  if (flags.rate < 0) throw UsageError{absl::StrCat("--rate ", flags.rate, ": must not be negative")};
  const KafkaProperties properties = KafkaClientProperties(flags.kafka);
  absl::Status error;
  std::unique_ptr<RecordFeed> feed = OpenFeed(flags, &error);
  if (feed == nullptr) return Fail(error);
  auto producer = KafkaProducer::Open(endpoint->bootstrap_servers, properties);
  if (!producer.ok()) return Fail(producer.status());

  const std::string quoted_field = absl::StrCat("\"", flags.key_field, "\"");
  char key_buffer[36];
  const absl::Time start = absl::Now();
  absl::Time next_progress = start + absl::Seconds(2);
  int64_t sent = 0;
  std::string_view record;
  bool stopped = false;
  for (;;) {
    // SIGTERM / SIGINT: stop sending, deliver what was sent, report.
    if (StopRequested()) {
      stopped = true;
      break;
    }
    auto more = feed->Next(&record);
    if (!more.ok()) return Fail(more.status());
    if (!*more) break;
    const std::string_view key = flags.key_field.empty() ? std::string_view() : LearnerKey(record, quoted_field, key_buffer);
    if (auto s = (*producer)->Produce(endpoint->topic, key, record); !s.ok()) return Fail(s);
    ++sent;
    if ((sent & 1023) == 0 || flags.rate > 0) {
      (*producer)->Poll();
      absl::Time now = absl::Now();
      if (flags.rate > 0) {  // pace: record n goes out no earlier than start + n / rate
        const absl::Time due = start + absl::Seconds(static_cast<double>(sent) / flags.rate);
        if (due > now) {
          absl::SleepFor(due - now);
          now = due;
        }
      }
      if (now >= next_progress) {
        LogLine("tally produce",
                absl::StrCat(Grouped(sent), " sent, ", Grouped((*producer)->acknowledged()), " acknowledged, ",
                             Grouped((*producer)->failed()), " failed (",
                             Grouped(static_cast<int64_t>(static_cast<double>(sent) /
                                                          absl::ToDoubleSeconds(now - start))),
                             " records/s)"));
        next_progress = now + absl::Seconds(2);
      }
    }
  }
  const absl::Status flushed = (*producer)->Flush(absl::Minutes(2));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  LogLine("tally produce",
          absl::StrFormat("%ssent %s records from %s to %s in %.2f s (%s records/s): %s acknowledged, %s failed%s",
                          stopped ? "stopped by a signal: " : "", Grouped(sent), feed->Describe(),
                          endpoint->Describe(), seconds,
                          Grouped(seconds > 0 ? static_cast<int64_t>(static_cast<double>(sent) / seconds) : sent),
                          Grouped((*producer)->acknowledged()), Grouped((*producer)->failed()),
                          flushed.ok() ? "" : absl::StrCat(" (", flushed.message(), ")")));
  if ((*producer)->failed() != 0 || (*producer)->acknowledged() != sent) return kExitFailure;
  return stopped ? StoppedExitCode() : kExitOk;
}

}  // namespace

CLI::App* AddProduceCommand(CLI::App& app, ProduceFlags* f) {
  CLI::App* produce = app.add_subcommand(
      "produce", "Send app events to a Kafka topic: a synthetic stream (the generator's flags) or a file's lines");
  AddFlag(produce, "--to", &f->to, "Topic: kafka://HOST:PORT[,HOST:PORT]/TOPIC")->required();
  AddFlag(produce, "--from", &f->from, "Send a file's lines (file:PATH, or - for standard input) instead of generating");
  AddGeneratorFlags(produce, &f->generator);
  AddFlag(produce, "--rate", &f->rate, "Records per second at most; 0 sends as fast as the broker takes them");
  AddFlag(produce, "--key-field", &f->key_field,
          "Key each record by this UUID field (lower-cased), so a learner's events share a partition; \"\" for none");
  AddKafkaClientFlags(produce, &f->kafka);
  AddConfigFlag(produce);
  return produce;
}

int ProduceCommand(const ProduceFlags& flags) {
  return RunCommandLine("tally produce", [&] { return Produce(flags); });
}

}  // namespace tally
