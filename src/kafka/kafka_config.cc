#include "kafka/kafka_config.h"

#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "runtime/log.h"
#include "runtime/redact.h"

namespace tally {
namespace {

void QuietLog(const rd_kafka_t*, int level, const char* facility, const char* message) {
  if (level <= 2) LogLine("tally", absl::StrCat("kafka ", facility, ": ", message));
}

}  // namespace

absl::Status SetKafkaProperty(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    // librdkafka's reason may quote the value: never a secret's.
    std::string reason = error;
    if (IsSecretKey(key) && !value.empty()) reason = absl::StrReplaceAll(reason, {{value, "***"}});
    return absl::InvalidArgumentError(absl::StrCat("Kafka property '", key, "': ", reason));
  }
  return absl::OkStatus();
}

absl::StatusOr<KafkaConf> MakeKafkaConf(const std::vector<std::pair<std::string, std::string>>& defaults,
                                        const KafkaProperties& properties) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &QuietLog);
  for (const auto& [key, value] : defaults) {
    if (auto s = SetKafkaProperty(conf.get(), key, value); !s.ok()) return s;
  }
  for (const auto& [key, value] : properties) {
    if (auto s = SetKafkaProperty(conf.get(), key, value); !s.ok()) return s;
  }
  return conf;
}

std::optional<std::string_view> OwnedKafkaProperty(std::string_view key) {
  // librdkafka takes a topic-level property with a "topic." prefix too.
  if (key.starts_with("topic.")) key.remove_prefix(6);
  // Every property tally sets on some client is listed here, owned or not.
  // Owned: a user's value would break exactly once, the restore or the
  // job's identity. Not owned, so tunable with --kafka (throughput, limits,
  // identification; none changes what is committed or read):
  //   client.id, partition.assignment.strategy (see KafkaSource::Connect),
  //   session.timeout.ms (how long a dead member keeps its
  //   partitions), topic.metadata.refresh.interval.ms (how soon partitions
  //   added to the input are noticed), transaction.timeout.ms (the commit's retry window derives
  //   from it, see KafkaTransaction::retry_window), linger.ms,
  //   batch.num.messages, compression.codec, fetch.max.bytes,
  //   max.partition.fetch.bytes, fetch.min.bytes, queued.min.messages,
  //   fetch.wait.max.ms.
  // Aliases librdkafka accepts for an owned property are listed with it.
  static constexpr std::pair<std::string_view, std::string_view> kOwned[] = {
      {"bootstrap.servers", "comes from the kafka:// endpoint: every client of a job must talk to the same cluster"},
      {"metadata.broker.list", "comes from the kafka:// endpoint: every client of a job must talk to the same cluster"},
      {"group.id", "comes from --group; the changelog topic and the transactions are named for it"},
      {"enable.auto.commit", "offsets are committed only inside tally's transactions, with the state they cover"},
      {"auto.commit.enable", "offsets are committed only inside tally's transactions, with the state they cover"},
      {"enable.auto.offset.store", "offsets are committed only inside tally's transactions, with the state they cover"},
      {"isolation.level", "tally reads committed records only (read_committed), else it would count aborted ones"},
      {"auto.offset.reset",
       "comes from --starting-offsets for the input; the state restore must fail, not skip, on a missing offset"},
      {"enable.partition.eof", "tally needs the end-of-partition events to finish a restore and --available-now"},
      {"transactional.id", "comes from the state dir: it fences this job's previous incarnation"},
      {"enable.idempotence", "exactly once needs the idempotent, transactional producer"},
      {"acks", "exactly once needs acks=all"},
      {"request.required.acks", "exactly once needs acks=all"},
      {"allow.auto.create.topics", "tally must not create a topic by reading it (a changelog with the wrong policy)"},
  };
  for (const auto& [name, why] : kOwned) {
    if (key == name) return why;
  }
  return std::nullopt;
}

absl::StatusOr<KafkaProperties> ParseKafkaProperties(const std::vector<std::string>& texts) {
  KafkaProperties properties;
  for (const std::string& text : texts) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", RedactSetting(text), "': expected KEY=VALUE, e.g. security.protocol=SASL_SSL"));
    }
    std::string key = text.substr(0, eq);
    if (auto why = OwnedKafkaProperty(key)) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "': tally sets this property itself and it cannot be "
                                                     "changed: ", std::string(*why)));
    }
    properties.emplace_back(std::move(key), text.substr(eq + 1));
  }
  if (auto conf = MakeKafkaConf({}, properties); !conf.ok()) return conf.status();
  return properties;
}

std::string KafkaErrorText(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

int KafkaTimeoutMs(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

absl::Status KafkaUnreachableError(const std::string& bootstrap_servers, absl::Duration timeout,
                                   rd_kafka_resp_err_t err) {
  return absl::UnavailableError(absl::StrCat("cannot reach Kafka at ", bootstrap_servers, " within ",
                                             absl::FormatDuration(timeout), " (", KafkaErrorText(err),
                                             "): is the broker running and reachable? Locally: "
                                             "scripts/local-stack start kafka"));
}

}  // namespace tally
