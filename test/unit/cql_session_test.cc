// Connection and Session against a scripted CQL server in the test: real
// sockets on 127.0.0.1, with answers chosen per test. This covers what a real
// Cassandra cannot be made to do on demand: ask for a password (the local one
// allows all), answer late, fail with Overloaded or WriteTimeout, forget a
// prepared statement and hand out a new id, drop a connection mid-request.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "cql/completion_group.h"
#include "cql/connection.h"
#include "cql/request.h"
#include "cql/server_error.h"
#include "cql/session.h"
#include "cql/wire.h"
#include "cql_fake_server.h"

namespace tally::cql {
namespace {

using std::chrono::milliseconds;

using namespace ::tally::cql::testing;  // NOLINT: the fake server and its byte helpers

SessionOptions OptionsFor(const FakeServer& server) {
  SessionOptions o;
  o.hosts = {server.address()};
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Seconds(5);
  o.backoff_base = absl::Milliseconds(5);
  o.backoff_max = absl::Milliseconds(50);
  o.max_retries = 3;
  return o;
}

// A port nothing listens on: bound, then released.
uint16_t ClosedPort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

// --- authentication ---

TEST(CqlSessionAuth, SaslPlainHandshake) {
  const std::string kAuthenticator = "org.apache.cassandra.auth.PasswordAuthenticator";
  Tally tokens;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body, kAuthenticator)) return;
    if (h.opcode == Opcode::kAuthResponse) {
      const std::string t = AuthToken(body);
      tokens.Add(t);
      if (t == std::string("\0cassandra\0secret", 17)) {
        conn->Reply(h.stream, Opcode::kAuthSuccess, Int(-1));
      } else {
        conn->Reply(h.stream, Opcode::kError,
                    ErrorBody(ErrorCode::kBadCredentials, "Provided username cassandra and/or password are incorrect"));
      }
      return;
    }
    if (h.opcode == Opcode::kQuery) conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });

  SessionOptions o = OptionsFor(server);
  o.username = "cassandra";
  o.password = "secret";
  {
    absl::StatusOr<std::unique_ptr<Session>> session = Session::Connect(o);
    ASSERT_TRUE(session.ok()) << session.status();
    EXPECT_EQ(tokens.Get().at(0), std::string("\0cassandra\0secret", 17));
    EXPECT_TRUE((*session)->Query("SELECT 1", {}).ok());
  }

  o.password = "wrong";
  absl::StatusOr<std::unique_ptr<Session>> bad = Session::Connect(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), server.address())) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(),
                                "Authentication error (0x0100): Provided username cassandra and/or password are incorrect"))
      << bad.status();
  EXPECT_EQ(ServerErrorCodeOf(bad.status()), ErrorCode::kBadCredentials);

  o.username.clear();
  absl::StatusOr<std::unique_ptr<Session>> none = Session::Connect(o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "requires authentication (" + kAuthenticator + ")"))
      << none.status();
}

// --- peers that are not (working) CQL servers: failures that will not pass ---

// A TCP server that is not a CQL server: it reads the first bytes a client
// sends, then answers with `reply` (if any) and either resets the connection
// (`reset`) or closes it.
class RawServer {
 public:
  RawServer(std::string reply, bool reset)
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        reply_(std::move(reply)),
        reset_(reset) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RawServer() {
    asio::post(io_, [this] {
      asio::error_code ignored;
      acceptor_.close(ignored);
      for (auto& s : sockets_) s->close(ignored);
    });
    thread_.join();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", acceptor_.local_endpoint().port()); }

 private:
  void Accept() {
    acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
      sockets_.push_back(s);
      s->async_read_some(asio::buffer(buffer_), [this, s](asio::error_code ec, size_t) {
        if (ec) return;
        asio::error_code ignored;
        if (!reply_.empty()) asio::write(*s, asio::buffer(reply_), ignored);
        if (reset_) s->set_option(asio::socket_base::linger(true, 0), ignored);  // close sends RST
        s->close(ignored);
      });
      Accept();
    });
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  const std::string reply_;
  const bool reset_;
  char buffer_[64];
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;  // io thread
  std::thread thread_;
};

