#include "kafka/kafka_config.h"

#include <cstdio>

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

absl::StatusOr<KafkaProperties> ParseKafkaProperties(const std::vector<std::string>& texts) {
  KafkaProperties properties;
  for (const std::string& text : texts) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", RedactSetting(text), "': expected KEY=VALUE, e.g. security.protocol=SASL_SSL"));
    }
    properties.emplace_back(text.substr(0, eq), text.substr(eq + 1));
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
