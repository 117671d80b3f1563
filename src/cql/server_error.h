#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cql/consistency.h"
#include "cql/wire.h"

namespace tally::cql {

// Error codes of an ERROR response (protocol v4, section 9).
enum class ErrorCode : int32_t {
  kServerError = 0x0000,
  kProtocolError = 0x000A,
  kBadCredentials = 0x0100,
  kUnavailable = 0x1000,
  kOverloaded = 0x1001,
  kIsBootstrapping = 0x1002,
  kTruncateError = 0x1003,
  kWriteTimeout = 0x1100,
  kReadTimeout = 0x1200,
  kReadFailure = 0x1300,
  kFunctionFailure = 0x1400,
  kWriteFailure = 0x1500,
  kSyntaxError = 0x2000,
  kUnauthorized = 0x2100,
  kInvalid = 0x2200,
  kConfigError = 0x2300,
  kAlreadyExists = 0x2400,
  kUnprepared = 0x2500,
};

// "Syntax error", "Unavailable", ...; "Unknown error" for codes not listed.
const char* ErrorCodeName(ErrorCode code);

// The body of an ERROR response: code and message, and the extra fields that
// some codes carry. Fields a code does not carry keep their defaults.
struct ServerError {
  ErrorCode code = ErrorCode::kServerError;
  std::string message;

  // Unavailable, WriteTimeout, ReadTimeout, ReadFailure, WriteFailure.
  Consistency consistency = Consistency::kAny;
  int32_t required = 0;      // Unavailable: replicas needed
  int32_t alive = 0;         // Unavailable: replicas alive
  int32_t received = 0;      // timeouts, failures: replicas that answered
  int32_t block_for = 0;     // timeouts, failures: replicas waited for
  int32_t num_failures = 0;  // ReadFailure, WriteFailure
  std::string write_type;    // WriteTimeout, WriteFailure: "SIMPLE", "UNLOGGED_BATCH", ...
  bool data_present = false; // ReadTimeout, ReadFailure

  std::string keyspace;  // AlreadyExists, FunctionFailure
  std::string table;     // AlreadyExists: empty when a keyspace already exists
  std::string function;  // FunctionFailure
  std::vector<std::string> arg_types;  // FunctionFailure

  std::string unprepared_id;  // Unprepared: the id the server does not know
};

// Reads an ERROR body. Extra fields of the known codes must be present.
bool ReadServerError(WireReader* reader, ServerError* out);

// The absl::Status of a server error: the code mapped (Syntax and Invalid to
// InvalidArgument, Unauthorized to PermissionDenied, bad credentials to
// Unauthenticated, Unavailable and IsBootstrapping to Unavailable, Overloaded
// to ResourceExhausted, timeouts to DeadlineExceeded, AlreadyExists, ...), and
// a message naming the host and carrying the server's text, e.g.
//   "cassandra 127.0.0.1:9042: Syntax error (0x2000): line 1:0 no viable ..."
// The CQL code rides along as a payload: see ServerErrorCodeOf.
absl::Status ToStatus(const ServerError& error, absl::string_view host);

// The CQL error code of a Status made by ToStatus; nullopt for other statuses.
std::optional<ErrorCode> ServerErrorCodeOf(const absl::Status& status);

}  // namespace tally::cql