TEST(CqlSessionPeers, GarbageFromANonCqlServerIsAProtocolErrorNotAnOutage) {
  RawServer server("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", /*reset=*/false);
  SessionOptions o;
  o.hosts = {server.address()};
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "protocol violation")) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), server.address())) << s.status();
}

TEST(CqlSessionPeers, ResetBeforeAnyAnswerIsPermanentNotAnOutage) {
  RawServer server("", /*reset=*/true);
  SessionOptions o;
  o.hosts = {server.address()};
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "before answering any request")) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), server.address())) << s.status();
}

TEST(CqlSessionPeers, UnreachableStaysAnOutage) {
  SessionOptions o;
  o.hosts = {absl::StrCat("127.0.0.1:", ClosedPort())};
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable) << s.status();
}

TEST(CqlSessionPeers, FrameOverTheLimitIsAProtocolError) {
  // The server answers OPTIONS with a header announcing a 200 MB body, which
  // the spec would allow: refused from the header, before reading the body.
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string&) {
    if (h.opcode != Opcode::kOptions) return;
    std::string header(kFrameHeaderSize, '\0');
    FrameHeader big;
    big.direction = Direction::kResponse;
    big.stream = h.stream;
    big.opcode = Opcode::kSupported;
    big.length = 200u * 1024 * 1024;
    EncodeFrameHeader(big, header.data());
    conn->ReplyRaw(header + std::string(1024, 'x'));
  });
  SessionOptions o = OptionsFor(server);
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "exceeds this client's limit of 16777216 bytes")) << s.status();
}

// --- the connection's stream ids ---

TEST(CqlConnection, TimedOutStreamIdIsRetiredUntilItsLateAnswer) {
  std::mutex mu;
  std::vector<int16_t> streams;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    int16_t first;
    {
      std::lock_guard<std::mutex> lock(mu);
      streams.push_back(h.stream);
      first = streams[0];
    }
    if (body == "B") {
      // The late answer to A first, then B's own, on the same socket.
      conn->Reply(first, Opcode::kResult, Int(3) + Str("late answer to A"));
      conn->Reply(h.stream, Opcode::kResult, VoidResult());
    }  // "A" gets no answer in time
  });

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  ConnectionOptions copts;
  copts.endpoint = *ParseEndpoint(server.address());
  copts.max_streams = 4;
  std::shared_ptr<Connection> conn = Connection::Create(io, copts);
  std::promise<absl::Status> connected;
  conn->AsyncConnect([&](absl::Status s) { connected.set_value(s); });
  ASSERT_TRUE(connected.get_future().get().ok());

  const auto frame = [](const std::string& body) {
    std::string f;
    const size_t start = BeginRequestFrame(&f, Opcode::kQuery);
    f += body;
    (void)FinishFrame(&f, start);
    return f;
  };

  std::promise<absl::StatusOr<std::string>> a;
  ASSERT_TRUE(conn->Send(frame("A"), milliseconds(50), [&](absl::StatusOr<Frame> f) {
                    a.set_value(f.ok() ? absl::StatusOr<std::string>(std::string(f->body)) : f.status());
                  }).ok());
  absl::StatusOr<std::string> a_out = a.get_future().get();
  ASSERT_EQ(a_out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(a_out.status().message(), absl::StrCat("no response from ", server.address(), " within 50 ms (stream 0)"));
  EXPECT_EQ(conn->in_flight(), 1) << "the timed-out id stays taken";

  std::promise<std::string> b;
  std::atomic<int> in_flight_during_b{-1};
  ASSERT_TRUE(conn->Send(frame("B"), milliseconds(5000), [&](absl::StatusOr<Frame> f) {
                    in_flight_during_b = conn->in_flight();
                    b.set_value(f.ok() ? std::string(f->body) : std::string(f.status().message()));
                  }).ok());
  EXPECT_EQ(b.get_future().get(), VoidResult()) << "B must get its own answer, not A's late one";
  EXPECT_EQ(in_flight_during_b.load(), 0) << "A's late answer freed its id";
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(streams.size(), 2u);
    EXPECT_NE(streams[0], streams[1]) << "B must not reuse A's id before A's answer came";
  }

  conn->Close(absl::CancelledError("test over"));
  work.reset();
  io_thread.join();
}

