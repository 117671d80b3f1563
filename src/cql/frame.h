#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tally::cql {

// The frame of the CQL native protocol v4 (section 2 of the spec): a 9-byte
// header
//   version (1) | flags (1) | stream (2, signed) | opcode (1) | length (4)
// then `length` bytes of body. The version byte is 0x04 for a request and 0x84
// (response bit 0x80 set) for a response; this client speaks v4 only.

enum class Opcode : uint8_t {
  kError = 0x00,
  kStartup = 0x01,
  kReady = 0x02,
  kAuthenticate = 0x03,
  kOptions = 0x05,
  kSupported = 0x06,
  kQuery = 0x07,
  kResult = 0x08,
  kPrepare = 0x09,
  kExecute = 0x0A,
  kRegister = 0x0B,
  kEvent = 0x0C,
  kBatch = 0x0D,
  kAuthChallenge = 0x0E,
  kAuthResponse = 0x0F,
  kAuthSuccess = 0x10,
};

// "QUERY", "RESULT", ...; "UNKNOWN" for a code outside the list.
const char* OpcodeName(Opcode op);

inline constexpr uint8_t kProtocolVersion = 4;
inline constexpr uint8_t kResponseBit = 0x80;
inline constexpr size_t kFrameHeaderSize = 9;
// The spec allows frame bodies of up to 256 MB; this client takes 16 MiB at
// most, either way. Its requests are small (a batch of at most 30 rows) and so
// are the responses it asks for (a prepared statement's metadata, a few schema
// rows), while a connection's read buffer grows to hold a whole frame: a
// lower limit keeps what a broken or hostile server can make it allocate
// small.
inline constexpr uint32_t kMaxFrameBodySize = 16u * 1024 * 1024;

// Header flags (section 2.2).
inline constexpr uint8_t kFlagCompression = 0x01;
inline constexpr uint8_t kFlagTracing = 0x02;
inline constexpr uint8_t kFlagCustomPayload = 0x04;
inline constexpr uint8_t kFlagWarning = 0x08;

// Stream id of server-initiated EVENT frames.
inline constexpr int16_t kEventStreamId = -1;

enum class Direction : uint8_t { kRequest, kResponse };

struct FrameHeader {
  Direction direction = Direction::kRequest;
  uint8_t flags = 0;
  int16_t stream = 0;
  Opcode opcode = Opcode::kError;
  uint32_t length = 0;  // of the body
};

// A decoded frame; `body` points into the decoded bytes.
struct Frame {
  FrameHeader header;
  absl::string_view body;
};

// Writes the 9 header bytes (version 4, direction as given) to out[0..9).
void EncodeFrameHeader(const FrameHeader& header, char* out);

// Decodes the header at the start of `in`. Fails with DataLoss when `in`
// holds fewer than 9 bytes,
// when the version is not 4 (a v5 frame included), when the direction bit is
// not `expected`, when the opcode is unknown, or when the length exceeds
// kMaxFrameBodySize. The message says which, with the offending value.
absl::StatusOr<FrameHeader> DecodeFrameHeader(absl::string_view in, Direction expected);

// Decodes one whole frame that must fill `in` exactly: the header checks above,
// then a body of exactly header.length bytes (fewer is "truncated", more is
// "trailing bytes").
absl::StatusOr<Frame> DecodeFrame(absl::string_view in, Direction expected);

// Request frames are built in place: BeginRequestFrame appends a header with
// length 0 to *out and returns its offset; the caller appends the body;
// FinishFrame fills in the length, or fails (leaving *out unspecified) if the
// body exceeds kMaxFrameBodySize.
size_t BeginRequestFrame(std::string* out, Opcode opcode, int16_t stream = 0, uint8_t flags = 0);
absl::Status FinishFrame(std::string* out, size_t start);

// Rewrites the stream id of the encoded frame starting at `frame`.
inline void SetFrameStreamId(char* frame, int16_t stream) {
  frame[2] = static_cast<char>((static_cast<uint16_t>(stream) >> 8) & 0xff);
  frame[3] = static_cast<char>(static_cast<uint16_t>(stream) & 0xff);
}

}  // namespace tally::cql
