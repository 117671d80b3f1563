#include "kafka/kafka_endpoint.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/redact.h"

namespace tally {
namespace {

constexpr std::string_view kScheme = "kafka://";

bool IsTopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool IsValidHostPort(std::string_view hp) {
  const size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == hp.size()) return false;
  const std::string_view port = hp.substr(colon + 1);
  if (port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value > 0 && value <= 65535;
}

}  // namespace

std::string KafkaEndpoint::Describe() const { return absl::StrCat("kafka://", bootstrap_servers, "/", topic); }

bool IsKafkaEndpoint(std::string_view text) { return text.substr(0, kScheme.size()) == kScheme; }

absl::StatusOr<KafkaEndpoint> ParseKafkaEndpoint(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("'", RedactUserinfo(text), "': ", std::string(why),
                                                   " (expected kafka://HOST:PORT[,HOST:PORT...]/TOPIC)"));
  };
  if (!IsKafkaEndpoint(text)) return invalid("not a kafka:// endpoint");
  if (HasUserinfo(text)) {
    return invalid(
        "credentials do not belong in the endpoint, where messages and process lists show them: give "
        "--kafka sasl.username=USER and the password in TALLY_KAFKA_SASL_PASSWORD or a --kafka-config file");
  }
  const std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid("no topic");
  const std::string_view hosts = rest.substr(0, slash);
  const std::string_view topic = rest.substr(slash + 1);
  if (hosts.empty()) return invalid("no broker address");
  for (absl::string_view hp : absl::StrSplit(absl::string_view(hosts.data(), hosts.size()), ',')) {
    if (!IsValidHostPort(std::string_view(hp.data(), hp.size()))) {
      return invalid(absl::StrCat("broker address '", std::string(hp.data(), hp.size()), "' is not HOST:PORT"));
    }
  }
  if (topic.empty()) return invalid("no topic");
  if (topic.size() > 249 || topic == "." || topic == "..") return invalid("not a valid topic name");
  for (char c : topic) {
    if (!IsTopicChar(c)) return invalid("a topic name is made of letters, digits, '.', '_' and '-'");
  }
  return KafkaEndpoint{std::string(hosts), std::string(topic)};
}

}  // namespace tally