// One deadline timer serves the whole connection: a request sent after
// another, with a shorter timeout, still times out at its own deadline, and
// the earlier one does not time out with it.
TEST(CqlConnection, ALaterShorterDeadlineFiresFirst) {
  std::promise<void> first_arrived;
  std::atomic<int> arrived{0};
  FakeServer server([&](const auto&, const FrameHeader&, const std::string&) {  // never answers
    if (arrived++ == 0) first_arrived.set_value();
  });
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  ConnectionOptions copts;
  copts.endpoint = *ParseEndpoint(server.address());
  std::shared_ptr<Connection> conn = Connection::Create(io, copts);
  std::promise<absl::Status> connected;
  conn->AsyncConnect([&](absl::Status s) { connected.set_value(s); });
  ASSERT_TRUE(connected.get_future().get().ok());

  std::string f;
  AppendOptionsRequest(&f, 0);
  std::promise<absl::Status> slow, quick;
  ASSERT_TRUE(conn->Send(f, milliseconds(600000), [&](absl::StatusOr<Frame> r) { slow.set_value(r.status()); }).ok());
  first_arrived.get_future().wait();  // written, so the timer is set for its deadline
  ASSERT_TRUE(conn->Send(f, milliseconds(50), [&](absl::StatusOr<Frame> r) { quick.set_value(r.status()); }).ok());
  EXPECT_EQ(quick.get_future().get().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(conn->in_flight(), 2) << "the slow request still waits; the quick one's id is retired";

  conn->Close(absl::CancelledError("test over"));
  EXPECT_EQ(slow.get_future().get().code(), absl::StatusCode::kUnavailable) << "failed by the close, not by a deadline";
  work.reset();
  io_thread.join();
}

TEST(CqlConnection, LostConnectionFailsPendingRequests) {
  FakeServer server([&](const auto& conn, const FrameHeader&, const std::string&) { conn->Close(); });
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  ConnectionOptions copts;
  copts.endpoint = *ParseEndpoint(server.address());
  std::promise<absl::Status> closed_hook;
  ConnectionHooks hooks;
  hooks.on_close = [&](const absl::Status& why) { closed_hook.set_value(why); };
  std::shared_ptr<Connection> conn = Connection::Create(io, copts, std::move(hooks));
  std::promise<absl::Status> connected;
  conn->AsyncConnect([&](absl::Status s) { connected.set_value(s); });
  ASSERT_TRUE(connected.get_future().get().ok());

  std::string f;
  AppendOptionsRequest(&f, 0);
  std::promise<absl::Status> out;
  ASSERT_TRUE(conn->Send(f, milliseconds(5000), [&](absl::StatusOr<Frame> r) { out.set_value(r.status()); }).ok());
  absl::Status s = out.get_future().get();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat("connection to ", server.address(), " lost"))) << s;
  EXPECT_EQ(closed_hook.get_future().get().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(conn->is_open());
  EXPECT_EQ(conn->Send(f, milliseconds(10), [](absl::StatusOr<Frame>) {}).code(), absl::StatusCode::kUnavailable);
  work.reset();
  io_thread.join();
}

// --- errors and retries ---

TEST(CqlSession, SyntaxErrorSurfacesAtOnceWithTheServersMessage) {
  Tally attempts;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    attempts.Add(LeadingLongString(body));
    conn->Reply(h.stream, Opcode::kError,
                ErrorBody(ErrorCode::kSyntaxError, "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)"));
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  StatementOptions idempotent;
  idempotent.idempotent = true;
  absl::StatusOr<Result> r = (*session)->Query("SELEC 1", idempotent);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("cassandra ", server.address(),
                         ": Syntax error (0x2000): line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)"));
  EXPECT_EQ(attempts.size(), 1u);
}

