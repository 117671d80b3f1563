#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/uuid.h"
#include "cql/frame.h"
#include "cql/result.h"
#include "cql/server_error.h"
#include "cql/wire.h"

namespace tally::cql {

// The response messages of protocol v4 (spec section 4.2) other than RESULT
// (result.h) and ERROR (server_error.h).
struct ReadyMessage {};
struct AuthenticateMessage {
  std::string authenticator;  // the IAuthenticator class, e.g. "org.apache.cassandra.auth.PasswordAuthenticator"
};
struct SupportedMessage {
  StringMultimap options;  // e.g. "CQL_VERSION" -> ["3.4.7"], "COMPRESSION" -> ["snappy", "lz4"]
};
struct AuthChallengeMessage {
  std::optional<std::string> token;
};
struct AuthSuccessMessage {
  std::optional<std::string> token;
};
// This client registers for no events; one that arrives anyway is kept by type
// only and otherwise ignored.
struct EventMessage {
  std::string type;
};

using ResponseBody = std::variant<ServerError, ReadyMessage, AuthenticateMessage, SupportedMessage, Result,
                                  EventMessage, AuthChallengeMessage, AuthSuccessMessage>;

struct Response {
  std::optional<Uuid> tracing_id;     // with the tracing flag
  std::vector<std::string> warnings;  // with the warning flag
  ResponseBody body;
};

// Parses the body of a response frame. Fails with DataLoss, naming the opcode
// and the offset, when the body is malformed or truncated, when the frame is
// compressed (this client never negotiates compression), or when the opcode is
// one of a request. Bytes after the message are ignored, as the spec asks.
absl::StatusOr<Response> ParseResponse(const FrameHeader& header, absl::string_view body);

}  // namespace tally::cql
