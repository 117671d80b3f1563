#include "kafka/job_settings.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/json_string.h"
#include "kafka/changelog_topic.h"
#include "kafka/kafka_producer.h"
#include "kafka/topic_admin.h"
#include "simdjson.h"

namespace tally {
namespace {

// Units of a written lateness, largest first.
struct DurationUnit {
  const char* name;
  int64_t micros;
};
constexpr DurationUnit kUnits[] = {
    {"d", int64_t{86400} * 1000000}, {"h", int64_t{3600} * 1000000}, {"m", int64_t{60} * 1000000},
    {"s", 1000000},                  {"ms", 1000},                    {"us", 1},
};

// `d` in its largest exact unit: "7d", "36h", "1500ms"; "0s" for zero.
std::string WrittenDuration(absl::Duration d) {
  const int64_t micros = absl::ToInt64Microseconds(d);
  if (micros == 0) return "0s";
  for (const DurationUnit& unit : kUnits) {
    if (micros % unit.micros == 0) return absl::StrCat(micros / unit.micros, unit.name);
  }
  return absl::StrCat(micros, "us");  // not reached: the last unit divides all
}

// Parses what WrittenDuration writes.
std::optional<absl::Duration> ParseWrittenDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int64_t count = 0;
  if (digits == 0 || digits > 15 || !absl::SimpleAtoi(absl::string_view(text.data(), digits), &count)) {
    return std::nullopt;
  }
  for (const DurationUnit& unit : kUnits) {
    if (text.substr(digits) == unit.name) return absl::Microseconds(count * unit.micros);
  }
  return std::nullopt;
}

absl::Status NotSettings(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("not a tally job settings record: ", why));
}

std::string Quoted(const std::string& s) { return absl::StrCat("'", s, "'"); }

}  // namespace

std::string EncodeJobSettings(const JobSettings& s) {
  std::string out = absl::StrCat("{\"format\":", s.format_version, ",\"input_topic\":");
  AppendJsonString(s.input_topic, &out);
  out += ",\"lateness\":";
  AppendJsonString(WrittenDuration(s.lateness), &out);
  out += ",\"event_id_field\":";
  AppendJsonString(s.event_id_field, &out);
  out += ",\"user_id_field\":";
  AppendJsonString(s.user_id_field, &out);
  out += ",\"event_name_field\":";
  AppendJsonString(s.event_name_field, &out);
  out += ",\"created_at_field\":";
  AppendJsonString(s.created_at_field, &out);
  out += ",\"input_timezone\":";
  AppendJsonString(s.input_timezone, &out);
  absl::StrAppend(&out, ",\"max_record_bytes\":", s.max_record_bytes, ",\"sink\":");
  AppendJsonString(s.sink, &out);
  out += ",\"dead_letter_topic\":";
  AppendJsonString(s.dead_letter_topic, &out);
  absl::StrAppend(&out, ",\"input_keyed_by_user\":", s.input_keyed_by_user ? "true" : "false",
                  ",\"repartition_partitions\":", s.repartition_partitions, "}");
  return out;
}

