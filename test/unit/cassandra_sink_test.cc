// CassandraSink against a scripted CQL server in the test: one that accepts the
// schema (CREATE KEYSPACE/TABLE, the shape check, PREPARE) and then answers
// writes or not, as a test chooses. A server that never answers must not make
// a write hang: the write fails as an outage after the request timeout, and a
// stop request ends a waiting write.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cql_fake_server.h"
#include "sink/cassandra_sink.h"

namespace tally {
namespace {

using namespace ::tally::cql::testing;  // NOLINT: the fake server and its byte helpers
using cql::FrameHeader;
using cql::Opcode;

// The rows system_schema.columns holds for tally's table.
std::string SchemaRows() {
  std::string body = Int(2) + Int(0x0001) + Int(3) + Str("system_schema") + Str("columns");
  for (const char* column : {"column_name", "kind", "type"}) body += Str(column) + Short(0x000D);
  body += Int(3);
  const auto text = [](const std::string& s) { return Int(static_cast<int32_t>(s.size())) + s; };
  body += text("user_uuid") + text("partition_key") + text("uuid");
  body += text("created_date") + text("clustering") + text("date");
  body += text("event_count") + text("regular") + text("bigint");
  return body;
}

// Answers the handshake and what CassandraSink::Open asks; returns false for
// anything else (the writes).
bool AnswerSchema(const std::shared_ptr<FakeServer::Conn>& conn, const FrameHeader& h, const std::string& body) {
  if (AnswerHandshake(conn, h, body)) return true;
  if (h.opcode == Opcode::kQuery) {
    const std::string query = LeadingLongString(body);
    if (absl::StartsWith(query, "CREATE ")) {
      conn->Reply(h.stream, Opcode::kResult, VoidResult());
    } else {
      conn->Reply(h.stream, Opcode::kResult, SchemaRows());
    }
    return true;
  }
  if (h.opcode == Opcode::kPrepare) {
    conn->Reply(h.stream, Opcode::kResult, PreparedBody("upsert-id", 4));
    return true;
  }
  return false;
}

CassandraSinkOptions OptionsFor(const FakeServer& server) {
  CassandraSinkOptions o;
  o.table.hosts = {server.address()};
  o.table.keyspace = "ks";
  o.table.table = "daily";
  o.connections_per_host = 1;
  return o;
}

TriggerOutput Rows(int learners) {
  TriggerOutput out;
  for (int i = 0; i < learners; ++i) {
    DailyCount row;
    row.user = Uuid{static_cast<uint64_t>(i + 1), 7};
    row.day = 19723;
    row.count = 3;
    out.updates.push_back(row);
  }
  return out;
}

TEST(CassandraSinkSilentServer, WriteFailsAsAnOutageAfterTheRequestTimeout) {
  Tally writes;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (!AnswerSchema(conn, h, body)) writes.Add(cql::OpcodeName(h.opcode));  // and no answer
  });
  CassandraSinkOptions o = OptionsFor(server);
  o.request_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<CassandraSink>> sink = CassandraSink::Open(o);
  ASSERT_TRUE(sink.ok()) << sink.status();

  const absl::Status s = (*sink)->Write(1, Rows(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;  // an outage to the trigger loop
  EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat("cassandra://", server.address(), "/ks.daily")))
      << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "no answer for 300ms")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "5 of 5 requests for 5 rows unanswered")) << s;
  EXPECT_GE(writes.size(), 5u);
}

TEST(CassandraSinkSilentServer, StopEndsAWaitingWrite) {
  Tally writes;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (!AnswerSchema(conn, h, body)) writes.Add(cql::OpcodeName(h.opcode));
  });
  std::atomic<bool> stop{false};
  CassandraSinkOptions o = OptionsFor(server);
  o.request_timeout = absl::Hours(1);  // only the stop can end the write
  o.stop = &stop;
  o.stop_grace = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<CassandraSink>> sink = CassandraSink::Open(o);
  ASSERT_TRUE(sink.ok()) << sink.status();

  std::thread stopper([&] {
    writes.AwaitAtLeast(3);  // the write is waiting on the server
    stop.store(true);
  });
  const absl::Status s = (*sink)->Write(1, Rows(3));
  stopper.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat("cassandra://", server.address(), "/ks.daily"))) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "not committed")) << s;
  sink->reset();  // closes the session, failing what is still pending, promptly
}

TEST(CassandraSinkSilentServer, AStopLetsAWriteThatIsAnsweredFinish) {
  // A stop asks for the current trigger to be finished: a write that the
  // server answers completes within the grace period.
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (!AnswerSchema(conn, h, body)) conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });
  std::atomic<bool> stop{true};
  CassandraSinkOptions o = OptionsFor(server);
  o.stop = &stop;
  absl::StatusOr<std::unique_ptr<CassandraSink>> sink = CassandraSink::Open(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_TRUE((*sink)->Write(1, Rows(50)).ok());
}

// A role allowed to write the table and read the schema, but not to create
// anything (Keyspaces' least privilege): an existing table of the right shape
// opens without any CREATE, which such a role would be refused.
TEST(CassandraSinkOpen, ExistingTableNeedsNoCreatePermission) {
  Tally creates;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (h.opcode == Opcode::kQuery && absl::StartsWith(LeadingLongString(body), "CREATE ")) {
      creates.Add(LeadingLongString(body));
      conn->Reply(h.stream, Opcode::kError,
                  ErrorBody(cql::ErrorCode::kUnauthorized, "User has no CREATE permission on <keyspace ks>"));
      return;
    }
    AnswerSchema(conn, h, body);
  });
  auto sink = CassandraSink::Open(OptionsFor(server));
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ(creates.size(), 0u);
}

// A table another process has just created: the schema tables show it, but
// the coordinator's schema does not hold it yet, so the first prepares find no
// such table. The open waits that out instead of failing the start.
TEST(CassandraSinkOpen, APrepareOfATableNotYetInTheSchemaIsRetried) {
  Tally prepares;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (h.opcode == Opcode::kPrepare && prepares.size() < 2) {
      prepares.Add("refused");
      conn->Reply(h.stream, Opcode::kError, ErrorBody(cql::ErrorCode::kInvalid, "table daily does not exist"));
      return;
    }
    AnswerSchema(conn, h, body);
  });
  auto sink = CassandraSink::Open(OptionsFor(server));
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ(prepares.size(), 2u);
}

// A login denied the schema read (IAM without cassandra:Select on the system
// keyspaces) is told what it needs, in the one line of the error.
TEST(CassandraSinkOpen, PermissionDeniedSaysWhatTheLoginNeeds) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    conn->Reply(h.stream, Opcode::kError,
                ErrorBody(cql::ErrorCode::kUnauthorized, "User arn:aws:iam::1:role/x has no permission"));
  });
  auto sink = CassandraSink::Open(OptionsFor(server));
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kPermissionDenied) << sink.status();
  EXPECT_TRUE(absl::StrContains(sink.status().message(), "has no permission")) << sink.status();
  EXPECT_TRUE(absl::StrContains(sink.status().message(), "cannot read the table's schema")) << sink.status();
  EXPECT_TRUE(absl::StrContains(sink.status().message(), "The login needs SELECT on system_schema")) << sink.status();
}

}  // namespace
}  // namespace tally
