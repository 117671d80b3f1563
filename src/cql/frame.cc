#include "cql/frame.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tally::cql {
namespace {

bool IsKnownOpcode(uint8_t op) {
  return op <= 0x10 && op != 0x04;
}

}  // namespace

const char* OpcodeName(Opcode op) {
  switch (op) {
    case Opcode::kError: return "ERROR";
    case Opcode::kStartup: return "STARTUP";
    case Opcode::kReady: return "READY";
    case Opcode::kAuthenticate: return "AUTHENTICATE";
    case Opcode::kOptions: return "OPTIONS";
    case Opcode::kSupported: return "SUPPORTED";
    case Opcode::kQuery: return "QUERY";
    case Opcode::kResult: return "RESULT";
    case Opcode::kPrepare: return "PREPARE";
    case Opcode::kExecute: return "EXECUTE";
    case Opcode::kRegister: return "REGISTER";
    case Opcode::kEvent: return "EVENT";
    case Opcode::kBatch: return "BATCH";
    case Opcode::kAuthChallenge: return "AUTH_CHALLENGE";
    case Opcode::kAuthResponse: return "AUTH_RESPONSE";
    case Opcode::kAuthSuccess: return "AUTH_SUCCESS";
  }
  return "UNKNOWN";
}

void EncodeFrameHeader(const FrameHeader& h, char* out) {
  out[0] = static_cast<char>(kProtocolVersion | (h.direction == Direction::kResponse ? kResponseBit : 0));
  out[1] = static_cast<char>(h.flags);
  SetFrameStreamId(out, h.stream);
  out[4] = static_cast<char>(h.opcode);
  out[5] = static_cast<char>((h.length >> 24) & 0xff);
  out[6] = static_cast<char>((h.length >> 16) & 0xff);
  out[7] = static_cast<char>((h.length >> 8) & 0xff);
  out[8] = static_cast<char>(h.length & 0xff);
}

absl::StatusOr<FrameHeader> DecodeFrameHeader(absl::string_view in, Direction expected) {
  if (in.size() < kFrameHeaderSize) {
    return absl::DataLossError(
        absl::StrCat("truncated frame header: ", in.size(), " of ", kFrameHeaderSize, " bytes"));
  }
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(in[i]); };
  const uint8_t version = byte(0) & ~kResponseBit;
  if (version != kProtocolVersion) {
    return absl::DataLossError(absl::StrFormat(
        "unsupported CQL protocol version %d in frame header (version byte 0x%02x); this client speaks v4 only",
        version, byte(0)));
  }
  FrameHeader h;
  h.direction = (byte(0) & kResponseBit) ? Direction::kResponse : Direction::kRequest;
  if (h.direction != expected) {
    return absl::DataLossError(absl::StrFormat("expected a %s frame (version byte 0x%02x), got 0x%02x",
                                               expected == Direction::kResponse ? "response" : "request",
                                               kProtocolVersion | (expected == Direction::kResponse ? kResponseBit : 0),
                                               byte(0)));
  }
  h.flags = byte(1);
  h.stream = static_cast<int16_t>(static_cast<uint16_t>((byte(2) << 8) | byte(3)));
  if (!IsKnownOpcode(byte(4))) {
    return absl::DataLossError(absl::StrFormat("unknown opcode 0x%02x in frame header", byte(4)));
  }
  h.opcode = static_cast<Opcode>(byte(4));
  h.length = (uint32_t{byte(5)} << 24) | (uint32_t{byte(6)} << 16) | (uint32_t{byte(7)} << 8) | byte(8);
  if (h.length > kMaxFrameBodySize) {
    return absl::DataLossError(absl::StrCat("frame body of ", h.length, " bytes exceeds this client's limit of ",
                                            kMaxFrameBodySize, " bytes (16 MiB)"));
  }
  return h;
}

absl::StatusOr<Frame> DecodeFrame(absl::string_view in, Direction expected) {
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(in, expected);
  if (!h.ok()) return h.status();
  const size_t have = in.size() - kFrameHeaderSize;
  if (have < h->length) {
    return absl::DataLossError(absl::StrCat("truncated ", OpcodeName(h->opcode), " frame: body needs ",
                                                   h->length, " bytes, ", have, " present"));
  }
  if (have > h->length) {
    return absl::DataLossError(absl::StrCat(have - h->length, " trailing bytes after ", OpcodeName(h->opcode),
                                                   " frame of ", h->length, " body bytes"));
  }
  return Frame{*h, in.substr(kFrameHeaderSize)};
}

size_t BeginRequestFrame(std::string* out, Opcode opcode, int16_t stream, uint8_t flags) {
  const size_t start = out->size();
  out->resize(start + kFrameHeaderSize);
  FrameHeader h;
  h.direction = Direction::kRequest;
  h.flags = flags;
  h.stream = stream;
  h.opcode = opcode;
  EncodeFrameHeader(h, out->data() + start);
  return start;
}

absl::Status FinishFrame(std::string* out, size_t start) {
  const size_t body = out->size() - start - kFrameHeaderSize;
  if (body > kMaxFrameBodySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body of ", body, " bytes exceeds this client's limit of ", kMaxFrameBodySize, " bytes"));
  }
  char* p = out->data() + start;
  p[5] = static_cast<char>((body >> 24) & 0xff);
  p[6] = static_cast<char>((body >> 16) & 0xff);
  p[7] = static_cast<char>((body >> 8) & 0xff);
  p[8] = static_cast<char>(body & 0xff);
  return absl::OkStatus();
}

}  // namespace tally::cql