absl::StatusOr<JobSettings> DecodeJobSettings(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root); err) {
    return NotSettings(absl::StrCat("not JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object object;
  if (root.get(object)) return NotSettings("not a JSON object");
  JobSettings s;
  int64_t format = 0;
  if (object["format"].get(format)) return NotSettings("no integer \"format\"");
  if (format < 1) return NotSettings(absl::StrCat("\"format\" ", format));
  if (format != JobSettings::kFormatVersion) {
    JobSettings other;
    other.format_version = static_cast<int>(std::min<int64_t>(format, INT32_MAX));
    return other;
  }

  // Each key of this format once; its reader says whether the value fit.
  std::string lateness;
  int64_t partitions = 0;
  struct Key {
    const char* name;
    std::function<bool(simdjson::dom::element)> read;
    bool seen = false;
  };
  auto string_into = [](std::string* out) {
    return [out](simdjson::dom::element e) {
      std::string_view v;
      if (e.get(v)) return false;
      *out = std::string(v);
      return true;
    };
  };
  Key keys[] = {
      {"format", [](simdjson::dom::element) { return true; }},
      {"input_topic", string_into(&s.input_topic)},
      {"lateness", string_into(&lateness)},
      {"event_id_field", string_into(&s.event_id_field)},
      {"user_id_field", string_into(&s.user_id_field)},
      {"event_name_field", string_into(&s.event_name_field)},
      {"created_at_field", string_into(&s.created_at_field)},
      {"input_timezone", string_into(&s.input_timezone)},
      {"max_record_bytes", [&s](simdjson::dom::element e) { return !e.get(s.max_record_bytes); }},
      {"sink", string_into(&s.sink)},
      {"dead_letter_topic", string_into(&s.dead_letter_topic)},
      {"input_keyed_by_user", [&s](simdjson::dom::element e) { return !e.get(s.input_keyed_by_user); }},
      {"repartition_partitions", [&partitions](simdjson::dom::element e) { return !e.get(partitions); }},
  };
  for (simdjson::dom::key_value_pair field : object) {
    Key* key = nullptr;
    for (Key& k : keys) {
      if (field.key == k.name) key = &k;
    }
    if (key == nullptr) return NotSettings(absl::StrCat("unknown key \"", std::string(field.key), "\""));
    if (key->seen || !key->read(field.value)) {
      return NotSettings(absl::StrCat("\"", key->name, "\" repeated or of the wrong type"));
    }
    key->seen = true;
  }
  for (const Key& k : keys) {
    if (!k.seen) return NotSettings(absl::StrCat("no \"", k.name, "\""));
  }
  const std::optional<absl::Duration> parsed = ParseWrittenDuration(lateness);
  if (!parsed) return NotSettings(absl::StrCat("\"lateness\" '", lateness, "' is not a duration"));
  s.lateness = *parsed;
  if (partitions < 0 || partitions > INT32_MAX) return NotSettings("\"repartition_partitions\" out of range");
  s.repartition_partitions = static_cast<int32_t>(partitions);
  return s;
}

std::vector<SettingDifference> CompareJobSettings(const JobSettings& ours, const JobSettings& job) {
  std::vector<SettingDifference> out;
  auto text = [&out](const char* flag, const std::string& a, const std::string& b) {
    if (a != b) out.push_back({std::string(flag), Quoted(a), Quoted(b)});
  };
  auto on_off = [](bool b) { return std::string(b ? "on" : "off"); };
  if (ours.input_topic != job.input_topic) {
    out.push_back({"--source (topic)", Quoted(ours.input_topic), Quoted(job.input_topic)});
  }
  if (ours.lateness != job.lateness) {
    out.push_back({"--lateness", WrittenDuration(ours.lateness), WrittenDuration(job.lateness)});
  }
  text("--event-id-field", ours.event_id_field, job.event_id_field);
  text("--user-id-field", ours.user_id_field, job.user_id_field);
  text("--event-name-field", ours.event_name_field, job.event_name_field);
  text("--created-at-field", ours.created_at_field, job.created_at_field);
  text("--input-timezone", ours.input_timezone, job.input_timezone);
  if (ours.max_record_bytes != job.max_record_bytes) {
    out.push_back({"--max-record-bytes", absl::StrCat(ours.max_record_bytes), absl::StrCat(job.max_record_bytes)});
  }
  text("--sink", ours.sink, job.sink);
  text("--dead-letter (topic)", ours.dead_letter_topic, job.dead_letter_topic);
  if (ours.input_keyed_by_user != job.input_keyed_by_user) {
    out.push_back({"--input-keyed-by-user", on_off(ours.input_keyed_by_user), on_off(job.input_keyed_by_user)});
  }
  if (ours.repartition_partitions != job.repartition_partitions) {
    out.push_back(
        {"--partitions", absl::StrCat(ours.repartition_partitions), absl::StrCat(job.repartition_partitions)});
  }
  return out;
}

namespace {

// Creates the settings topic if missing, and checks that it has one
// partition and cleanup.policy=compact.
absl::Status EnsureSettingsTopic(rd_kafka_t* admin, const JobSettingsTopic& where, const std::string& described,
                                 absl::Time deadline) {
  const std::string& servers = where.bootstrap_servers;
  const CreateTopicResult created = CreateTopic(admin, where.topic, 1, {{"cleanup.policy", "compact"}}, deadline);
  // Made now or by a process starting at the same time: wait for its leader.
  const bool exists =
      created.err == RD_KAFKA_RESP_ERR_NO_ERROR || created.err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
  auto count = TopicPartitionCount(admin, where.topic, /*wait_for_it=*/exists, deadline);
  if (!count.ok()) return count.status();
  if (*count == 0) {
    if (created.err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      return absl::UnavailableError(absl::StrCat(described, ": the cluster did not create it in time"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        described, ": cannot create it (", created.text, "); create it yourself: kafka-topics --bootstrap-server ",
        servers, " --create --topic ", where.topic, " --partitions 1 --config cleanup.policy=compact"));
  }
  const std::string remake =
      absl::StrCat("delete it (kafka-topics --bootstrap-server ", servers, " --delete --topic ", where.topic,
                   ") and start again: tally makes it anew and keeps the settings of the first process that starts "
                   "(docs/operations.md, \"Job settings\")");
  if (*count != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        described, " has ", *count,
        " partitions; tally keeps a job's settings in exactly one, so that every process reads the same first "
        "record: ",
        remake));
  }
  if (created.err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  auto policy = TopicConfig(admin, where.topic, "cleanup.policy", deadline);
  if (!policy.ok()) return policy.status();
  if (*policy != "compact") {
    return absl::FailedPreconditionError(
        absl::StrCat(described, " has cleanup.policy=", *policy,
                     "; tally needs compact alone (a delete policy would expire the job's settings): kafka-configs "
                     "--bootstrap-server ",
                     servers, " --alter --entity-type topics --entity-name ", where.topic,
                     " --add-config cleanup.policy=compact"));
  }
  return absl::OkStatus();
}

// The first settings record of the topic and its offset; nullopt if the
// topic holds none (tombstones are skipped: nothing tally writes, but a
// person may).
struct StoredSettings {
  std::string value;
  int64_t offset = 0;
};

absl::StatusOr<std::optional<StoredSettings>> ReadFirstSettings(const JobSettingsTopic& where, absl::Time deadline) {
  auto offsets = ReadChangelogOffsets(where.bootstrap_servers, where.properties, where.topic, 0,
                                      std::max(deadline - absl::Now(), absl::Milliseconds(1)));
  if (!offsets.ok()) return offsets.status();
  std::optional<StoredSettings> first;
  if (offsets->start == offsets->end) return first;
  auto read = ReadChangelog(
      where.bootstrap_servers, where.properties, where.topic, 0, offsets->start,
      [&first](const ChangelogRecord& r) {
        if (!first && r.value) first = StoredSettings{std::string(*r.value), r.offset};
        return absl::OkStatus();
      },
      std::max(deadline - absl::Now(), absl::Milliseconds(1)));
  if (!read.ok()) return read.status();
  return first;
}

// Produces `settings` to the topic and waits for the acknowledgement. The key
// is new for every record: compaction keeps the last record of a key, and
// must never drop the first one, the job's.
absl::Status ProduceSettings(const JobSettingsTopic& where, const std::string& settings, absl::Time deadline) {
  auto producer = KafkaProducer::Open(where.bootstrap_servers, where.properties, {{"client.id", "tally-settings"}},
                                      std::max(deadline - absl::Now(), absl::Milliseconds(1)));
  if (!producer.ok()) return producer.status();
  absl::BitGen gen;
  const std::string key =
      absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
  if (auto s = (*producer)->ProduceTo(where.topic, 0, key, settings); !s.ok()) return s;
  return (*producer)->Flush(std::max(deadline - absl::Now(), absl::Milliseconds(1)));
}

}  // namespace

namespace {

std::string Described(const JobSettingsTopic& where) {
  return absl::StrCat("kafka://", where.bootstrap_servers, ": job settings topic '", where.topic, "'");
}

// Ok if `stored`, the topic's first record, holds `ours`; else the refusal.
absl::Status CompareWithStored(const JobSettingsTopic& where, const StoredSettings& stored, const JobSettings& ours) {
  auto job = DecodeJobSettings(stored.value);
  if (!job.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        Described(where), ": its first record (offset ", stored.offset, ") is ", job.status().message(),
        "; the topic belongs to tally: if nothing else uses it, delete it (kafka-topics --bootstrap-server ",
        where.bootstrap_servers, " --delete --topic ", where.topic, ") and start again"));
  }
  if (job->format_version != JobSettings::kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        Described(where), ": the job's settings are in format ", job->format_version, ", this tally knows format ",
        JobSettings::kFormatVersion, ": run the tally version that started the job"));
  }
  const std::vector<SettingDifference> differences = CompareJobSettings(ours, *job);
  if (differences.empty()) return absl::OkStatus();
  std::string message = "refusing to start: ";
  for (size_t i = 0; i < differences.size(); ++i) {
    const SettingDifference& d = differences[i];
    absl::StrAppend(&message, i == 0 ? "" : "; ", d.flag, ": this process has ", d.ours, ", the job",
                    i == 0 ? absl::StrCat(" (group ", where.group, ", topic ", ours.input_topic, ")") : "", " has ",
                    d.job);
  }
  absl::StrAppend(&message,
                  "; run it with the job's settings, or use another --group for a new job (the job's settings are "
                  "the first record of topic '",
                  where.topic, "'; docs/operations.md, \"Job settings\")");
  return absl::FailedPreconditionError(message);
}

}  // namespace

absl::StatusOr<bool> CheckJobSettings(rd_kafka_t* admin, const JobSettingsTopic& where, const JobSettings& ours,
                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (auto s = EnsureSettingsTopic(admin, where, Described(where), deadline); !s.ok()) return s;
  auto first = ReadFirstSettings(where, deadline);
  if (!first.ok()) return first.status();
  if (!*first) return false;
  if (auto s = CompareWithStored(where, **first, ours); !s.ok()) return s;
  return true;
}

absl::Status RecordJobSettings(const JobSettingsTopic& where, const JobSettings& ours, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto first = ReadFirstSettings(where, deadline);
  if (!first.ok()) return first.status();
  if (!*first) {
    // A new job (or one started before tally kept its settings): ours become
    // its settings, unless another process's record lands first.
    if (auto s = ProduceSettings(where, EncodeJobSettings(ours), deadline); !s.ok()) return s;
    first = ReadFirstSettings(where, deadline);
    if (!first.ok()) return first.status();
    if (!*first) {
      return absl::UnavailableError(
          absl::StrCat(Described(where), ": the settings record just written is not there yet"));
    }
  }
  return CompareWithStored(where, **first, ours);
}

}  // namespace tally