TEST(CqlSession, OverloadedIsRetried) {
  Tally attempts;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    attempts.Add("q");
    if (attempts.size() == 1) {
      conn->Reply(h.stream, Opcode::kError, ErrorBody(ErrorCode::kOverloaded, "Server is in overloaded state"));
    } else {
      conn->Reply(h.stream, Opcode::kResult, VoidResult());
    }
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE((*session)->Query("INSERT", {}).ok()) << "Overloaded means not applied: retried even if not idempotent";
  EXPECT_EQ(attempts.size(), 2u);
}

TEST(CqlSession, WriteTimeoutIsRetriedOnlyWhenIdempotent) {
  Tally attempts;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    attempts.Add("q");
    conn->Reply(h.stream, Opcode::kError,
                ErrorBody(ErrorCode::kWriteTimeout, "Operation timed out", Short(6) + Int(0) + Int(1) + Str("SIMPLE")));
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();

  absl::StatusOr<Result> r = (*session)->Query("UPDATE counters", {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(attempts.size(), 1u);

  StatementOptions idempotent;
  idempotent.idempotent = true;
  r = (*session)->Query("INSERT", idempotent);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::EndsWith(r.status().message(), "(after 3 retries)")) << r.status();
  EXPECT_EQ(ServerErrorCodeOf(r.status()), ErrorCode::kWriteTimeout);
  EXPECT_EQ(attempts.size(), 1u + 4u);
}

TEST(CqlSession, ClientTimeoutIsRetriedWhenIdempotent) {
  Tally attempts;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    attempts.Add("q");
    if (attempts.size() >= 2) conn->Reply(h.stream, Opcode::kResult, VoidResult());  // the first goes unanswered
  });
  SessionOptions o = OptionsFor(server);
  o.request_timeout = absl::Milliseconds(100);
  auto session = Session::Connect(o);
  ASSERT_TRUE(session.ok()) << session.status();
  StatementOptions idempotent;
  idempotent.idempotent = true;
  EXPECT_TRUE((*session)->Query("INSERT", idempotent).ok());
  EXPECT_EQ(attempts.size(), 2u);

  absl::StatusOr<Result> r = (*session)->Query("INSERT", {});  // answered: attempts are past the first
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(CqlSession, ClientTimeoutOfANonIdempotentStatementSurfaces) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    AnswerHandshake(conn, h, body);  // queries go unanswered
  });
  SessionOptions o = OptionsFor(server);
  o.request_timeout = absl::Milliseconds(100);
  auto session = Session::Connect(o);
  ASSERT_TRUE(session.ok()) << session.status();
  absl::StatusOr<Result> r = (*session)->Query("INSERT", {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(r.status().message(), absl::StrCat("no response from ", server.address(), " within 100 ms")))
      << r.status();
}

// --- prepared statements ---

TEST(CqlSession, ReprepareOnUnpreparedThenRetryWithTheNewId) {
  std::mutex mu;
  std::string current_id = "P1";  // what the server knows the statement as
  bool forgot = false;
  Tally log;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    std::lock_guard<std::mutex> lock(mu);
    if (h.opcode == Opcode::kPrepare) {
      log.Add("PREPARE");
      conn->Reply(h.stream, Opcode::kResult, PreparedBody(current_id, 1));
    } else if (h.opcode == Opcode::kExecute) {
      WireReader r(body);
      absl::string_view id;
      r.ReadShortBytes(&id);
      log.Add(absl::StrCat("EXECUTE ", id));
      if (!forgot) {  // the server restarts, say, and prepares it anew under another id
        forgot = true;
        current_id = "P2";
      }
      if (id != current_id) {
        conn->Reply(h.stream, Opcode::kError,
                    ErrorBody(ErrorCode::kUnprepared, "Prepared query not found", Str(std::string(id))));
      } else {
        conn->Reply(h.stream, Opcode::kResult, VoidResult());
      }
    }
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  absl::StatusOr<std::shared_ptr<const PreparedStatement>> p = (*session)->Prepare("INSERT INTO ks.t (c0) VALUES (?)");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->bind_count(), 1);
  EXPECT_EQ((*p)->metadata().pk_indices, std::vector<uint16_t>{0});
  EXPECT_EQ(*(*session)->Prepare("INSERT INTO ks.t (c0) VALUES (?)"), *p) << "cached by text";

  const Value v[] = {Value::FromInt(1)};
  absl::StatusOr<Result> r = (*session)->Execute(*p, v);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"PREPARE", "EXECUTE P1", "PREPARE", "EXECUTE P2"}));
  EXPECT_EQ((*p)->id(), "P2");
  EXPECT_EQ((*session)->Stats().reprepares, 1);

  EXPECT_EQ((*session)->Execute(*p, {}).status().message(), "the statement has 1 bind markers but 0 values were given");
}

