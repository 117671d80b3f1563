// Request encoders and response parsers of protocol v4 (spec section 4),
// against byte sequences built from the spec text.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "cql_test_bytes.h"
#include "cql/handshake.h"
#include "cql/request.h"
#include "cql/response.h"
#include "cql/server_error.h"

namespace tally::cql {
namespace {

using testing::B;
using testing::Contains;
using testing::Hex;

std::string Short(int n) { return B({(n >> 8) & 0xff, n & 0xff}); }
std::string Int(int32_t n) {
  return B({static_cast<int>((static_cast<uint32_t>(n) >> 24) & 0xff), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff});
}
std::string Str(const std::string& s) { return Short(static_cast<int>(s.size())) + s; }

FrameHeader ResponseHeader(Opcode op, uint8_t flags = 0) {
  FrameHeader h;
  h.direction = Direction::kResponse;
  h.opcode = op;
  h.flags = flags;
  return h;
}

absl::StatusOr<Response> Parse(Opcode op, const std::string& body, uint8_t flags = 0) {
  return ParseResponse(ResponseHeader(op, flags), body);
}

const std::string kUserUuidBytes = B({0x0b, 0x6e, 0x1c, 0x2a, 0x6f, 0x3b, 0x4c, 0x2d,
                                      0x9e, 0x8f, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab});

// --- requests ---

TEST(CqlRequest, Query) {
  std::string out;
  const Value values[] = {Value::FromInt(7)};
  QueryParameters p;
  p.consistency = Consistency::kOne;
  p.values = values;
  ASSERT_TRUE(AppendQueryRequest(&out, 5, "SELECT 1", p).ok());
  const std::string body = Int(8) + "SELECT 1" + Short(0x0001) + B({0x01}) + Short(1) + Int(4) + Int(7);
  EXPECT_EQ(Hex(out), Hex(B({0x04, 0, 0, 5, 0x07}) + Int(static_cast<int32_t>(body.size())) + body));
}

TEST(CqlRequest, QueryWithPagingAndTimestamp) {
  std::string out;
  QueryParameters p;
  p.page_size = 100;
  p.paging_state = "ps";
  p.serial_consistency = Consistency::kLocalSerial;
  p.default_timestamp = 1;
  ASSERT_TRUE(AppendQueryRequest(&out, 0, "Q", p).ok());
  // flags: page size 0x04 | paging state 0x08 | serial 0x10 | timestamp 0x20.
  const std::string body = Int(1) + "Q" + Short(0x0006) + B({0x3c}) + Int(100) + Int(2) + "ps" + Short(0x0009) +
                           B({0, 0, 0, 0, 0, 0, 0, 1});
  EXPECT_EQ(Hex(out.substr(kFrameHeaderSize)), Hex(body));
}

TEST(CqlRequest, PrepareAndExecute) {
  std::string out;
  ASSERT_TRUE(AppendPrepareRequest(&out, 1, "INSERT").ok());
  EXPECT_EQ(Hex(out), Hex(B({0x04, 0, 0, 1, 0x09}) + Int(10) + Int(6) + "INSERT"));

  out.clear();
  const Value values[] = {Value::FromBigint(3), Value::Null(), Value::Unset()};
  QueryParameters p;  // LOCAL_QUORUM by default
  p.values = values;
  ASSERT_TRUE(AppendExecuteRequest(&out, 2, "ID", p).ok());
  const std::string body = Short(2) + "ID" + Short(0x0006) + B({0x01}) + Short(3) + Int(8) +
                           B({0, 0, 0, 0, 0, 0, 0, 3}) + Int(-1) + Int(-2);
  EXPECT_EQ(Hex(out), Hex(B({0x04, 0, 0, 2, 0x0A}) + Int(static_cast<int32_t>(body.size())) + body));
}

TEST(CqlRequest, UnloggedBatchOfAPreparedStatement) {
  std::string out;
  const Value row1[] = {Value::FromInt(1)};
  const Value row2[] = {Value::FromInt(2)};
  const BatchEntry entries[] = {{true, "ID", row1}, {true, "ID", row2}};
  BatchParameters p;  // unlogged, LOCAL_QUORUM
  ASSERT_TRUE(AppendBatchRequest(&out, 4, entries, p).ok());
  // <type><n><query_1>...<query_n><consistency><flags>; each query is
  // <kind=1><short bytes id><n><value_1>...
  const std::string q1 = B({1}) + Short(2) + "ID" + Short(1) + Int(4) + Int(1);
  const std::string q2 = B({1}) + Short(2) + "ID" + Short(1) + Int(4) + Int(2);
  const std::string body = B({1}) + Short(2) + q1 + q2 + Short(0x0006) + B({0x00});
  EXPECT_EQ(Hex(out), Hex(B({0x04, 0, 0, 4, 0x0D}) + Int(static_cast<int32_t>(body.size())) + body));
}

TEST(CqlRequest, AuthResponseCarriesTheSaslPlainToken) {
  const std::string token = SaslPlainToken("user", "password");
  EXPECT_EQ(token, std::string("\0user\0password", 14));
  std::string out;
  ASSERT_TRUE(AppendAuthResponseRequest(&out, 0, token).ok());
  EXPECT_EQ(out, B({0x04, 0, 0, 0, 0x0F}) + Int(18) + Int(14) + token);
}

TEST(CqlRequest, FailureLeavesTheBufferAsItWas) {
  std::string out = "keep";
  std::vector<Value> many(70000);
  QueryParameters p;
  p.values = many;
  absl::Status s = AppendQueryRequest(&out, 0, "Q", p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "too many bind values: 70000 (the protocol allows 65535)");
  EXPECT_EQ(out, "keep");
}

TEST(CqlRequest, QuotesIdentifiers) {
  EXPECT_EQ(QuoteIdentifier("tally"), "\"tally\"");
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
}

// --- responses ---

TEST(CqlResponse, Ready) {
  absl::StatusOr<Response> r = Parse(Opcode::kReady, "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::holds_alternative<ReadyMessage>(r->body));
}

TEST(CqlResponse, AuthenticateSupportedChallengeSuccess) {
  absl::StatusOr<Response> r = Parse(Opcode::kAuthenticate, Str("org.apache.cassandra.auth.PasswordAuthenticator"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<AuthenticateMessage>(r->body).authenticator, "org.apache.cassandra.auth.PasswordAuthenticator");

  r = Parse(Opcode::kSupported, Short(1) + Str("CQL_VERSION") + Short(1) + Str("3.4.7"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<SupportedMessage>(r->body).options.at("CQL_VERSION"), std::vector<std::string>{"3.4.7"});

  r = Parse(Opcode::kAuthChallenge, Int(2) + "ch");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<AuthChallengeMessage>(r->body).token, "ch");

  r = Parse(Opcode::kAuthSuccess, Int(-1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(std::get<AuthSuccessMessage>(r->body).token.has_value());
}

TEST(CqlResponse, SyntaxError) {
  const std::string body = Int(0x2000) + Str("line 1:0 no viable alternative at input 'SELEC'");
  absl::StatusOr<Response> r = Parse(Opcode::kError, body);
  ASSERT_TRUE(r.ok());
  const ServerError& e = std::get<ServerError>(r->body);
  EXPECT_EQ(e.code, ErrorCode::kSyntaxError);
  absl::Status s = ToStatus(e, "10.0.0.1:9042");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "cassandra 10.0.0.1:9042: Syntax error (0x2000): line 1:0 no viable alternative at input 'SELEC'");
  EXPECT_EQ(ServerErrorCodeOf(s), ErrorCode::kSyntaxError);
  EXPECT_EQ(ServerErrorCodeOf(absl::UnavailableError("x")), std::nullopt);
}

TEST(CqlResponse, ErrorsWithExtraFields) {
  // Unavailable: <cl><required><alive>.
  absl::StatusOr<Response> r = Parse(Opcode::kError, Int(0x1000) + Str("Cannot achieve consistency") +
                                                         Short(0x0006) + Int(2) + Int(1));
  ASSERT_TRUE(r.ok());
  ServerError e = std::get<ServerError>(r->body);
  EXPECT_EQ(e.consistency, Consistency::kLocalQuorum);
  EXPECT_EQ(e.required, 2);
  EXPECT_EQ(e.alive, 1);
  EXPECT_EQ(ToStatus(e, "h:1").code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(ToStatus(e, "h:1").message(), "[consistency LOCAL_QUORUM, 1 of 2 required replicas alive]"));

  // WriteTimeout: <cl><received><blockfor><writeType>.
  r = Parse(Opcode::kError, Int(0x1100) + Str("timeout") + Short(0x0006) + Int(1) + Int(2) + Str("UNLOGGED_BATCH"));
  ASSERT_TRUE(r.ok());
  e = std::get<ServerError>(r->body);
  EXPECT_EQ(e.code, ErrorCode::kWriteTimeout);
  EXPECT_EQ(e.received, 1);
  EXPECT_EQ(e.block_for, 2);
  EXPECT_EQ(e.write_type, "UNLOGGED_BATCH");
  EXPECT_EQ(ToStatus(e, "h:1").code(), absl::StatusCode::kDeadlineExceeded);

  // ReadTimeout: <cl><received><blockfor><data_present>.
  r = Parse(Opcode::kError, Int(0x1200) + Str("rt") + Short(0x0001) + Int(0) + Int(1) + B({1}));
  ASSERT_TRUE(r.ok());
  e = std::get<ServerError>(r->body);
  EXPECT_TRUE(e.data_present);
  EXPECT_EQ(e.block_for, 1);

  // Unprepared: [short bytes] id.
  r = Parse(Opcode::kError, Int(0x2500) + Str("Prepared query with ID 0102 not found") + Short(2) + B({1, 2}));
  ASSERT_TRUE(r.ok());
  e = std::get<ServerError>(r->body);
  EXPECT_EQ(e.code, ErrorCode::kUnprepared);
  EXPECT_EQ(e.unprepared_id, B({1, 2}));

  // AlreadyExists: <ks><table>.
  r = Parse(Opcode::kError, Int(0x2400) + Str("exists") + Str("tally") + Str("daily"));
  ASSERT_TRUE(r.ok());
  e = std::get<ServerError>(r->body);
  EXPECT_EQ(e.keyspace, "tally");
  EXPECT_EQ(e.table, "daily");
  EXPECT_EQ(ToStatus(e, "h:1").code(), absl::StatusCode::kAlreadyExists);

  // Bad credentials.
  r = Parse(Opcode::kError, Int(0x0100) + Str("Provided username u and/or password are incorrect"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToStatus(std::get<ServerError>(r->body), "h:1").code(), absl::StatusCode::kUnauthenticated);
}

TEST(CqlResponse, TruncatedErrorExtrasAreMalformed) {
  absl::StatusOr<Response> r = Parse(Opcode::kError, Int(0x1000) + Str("x") + Short(6));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(r.status().message(), "malformed ERROR response: truncated [int]")) << r.status();
}

TEST(CqlResponse, ResultVoid) {
  absl::StatusOr<Response> r = Parse(Opcode::kResult, Int(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<Result>(r->body).kind(), ResultKind::kVoid);
}

// The rows of SELECT user_uuid, created_date, event_count FROM tally.daily.
std::string RowsBody() {
  const std::string metadata = Int(0x0001) + Int(3) + Str("tally") + Str("daily") + Str("user_uuid") +
                               Short(0x000C) + Str("created_date") + Short(0x0011) + Str("event_count") +
                               Short(0x0002);
  const std::string row1 = Int(16) + kUserUuidBytes + Int(4) + B({0x80, 0x00, 0x4d, 0x0b}) + Int(8) +
                           B({0, 0, 0, 0, 0, 0, 0, 42});
  const std::string row2 = Int(16) + kUserUuidBytes + Int(4) + B({0x80, 0x00, 0x4d, 0x0c}) + Int(-1);
  return Int(2) + metadata + Int(2) + row1 + row2;
}

TEST(CqlResponse, ResultRowsWithGlobalTablesSpec) {
  absl::StatusOr<Response> r = Parse(Opcode::kResult, RowsBody());
  ASSERT_TRUE(r.ok()) << r.status();
  const Result& result = std::get<Result>(r->body);
  ASSERT_EQ(result.kind(), ResultKind::kRows);
  const Rows& rows = *result.rows();
  ASSERT_EQ(rows.row_count(), 2);
  ASSERT_EQ(rows.column_count(), 3);
  EXPECT_EQ(rows.metadata().columns[0].keyspace, "tally");
  EXPECT_EQ(rows.metadata().columns[2].table, "daily");
  EXPECT_EQ(rows.metadata().columns[1].type.ToString(), "date");
  EXPECT_FALSE(rows.metadata().has_more_pages());
  EXPECT_EQ(rows.ColumnIndex("event_count"), 2);

  Uuid user;
  ASSERT_TRUE(ParseUuid("0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab", &user));
  EXPECT_EQ(*rows.GetUuid(0, 0), user);
  EXPECT_EQ(*rows.GetDate(0, 1), 19723);
  EXPECT_EQ(*rows.GetBigint(0, 2), 42);
  EXPECT_EQ(*rows.GetDate(1, 1), 19724);
  EXPECT_TRUE(rows.IsNull(1, 2));
  EXPECT_EQ(rows.GetBigint(1, 2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rows.GetText(0, 0).status().message(), "column user_uuid is uuid, not text");
  EXPECT_EQ(rows.GetInt(5, 0).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(rows.Cell(0, 0), kUserUuidBytes);
}

TEST(CqlResponse, ResultRowsWithPerColumnTablesPagingAndRawTypes) {
  // No Global_tables_spec, Has_more_pages with a paging state; a text, an int,
  // a boolean, a timestamp and a map<text, int> kept raw.
  const std::string metadata = Int(0x0002) + Int(5) + Int(3) + "abc" + Str("ks") + Str("t") + Str("name") +
                               Short(0x000D) + Str("ks") + Str("t") + Str("n") + Short(0x0009) + Str("ks") +
                               Str("t") + Str("b") + Short(0x0004) + Str("ks") + Str("t") + Str("ts") +
                               Short(0x000B) + Str("ks") + Str("t") + Str("m") + Short(0x0021) + Short(0x000D) +
                               Short(0x0009);
  const std::string row = Int(2) + "hi" + Int(4) + Int(-5) + Int(1) + B({1}) + Int(8) + B({0, 0, 0, 0, 0, 0, 3, 0xe8}) +
                          Int(4) + Int(0);
  absl::StatusOr<Response> r = Parse(Opcode::kResult, Int(2) + metadata + Int(1) + row);
  ASSERT_TRUE(r.ok()) << r.status();
  const Rows& rows = *std::get<Result>(r->body).rows();
  EXPECT_TRUE(rows.metadata().has_more_pages());
  EXPECT_EQ(rows.metadata().paging_state, "abc");
  EXPECT_EQ(rows.metadata().columns[0].keyspace, "ks");
  EXPECT_EQ(*rows.GetText(0, 0), "hi");
  EXPECT_EQ(*rows.GetInt(0, 1), -5);
  EXPECT_TRUE(*rows.GetBoolean(0, 2));
  EXPECT_EQ(*rows.GetTimestamp(0, 3), 1000);
  EXPECT_EQ(rows.metadata().columns[4].type.ToString(), "map<text, int>");
  EXPECT_EQ(rows.Cell(0, 4), Int(0));
}

TEST(CqlResponse, ResultRowsWithoutMetadata) {
  absl::StatusOr<Response> r = Parse(Opcode::kResult, Int(2) + Int(0x0004) + Int(1) + Int(1) + Int(8) +
                                                          B({0, 0, 0, 0, 0, 0, 0, 9}));
  ASSERT_TRUE(r.ok()) << r.status();
  const Rows& rows = *std::get<Result>(r->body).rows();
  EXPECT_TRUE(rows.metadata().columns.empty());
  EXPECT_EQ(*rows.GetBigint(0, 0), 9);  // no types to check against
}

TEST(CqlResponse, ImplausibleRowCountIsRejectedBeforeAllocating) {
  const std::string body = Int(2) + Int(0x0004) + Int(1000) + Int(0x7fffffff);
  absl::StatusOr<Response> r = Parse(Opcode::kResult, body);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "implausible row count 2147483647")) << r.status();
}

// A hostile server: counts and lengths that the bytes present cannot back, or
// that would cost far more memory than the frame, fail cleanly as malformed
// (DATA_LOSS) before anything is allocated for them.
TEST(CqlResponse, ColumnCountBeyondTheBytesPresentIsRejected) {
  const std::string body = Int(2) + Int(0x0001) + Int(10'000'000) + Str("ks") + Str("t") + Str("c") + Short(0x0009);
  absl::StatusOr<Response> r = Parse(Opcode::kResult, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(r.status().message(), "implausible column count 10000000")) << r.status();
}

TEST(CqlResponse, ColumnsBeyondTheElementLimitAreRejected) {
  // 200,000 real (minimal, 4-byte) column specs: 800 kB of frame that would
  // decode into some 50 MB of ColumnSpecs; the limit is 65,536 elements.
  std::string body = Int(2) + Int(0x0001) + Int(200'000) + Str("ks") + Str("t");
  for (int i = 0; i < 200'000; ++i) body += Str("") + Short(0x0009);
  body += Int(0);
  absl::StatusOr<Response> r = Parse(Opcode::kResult, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(r.status().message(), "column count 200000")) << r.status();
  EXPECT_TRUE(Contains(r.status().message(), "limit of 65536 decoded elements")) << r.status();
}

TEST(CqlResponse, HugeLengthsAreRejected) {
  // A [string] of 65535 bytes with 3 present (the error message).
  absl::StatusOr<Response> r = Parse(Opcode::kError, Int(0x2000) + Short(0xffff) + "abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(r.status().message(), "truncated [string]")) << r.status();
  // A cell of 2^31-1 bytes.
  r = Parse(Opcode::kResult, Int(2) + Int(0x0004) + Int(1) + Int(1) + Int(0x7fffffff) + "xy");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "truncated [bytes]")) << r.status();
  // A [string list] of 65535 warnings.
  r = Parse(Opcode::kResult, Short(0xffff) + Str("w") + Int(1), kFlagWarning);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "implausible [string list] length 65535")) << r.status();
  // A SUPPORTED map of 65535 entries.
  r = Parse(Opcode::kSupported, Short(0xffff) + Str("k") + Short(1) + Str("v"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "implausible map size 65535")) << r.status();
}

TEST(CqlResponse, NestedFieldCountsCannotMultiplyMemory) {
  // UDTs 30 deep, each claiming 65535 fields, in a few hundred bytes: a
  // decoder that sized each level before reading it would allocate some
  // 65535 * 30 type nodes.
  std::string t;
  for (int i = 0; i < 30; ++i) t += Short(0x0030) + Str("k") + Str("u") + Short(0xffff) + Str("f");
  t += Short(0x0009);
  WireReader r(t);
  DataType type;
  EXPECT_FALSE(ReadDataType(&r, &type));
  EXPECT_TRUE(Contains(r.status().message(), "implausible UDT field count 65535")) << r.status();
}

TEST(CqlResponse, TruncatedRowsAreMalformed) {
  const std::string body = RowsBody();
  absl::StatusOr<Response> r = Parse(Opcode::kResult, body.substr(0, body.size() - 3));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "malformed RESULT response: truncated")) << r.status();
}

TEST(CqlResponse, ResultPreparedWithPartitionKeyIndices) {
  // INSERT INTO tally.daily (user_uuid, created_date, event_count) VALUES (?, ?, ?)
  const std::string body = Int(4) + Short(4) + "\x01\x02\x03\x04" + Int(0x0001) + Int(3) + Int(1) + Short(0) +
                           Str("tally") + Str("daily") + Str("user_uuid") + Short(0x000C) + Str("created_date") +
                           Short(0x0011) + Str("event_count") + Short(0x0002) +
                           Int(0x0004) + Int(0);  // result metadata: No_metadata, 0 columns
  absl::StatusOr<Response> r = Parse(Opcode::kResult, body);
  ASSERT_TRUE(r.ok()) << r.status();
  const PreparedMetadata& p = *std::get<Result>(r->body).prepared();
  EXPECT_EQ(p.id, "\x01\x02\x03\x04");
  EXPECT_EQ(p.pk_indices, std::vector<uint16_t>{0});
  ASSERT_EQ(p.bind_columns.size(), 3u);
  EXPECT_EQ(p.bind_columns[1].name, "created_date");
  EXPECT_EQ(p.bind_columns[1].type.id, TypeId::kDate);
  EXPECT_EQ(p.bind_columns[2].keyspace, "tally");
  EXPECT_EQ(p.result_metadata.column_count, 0);
}

TEST(CqlResponse, ResultSetKeyspaceAndSchemaChange) {
  absl::StatusOr<Response> r = Parse(Opcode::kResult, Int(3) + Str("tally"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*std::get<Result>(r->body).keyspace(), "tally");

  r = Parse(Opcode::kResult, Int(5) + Str("CREATED") + Str("TABLE") + Str("tally") + Str("daily"));
  ASSERT_TRUE(r.ok());
  const SchemaChange& c = *std::get<Result>(r->body).schema_change();
  EXPECT_EQ(c.change_type, "CREATED");
  EXPECT_EQ(c.target, "TABLE");
  EXPECT_EQ(c.keyspace, "tally");
  EXPECT_EQ(c.name, "daily");

  r = Parse(Opcode::kResult, Int(5) + Str("DROPPED") + Str("KEYSPACE") + Str("tally"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::get<Result>(r->body).schema_change()->name.empty());
}

TEST(CqlResponse, UnknownResultKind) {
  absl::StatusOr<Response> r = Parse(Opcode::kResult, Int(9));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "unknown RESULT kind 9")) << r.status();
}

TEST(CqlResponse, TracingAndWarningsPrecedeTheBody) {
  const std::string body = kUserUuidBytes + Short(1) + Str("Batch is too large") + Int(1);
  absl::StatusOr<Response> r = Parse(Opcode::kResult, body, kFlagTracing | kFlagWarning);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->tracing_id.has_value());
  EXPECT_EQ(r->warnings, std::vector<std::string>{"Batch is too large"});
  EXPECT_EQ(std::get<Result>(r->body).kind(), ResultKind::kVoid);
}

TEST(CqlResponse, RejectsCompressionAndRequestOpcodes) {
  absl::StatusOr<Response> r = Parse(Opcode::kResult, Int(1), kFlagCompression);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "negotiated no compression")) << r.status();
  r = Parse(Opcode::kQuery, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unexpected opcode QUERY in a response");
}

TEST(CqlResponse, EventsAreKeptByTypeOnly) {
  absl::StatusOr<Response> r = Parse(Opcode::kEvent, Str("STATUS_CHANGE") + Str("UP") + B({4, 127, 0, 0, 1}) + Int(9042));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<EventMessage>(r->body).type, "STATUS_CHANGE");
}

