#include "cql/endpoint.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tally::cql {

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad host address \"", text, "\": ", why));
  };
  Endpoint e;
  absl::string_view rest;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return bad("no closing bracket");
    e.host = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return bad("expected ':' after ']'");
  } else {
    const size_t colon = text.find(':');
    if (colon != absl::string_view::npos && text.find(':', colon + 1) != absl::string_view::npos) {
      return bad("put an IPv6 address in brackets, e.g. [::1]:9042");
    }
    e.host = std::string(text.substr(0, colon));
    if (colon != absl::string_view::npos) rest = text.substr(colon);
  }
  if (e.host.empty()) return bad("no host");
  if (!rest.empty()) {
    uint32_t port;
    if (!absl::SimpleAtoi(rest.substr(1), &port) || port == 0 || port > 65535) return bad("port must be 1..65535");
    e.port = static_cast<uint16_t>(port);
  }
  return e;
}

}  // namespace tally::cql