TEST(CqlSession, BatchIsUnloggedWithOneStatementPerRow) {
  std::mutex mu;
  int type = -1, statements = -1, values_in_first = -1;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    if (h.opcode == Opcode::kPrepare) return conn->Reply(h.stream, Opcode::kResult, PreparedBody("B", 2));
    if (h.opcode == Opcode::kBatch) {
      WireReader r(body);
      uint8_t t, kind;
      uint16_t n, nv;
      absl::string_view id;
      r.ReadByte(&t);
      r.ReadShort(&n);
      r.ReadByte(&kind);
      r.ReadShortBytes(&id);
      r.ReadShort(&nv);
      std::lock_guard<std::mutex> lock(mu);
      type = t;
      statements = n;
      values_in_first = nv;
      conn->Reply(h.stream, Opcode::kResult, VoidResult());
    }
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  auto p = (*session)->Prepare("INSERT INTO ks.t (c0, c1) VALUES (?, ?)");
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<Value> rows;
  for (int i = 0; i < 3; ++i) {
    rows.push_back(Value::FromInt(i));
    rows.push_back(Value::FromInt(10 * i));
  }
  ASSERT_TRUE((*session)->ExecuteBatch(*p, rows).ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(type, 1) << "unlogged";
    EXPECT_EQ(statements, 3);
    EXPECT_EQ(values_in_first, 2);
  }
  rows.pop_back();
  EXPECT_EQ((*session)->ExecuteBatch(*p, rows).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- throughput machinery ---

TEST(CqlSession, ManyRequestsInFlightOnOneConnection) {
  // The server holds every answer until 200 requests have arrived: only a
  // client that pipelines gets any answer at all.
  constexpr int kRequests = 200;
  std::mutex mu;
  std::vector<std::pair<std::shared_ptr<FakeServer::Conn>, int16_t>> held;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    std::lock_guard<std::mutex> lock(mu);
    held.emplace_back(conn, h.stream);
    if (held.size() == kRequests) {
      for (auto& [c, stream] : held) c->Reply(stream, Opcode::kResult, VoidResult());
    }
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  CompletionGroup group;
  for (int i = 0; i < kRequests; ++i) (*session)->QueryAsync("INSERT", {}, {}, group.Add());
  EXPECT_TRUE(group.WaitFor(absl::Seconds(20)).ok());
  EXPECT_EQ(group.succeeded(), kRequests);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(CqlSession, RequestsBeyondTheStreamIdsWaitForAFreeOne) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });
  SessionOptions o = OptionsFor(server);
  o.max_streams_per_connection = 2;
  auto session = Session::Connect(o);
  ASSERT_TRUE(session.ok()) << session.status();
  CompletionGroup group;
  for (int i = 0; i < 500; ++i) (*session)->QueryAsync("INSERT", {}, {}, group.Add());
  EXPECT_TRUE(group.WaitFor(absl::Seconds(20)).ok());
  EXPECT_EQ(group.succeeded(), 500);
}

TEST(CqlSession, CompletionGroupReportsTheFirstErrorWithCounts) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    if (LeadingLongString(body) == "bad") {
      conn->Reply(h.stream, Opcode::kError, ErrorBody(ErrorCode::kInvalid, "unconfigured table nope"));
    } else {
      conn->Reply(h.stream, Opcode::kResult, VoidResult());
    }
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  CompletionGroup group;
  for (int i = 0; i < 10; ++i) (*session)->QueryAsync(i == 3 ? "bad" : "good", {}, {}, group.Add());
  absl::Status s = group.Wait();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), "1 of 10 requests failed; first: cassandra ")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "unconfigured table nope")) << s;
}