TEST(CqlResponse, NestedTypesAndDepthLimit) {
  std::string t = Short(0x0021) + Short(0x000D) + Short(0x0020) + Short(0x0009);  // map<text, list<int>>
  WireReader r(t);
  DataType type;
  ASSERT_TRUE(ReadDataType(&r, &type));
  EXPECT_EQ(type.ToString(), "map<text, list<int>>");

  std::string deep;
  for (int i = 0; i < 40; ++i) deep += Short(0x0020);
  deep += Short(0x0009);
  WireReader d(deep);
  EXPECT_FALSE(ReadDataType(&d, &type));
  EXPECT_TRUE(Contains(d.status().message(), "nested deeper than 32")) << d.status();

  std::string udt = Short(0x0030) + Str("ks") + Str("point") + Short(2) + Str("x") + Short(0x0009) + Str("y") +
                    Short(0x0031) + Short(2) + Short(0x000D) + Short(0x0004);
  WireReader u(udt);
  ASSERT_TRUE(ReadDataType(&u, &type));
  EXPECT_EQ(type.ToString(), "ks.point");
  EXPECT_EQ(type.params[1].ToString(), "tuple<text, boolean>");

  std::string unknown = Short(0x0099);
  WireReader x(unknown);
  EXPECT_FALSE(ReadDataType(&x, &type));
  EXPECT_TRUE(Contains(x.status().message(), "unknown type id 0x0099")) << x.status();
}

}  // namespace
}  // namespace tally::cql
