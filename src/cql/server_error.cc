#include "cql/server_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tally::cql {
namespace {

constexpr char kPayloadKey[] = "tally.cql.ErrorCode";

absl::StatusCode StatusCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kServerError:
    case ErrorCode::kProtocolError:
    case ErrorCode::kTruncateError:
      return absl::StatusCode::kInternal;
    case ErrorCode::kBadCredentials: return absl::StatusCode::kUnauthenticated;
    case ErrorCode::kUnavailable:
    case ErrorCode::kIsBootstrapping:
      return absl::StatusCode::kUnavailable;
    case ErrorCode::kOverloaded: return absl::StatusCode::kResourceExhausted;
    case ErrorCode::kWriteTimeout:
    case ErrorCode::kReadTimeout:
      return absl::StatusCode::kDeadlineExceeded;
    case ErrorCode::kReadFailure:
    case ErrorCode::kWriteFailure:
      return absl::StatusCode::kAborted;
    case ErrorCode::kFunctionFailure:
    case ErrorCode::kSyntaxError:
    case ErrorCode::kInvalid:
      return absl::StatusCode::kInvalidArgument;
    case ErrorCode::kUnauthorized: return absl::StatusCode::kPermissionDenied;
    case ErrorCode::kConfigError: return absl::StatusCode::kFailedPrecondition;
    case ErrorCode::kAlreadyExists: return absl::StatusCode::kAlreadyExists;
    case ErrorCode::kUnprepared: return absl::StatusCode::kNotFound;
  }
  return absl::StatusCode::kUnknown;
}

}  // namespace

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kServerError: return "Server error";
    case ErrorCode::kProtocolError: return "Protocol error";
    case ErrorCode::kBadCredentials: return "Authentication error";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kOverloaded: return "Overloaded";
    case ErrorCode::kIsBootstrapping: return "Is bootstrapping";
    case ErrorCode::kTruncateError: return "Truncate error";
    case ErrorCode::kWriteTimeout: return "Write timeout";
    case ErrorCode::kReadTimeout: return "Read timeout";
    case ErrorCode::kReadFailure: return "Read failure";
    case ErrorCode::kFunctionFailure: return "Function failure";
    case ErrorCode::kWriteFailure: return "Write failure";
    case ErrorCode::kSyntaxError: return "Syntax error";
    case ErrorCode::kUnauthorized: return "Unauthorized";
    case ErrorCode::kInvalid: return "Invalid query";
    case ErrorCode::kConfigError: return "Configuration error";
    case ErrorCode::kAlreadyExists: return "Already exists";
    case ErrorCode::kUnprepared: return "Unprepared";
  }
  return "Unknown error";
}

bool ReadServerError(WireReader* r, ServerError* e) {
  int32_t code;
  if (!r->ReadInt(&code) || !r->ReadString(&e->message)) return false;
  e->code = static_cast<ErrorCode>(code);
  uint8_t present;
  switch (e->code) {
    case ErrorCode::kUnavailable:
      return r->ReadConsistency(&e->consistency) && r->ReadInt(&e->required) && r->ReadInt(&e->alive);
    case ErrorCode::kWriteTimeout:
      return r->ReadConsistency(&e->consistency) && r->ReadInt(&e->received) && r->ReadInt(&e->block_for) &&
             r->ReadString(&e->write_type);
    case ErrorCode::kReadTimeout:
      if (!r->ReadConsistency(&e->consistency) || !r->ReadInt(&e->received) || !r->ReadInt(&e->block_for) ||
          !r->ReadByte(&present)) {
        return false;
      }
      e->data_present = present != 0;
      return true;
    case ErrorCode::kReadFailure:
      if (!r->ReadConsistency(&e->consistency) || !r->ReadInt(&e->received) || !r->ReadInt(&e->block_for) ||
          !r->ReadInt(&e->num_failures) || !r->ReadByte(&present)) {
        return false;
      }
      e->data_present = present != 0;
      return true;
    case ErrorCode::kWriteFailure:
      return r->ReadConsistency(&e->consistency) && r->ReadInt(&e->received) && r->ReadInt(&e->block_for) &&
             r->ReadInt(&e->num_failures) && r->ReadString(&e->write_type);
    case ErrorCode::kFunctionFailure:
      return r->ReadString(&e->keyspace) && r->ReadString(&e->function) && r->ReadStringList(&e->arg_types);
    case ErrorCode::kAlreadyExists:
      return r->ReadString(&e->keyspace) && r->ReadString(&e->table);
    case ErrorCode::kUnprepared: {
      absl::string_view id;
      if (!r->ReadShortBytes(&id)) return false;
      e->unprepared_id.assign(id.data(), id.size());
      return true;
    }
    default:
      return true;
  }
}

absl::Status ToStatus(const ServerError& e, absl::string_view host) {
  std::string text = absl::StrFormat("cassandra %s: %s (0x%04x): %s", host, ErrorCodeName(e.code),
                                     static_cast<int32_t>(e.code), e.message);
  switch (e.code) {
    case ErrorCode::kUnavailable:
      absl::StrAppend(&text, " [consistency ", ConsistencyName(e.consistency), ", ", e.alive, " of ", e.required,
                      " required replicas alive]");
      break;
    case ErrorCode::kWriteTimeout:
    case ErrorCode::kWriteFailure:
      absl::StrAppend(&text, " [consistency ", ConsistencyName(e.consistency), ", ", e.received, " of ", e.block_for,
                      " replicas acknowledged, write type ", e.write_type, "]");
      break;
    case ErrorCode::kReadTimeout:
    case ErrorCode::kReadFailure:
      absl::StrAppend(&text, " [consistency ", ConsistencyName(e.consistency), ", ", e.received, " of ", e.block_for,
                      " replicas answered", e.data_present ? ", data present" : "", "]");
      break;
    default:
      break;
  }
  absl::Status s(StatusCodeFor(e.code), text);
  s.SetPayload(kPayloadKey, absl::Cord(absl::StrFormat("0x%04x", static_cast<int32_t>(e.code))));
  return s;
}

std::optional<ErrorCode> ServerErrorCodeOf(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadKey);
  if (!payload) return std::nullopt;
  int32_t code;
  if (!absl::SimpleHexAtoi(std::string(*payload), &code)) return std::nullopt;
  return static_cast<ErrorCode>(code);
}

}  // namespace tally::cql