TEST(CqlSession, BlockingCallFromACallbackFailsInsteadOfDeadlocking) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  Session* s = session->get();
  std::promise<absl::Status> inner;
  s->QueryAsync("SELECT 1", {}, {}, [&](absl::StatusOr<Result>) { inner.set_value(s->Query("SELECT 2").status()); });
  EXPECT_EQ(inner.get_future().get().code(), absl::StatusCode::kFailedPrecondition);
}

// --- connection loss, hosts ---

TEST(CqlSession, LostConnectionRetriesIdempotentAndFailsTheRest) {
  std::mutex mu;
  std::vector<std::pair<std::shared_ptr<FakeServer::Conn>, int16_t>> first_conn_queries;
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    if (conn->id() == 1) {  // the first connection dies with both requests in flight
      std::lock_guard<std::mutex> lock(mu);
      first_conn_queries.emplace_back(conn, h.stream);
      if (first_conn_queries.size() == 2) conn->Close();
      return;
    }
    conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });
  std::vector<std::string> log;
  std::mutex log_mu;
  SessionOptions o = OptionsFor(server);
  o.log = [&](absl::string_view m) {
    std::lock_guard<std::mutex> lock(log_mu);
    log.emplace_back(m);
  };
  auto session = Session::Connect(o);
  ASSERT_TRUE(session.ok()) << session.status();

  StatementOptions idempotent;
  idempotent.idempotent = true;
  std::promise<absl::Status> plain, retried;
  (*session)->QueryAsync("INSERT plain", {}, {}, [&](absl::StatusOr<Result> r) { plain.set_value(r.status()); });
  (*session)->QueryAsync("INSERT upsert", idempotent, {}, [&](absl::StatusOr<Result> r) { retried.set_value(r.status()); });
  absl::Status p = plain.get_future().get();
  EXPECT_EQ(p.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(p.message(), absl::StrCat("connection to ", server.address(), " lost"))) << p;
  EXPECT_TRUE(retried.get_future().get().ok());
  EXPECT_GE(server.accepted(), 2);
  std::lock_guard<std::mutex> lock(log_mu);
  EXPECT_FALSE(log.empty());
}

TEST(CqlSession, UnreachableHostIsNamed) {
  SessionOptions o;
  const std::string address = absl::StrCat("127.0.0.1:", ClosedPort());
  o.hosts = {address};
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(s.status().message(), absl::StrCat("cannot connect to ", address, ": Connection refused")))
      << s.status();
}

TEST(CqlSession, OneHostUpIsEnough) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;
    conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });
  SessionOptions o = OptionsFor(server);
  const std::string dead = absl::StrCat("127.0.0.1:", ClosedPort());
  o.hosts = {dead, server.address()};
  o.connections_per_host = 2;
  auto session = Session::Connect(o);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<HostStatus> hosts = (*session)->Hosts();
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].endpoint, dead);
  EXPECT_EQ(hosts[0].connections_up, 0);
  EXPECT_TRUE(absl::StrContains(hosts[0].last_error.message(), "Connection refused")) << hosts[0].last_error;
  EXPECT_EQ(hosts[1].connections_up, 2);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE((*session)->Query("INSERT", {}).ok());
}

TEST(CqlSession, CloseFailsPendingRequests) {
  FakeServer server([&](const auto& conn, const FrameHeader& h, const std::string& body) {
    AnswerHandshake(conn, h, body);  // queries go unanswered
  });
  auto session = Session::Connect(OptionsFor(server));
  ASSERT_TRUE(session.ok()) << session.status();
  std::promise<absl::Status> pending;
  (*session)->QueryAsync("INSERT", {}, {}, [&](absl::StatusOr<Result> r) { pending.set_value(r.status()); });
  (*session)->Close();
  std::future<absl::Status> f = pending.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready) << "callbacks ran before Close returned";
  EXPECT_EQ(f.get().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<Result> after = (*session)->Query("INSERT");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tally::cql
