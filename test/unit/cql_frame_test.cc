// The v4 frame header (spec section 2) against byte sequences from the spec:
//   version | flags | stream (2) | opcode | length (4), body follows.
#include "cql_test_bytes.h"
#include "cql/frame.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "cql/request.h"

namespace tally::cql {
namespace {

using testing::B;
using testing::Contains;
using testing::Hex;




TEST(CqlFrame, OptionsRequestOnStreamZero) {
  std::string out;
  AppendOptionsRequest(&out, 0);
  EXPECT_EQ(out, B({0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00}));
}

TEST(CqlFrame, HeaderFieldsAndStreamId) {
  FrameHeader h;
  h.direction = Direction::kRequest;
  h.flags = kFlagTracing;
  h.stream = 0x1234;
  h.opcode = Opcode::kQuery;
  h.length = 0x01020304;
  char bytes[kFrameHeaderSize];
  EncodeFrameHeader(h, bytes);
  EXPECT_EQ(Hex(std::string(bytes, kFrameHeaderSize)), "04" "02" "1234" "07" "01020304");

  SetFrameStreamId(bytes, -1);
  EXPECT_EQ(Hex(std::string(bytes, 4)), "0402ffff");
}

TEST(CqlFrame, StartupRequestBodyIsAStringMap) {
  std::string out;
  ASSERT_TRUE(AppendStartupRequest(&out, 3, DefaultStartupOptions()).ok());
  const std::string body = B({0, 1, 0, 11}) + "CQL_VERSION" + B({0, 5}) + "3.0.0";
  EXPECT_EQ(out, B({0x04, 0x00, 0x00, 0x03, 0x01, 0, 0, 0, static_cast<int>(body.size())}) + body);
}

TEST(CqlFrame, DecodesAReadyResponse) {
  // READY for stream 0x0102: 84 00 01 02 02 00 00 00 00.
  const std::string bytes = B({0x84, 0x00, 0x01, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00});
  absl::StatusOr<Frame> f = DecodeFrame(bytes, Direction::kResponse);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->header.direction, Direction::kResponse);
  EXPECT_EQ(f->header.stream, 0x0102);
  EXPECT_EQ(f->header.opcode, Opcode::kReady);
  EXPECT_EQ(f->header.length, 0u);
  EXPECT_TRUE(f->body.empty());
}

TEST(CqlFrame, EventStreamIdIsNegative) {
  const std::string bytes = B({0x84, 0x00, 0xff, 0xff, 0x0c, 0x00, 0x00, 0x00, 0x00});
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, Direction::kResponse);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->stream, kEventStreamId);
  EXPECT_EQ(h->opcode, Opcode::kEvent);
}

TEST(CqlFrame, RejectsProtocolV5) {
  const std::string bytes = B({0x85, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00});
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, Direction::kResponse);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(h.status().message(), "unsupported CQL protocol version 5")) << h.status();
}

TEST(CqlFrame, RejectsTheWrongDirection) {
  // A request frame (no response bit) where a response is expected.
  const std::string bytes = B({0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00});
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, Direction::kResponse);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "expected a response frame (version byte 0x84), got 0x04");
}

TEST(CqlFrame, RejectsUnknownOpcodes) {
  for (int op : {0x04, 0x11, 0xff}) {
    const std::string bytes = B({0x84, 0x00, 0x00, 0x00, op, 0x00, 0x00, 0x00, 0x00});
    absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, Direction::kResponse);
    ASSERT_FALSE(h.ok()) << op;
    EXPECT_TRUE(Contains(h.status().message(), "unknown opcode")) << h.status();
  }
}

TEST(CqlFrame, RejectsOversizedFrames) {
  // 16 MiB is this client's limit (the spec's 256 MB would let a server make
  // each connection buffer 256 MB); one byte more is refused from the header
  // alone, before anything is allocated for the body.
  const std::string at_limit = B({0x84, 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00});
  EXPECT_TRUE(DecodeFrameHeader(at_limit, Direction::kResponse).ok());
  const std::string over = B({0x84, 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x01});
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(over, Direction::kResponse);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(h.status().message(), "frame body of 16777217 bytes exceeds this client's limit of 16777216 bytes (16 MiB)");
  const std::string spec_limit = B({0x84, 0x00, 0x00, 0x00, 0x08, 0x10, 0x00, 0x00, 0x00});
  EXPECT_FALSE(DecodeFrameHeader(spec_limit, Direction::kResponse).ok());
  const std::string negative = B({0x84, 0x00, 0x00, 0x00, 0x08, 0xff, 0xff, 0xff, 0xff});
  EXPECT_FALSE(DecodeFrameHeader(negative, Direction::kResponse).ok());
}

TEST(CqlFrame, RejectsTruncatedFrames) {
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(B({0x84, 0x00, 0x00}), Direction::kResponse);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "truncated frame header: 3 of 9 bytes");

  // A RESULT announcing 4 body bytes with 2 present.
  const std::string bytes = B({0x84, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00});
  absl::StatusOr<Frame> f = DecodeFrame(bytes, Direction::kResponse);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "truncated RESULT frame: body needs 4 bytes, 2 present");

  const std::string trailing = B({0x84, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00});
  f = DecodeFrame(trailing, Direction::kResponse);
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(Contains(f.status().message(), "1 trailing bytes")) << f.status();
}

TEST(CqlFrame, BeginAndFinishFillInTheLength) {
  std::string out = "xx";  // frames are appended after what is there
  const size_t start = BeginRequestFrame(&out, Opcode::kPrepare, 9);
  out += "body";
  ASSERT_TRUE(FinishFrame(&out, start).ok());
  EXPECT_EQ(Hex(out), Hex("xx") + "04" "00" "0009" "09" "00000004" + Hex("body"));
}

}  // namespace
}  // namespace tally::cql
