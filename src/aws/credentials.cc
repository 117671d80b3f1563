#include "aws/credentials.h"

#include <simdjson.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tally::aws {

Getenv ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<Credentials> ParseCredentialsJson(absl::string_view json, absl::string_view source) {
  auto invalid = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(source, ": the credentials document ", why));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return invalid("is not JSON");
  auto text = [&](const char* key) -> std::optional<std::string> {
    std::string_view v;
    if (doc[key].get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
    return std::string(v);
  };
  // The metadata service reports its own failures in "Code".
  if (auto code = text("Code"); code && *code != "Success") {
    return absl::UnavailableError(
        absl::StrCat(source, ": credentials not available (Code ", *code, ": ", text("Message").value_or(""), ")"));
  }
  Credentials c;
  c.source = std::string(source);
  auto id = text("AccessKeyId");
  auto secret = text("SecretAccessKey");
  if (!id || !secret || id->empty() || secret->empty()) return invalid("has no AccessKeyId and SecretAccessKey");
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = text("Token").value_or("");
  if (auto expiration = text("Expiration")) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *expiration, &t, &err)) {
      return invalid(absl::StrCat("has an Expiration that is not an RFC 3339 time: '", *expiration, "'"));
    }
    c.expiration = t;
  }
  return c;
}

}  // namespace tally::aws
