#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tally::aws {

// An AWS key pair, with the session token and expiry of temporary ones.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;            // empty for long-term keys
  std::optional<absl::Time> expiration;  // none: does not expire
  std::string source;                    // where they came from, for messages: "environment", ...
};

// Reads an environment variable; nullopt when unset. Injected so that tests
// need not change the process's environment.
using Getenv = std::function<std::optional<std::string>(const std::string& name)>;
Getenv ProcessEnvironment();

// One place credentials may come from.
//
// Fetch returns NOT_FOUND when the source is not configured at all (no such
// variables, no such file, no metadata service answering), so that a chain
// tries the next one; any other error means the source is configured but
// broken, and must not be skipped (that would use other credentials than
// the operator meant). Fetch may block (files, HTTP); thread-compatible.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual absl::StatusOr<Credentials> Fetch() = 0;
};

// The credentials in the JSON of the ECS container endpoint and of the EC2
// instance metadata service: {"AccessKeyId", "SecretAccessKey", "Token",
// "Expiration": RFC 3339}. `source` names the endpoint in messages.
absl::StatusOr<Credentials> ParseCredentialsJson(absl::string_view json, absl::string_view source);

}  // namespace tally::aws
