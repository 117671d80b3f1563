#include "cql/response.h"

#include "absl/strings/str_cat.h"

namespace tally::cql {
namespace {

std::optional<std::string> Own(const std::optional<absl::string_view>& b) {
  if (!b) return std::nullopt;
  return std::string(b->data(), b->size());
}

}  // namespace

absl::StatusOr<Response> ParseResponse(const FrameHeader& header, absl::string_view body) {
  if (header.flags & kFlagCompression) {
    return absl::DataLossError(absl::StrCat("compressed ", OpcodeName(header.opcode),
                                            " frame, but this client negotiated no compression"));
  }
  WireReader r(body);
  Response out;
  if (header.flags & kFlagTracing) {
    Uuid id;
    if (r.ReadUuid(&id)) out.tracing_id = id;
  }
  if (header.flags & kFlagWarning) r.ReadStringList(&out.warnings);
  if (header.flags & kFlagCustomPayload) {
    std::map<std::string, std::optional<std::string>> ignored;
    r.ReadBytesMap(&ignored);
  }
  switch (header.opcode) {
    case Opcode::kError:
      ReadServerError(&r, &out.body.emplace<ServerError>());
      break;
    case Opcode::kReady:
      out.body.emplace<ReadyMessage>();
      break;
    case Opcode::kAuthenticate:
      r.ReadString(&out.body.emplace<AuthenticateMessage>().authenticator);
      break;
    case Opcode::kSupported:
      r.ReadStringMultimap(&out.body.emplace<SupportedMessage>().options);
      break;
    case Opcode::kResult:
      ReadResult(&r, &out.body.emplace<Result>());
      break;
    case Opcode::kEvent:
      r.ReadString(&out.body.emplace<EventMessage>().type);
      break;
    case Opcode::kAuthChallenge: {
      std::optional<absl::string_view> token;
      r.ReadBytes(&token);
      out.body.emplace<AuthChallengeMessage>().token = Own(token);
      break;
    }
    case Opcode::kAuthSuccess: {
      std::optional<absl::string_view> token;
      r.ReadBytes(&token);
      out.body.emplace<AuthSuccessMessage>().token = Own(token);
      break;
    }
    default:
      return absl::DataLossError(absl::StrCat("unexpected opcode ", OpcodeName(header.opcode), " in a response"));
  }
  if (!r.ok()) {
    return absl::DataLossError(
        absl::StrCat("malformed ", OpcodeName(header.opcode), " response: ", r.status().message()));
  }
  return out;
}

}  // namespace tally::cql
