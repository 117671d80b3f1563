// tally's CQL client against the real Cassandra of the local stack
// (scripts/local-stack: Apache Cassandra 5.0 on 127.0.0.1:9042, or
// $TALLY_CASSANDRA). Each test uses a keyspace of its own process and drops it.
//
// Not covered here, because the local node cannot do it: authentication (it
// runs AllowAllAuthenticator) and TLS; see test/unit/cql_session_test.cc for
// SASL PLAIN against a scripted server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cql/completion_group.h"
#include "cql/connection.h"
#include "cql/request.h"
#include "cql/server_error.h"
#include "cql/session.h"

namespace tally::cql {
namespace {

std::string CassandraAddress() {
  const char* env = std::getenv("TALLY_CASSANDRA");
  return env && *env ? env : "127.0.0.1:9042";
}

const std::string& Keyspace() {
  static const std::string ks = absl::StrCat("tally_cql_it_", getpid());
  return ks;
}

SessionOptions Options(const std::string& address) {
  SessionOptions o;
  o.hosts = {address};
  o.connect_timeout = absl::Seconds(10);
  o.request_timeout = absl::Seconds(20);  // schema changes on a busy test machine take a while
  o.backoff_base = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(500);
  o.max_retries = 5;
  return o;
}

StatementOptions Idempotent() {
  StatementOptions o;
  o.idempotent = true;
  return o;
}

Uuid UserUuid(int i) { return Uuid{0x1111222233334444ULL, static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL}; }

using Table = std::map<std::pair<Uuid, Day>, int64_t>;

// Reads every row of `table`, page by page.
Table ReadAll(Session& session, const std::string& table) {
  Table out;
  StatementOptions o;
  o.consistency = Consistency::kLocalQuorum;
  o.page_size = 2500;
  int pages = 0;
  for (;;) {
    absl::StatusOr<Result> r =
        session.Query(absl::StrCat("SELECT user_uuid, created_date, event_count FROM ", table), o);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || !r->rows()) return out;
    const Rows& rows = *r->rows();
    for (int i = 0; i < rows.row_count(); ++i) {
      absl::StatusOr<Uuid> u = rows.GetUuid(i, 0);
      absl::StatusOr<Day> d = rows.GetDate(i, 1);
      absl::StatusOr<int64_t> n = rows.GetBigint(i, 2);
      EXPECT_TRUE(u.ok() && d.ok() && n.ok());
      if (u.ok() && d.ok() && n.ok()) out[{*u, *d}] = *n;
    }
    ++pages;
    if (!rows.metadata().has_more_pages()) break;
    o.paging_state = rows.metadata().paging_state;
  }
  if (out.size() > 2500) {
    EXPECT_GT(pages, 1) << "paging was asked for";
  }
  return out;
}

class CqlClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(Options(CassandraAddress()));
    ASSERT_TRUE(s.ok()) << s.status() << " (is the local stack up? scripts/local-stack start cassandra)";
    absl::StatusOr<Result> r = (*s)->Query(
        absl::StrCat("CREATE KEYSPACE IF NOT EXISTS ", Keyspace(),
                     " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"),
        Idempotent());
    ASSERT_TRUE(r.ok()) << r.status();
  }

  static void TearDownTestSuite() {
    absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(Options(CassandraAddress()));
    if (s.ok()) (void)(*s)->Query(absl::StrCat("DROP KEYSPACE IF EXISTS ", Keyspace()), Idempotent());
  }

  // A fresh daily-counts table named `name` in the test keyspace.
  static void CreateTable(Session& session, const std::string& name) {
    ASSERT_TRUE(session.Query(absl::StrCat("DROP TABLE IF EXISTS ", Keyspace(), ".", name), Idempotent()).ok());
    absl::StatusOr<Result> r = session.Query(
        absl::StrCat("CREATE TABLE ", Keyspace(), ".", name,
                     " (user_uuid uuid, created_date date, event_count bigint, PRIMARY KEY ((user_uuid), created_date))"),
        Idempotent());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->kind(), ResultKind::kSchemaChange);
    EXPECT_EQ(r->schema_change()->target, "TABLE");
    EXPECT_EQ(r->schema_change()->name, name);
  }

  static std::string Upsert(const std::string& table) {
    return absl::StrCat("INSERT INTO ", table, " (user_uuid, created_date, event_count) VALUES (?, ?, ?)");
  }
};

TEST_F(CqlClientTest, WritesTenThousandRowsPipelinedAndReadsThemBack) {
  SessionOptions o = Options(CassandraAddress());
  o.keyspace = Keyspace();  // USE on every connection
  o.connections_per_host = 2;
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_TRUE(s.ok()) << s.status();
  Session& session = **s;
  CreateTable(session, "daily");

  absl::StatusOr<std::shared_ptr<const PreparedStatement>> upsert = session.Prepare(Upsert("daily"));
  ASSERT_TRUE(upsert.ok()) << upsert.status();
  EXPECT_EQ((*upsert)->bind_count(), 3);
  EXPECT_EQ((*upsert)->metadata().pk_indices, std::vector<uint16_t>{0});
  EXPECT_EQ((*upsert)->metadata().bind_columns[1].type.id, TypeId::kDate);

  // 1000 learners x 10 days: one unlogged batch per partition (learner).
  constexpr int kUsers = 1000;
  constexpr int kDays = 10;
  constexpr Day kFirstDay = 19723;  // 2024-01-01
  Table expected;
  std::vector<std::vector<Value>> batches(kUsers);
  for (int u = 0; u < kUsers; ++u) {
    for (int d = 0; d < kDays; ++d) {
      const int64_t count = u * 100 + d + 1;
      expected[{UserUuid(u), kFirstDay + d}] = count;
      batches[u].push_back(Value::FromUuid(UserUuid(u)));
      batches[u].push_back(Value::FromDate(kFirstDay + d));
      batches[u].push_back(Value::FromBigint(count));
    }
  }
  auto start = std::chrono::steady_clock::now();
  {
    CompletionGroup group;
    for (const auto& rows : batches) {
      group.WaitUntilPendingAtMost(256);
      session.ExecuteBatchAsync(*upsert, rows, Idempotent(), group.Add());
    }
    ASSERT_TRUE(group.Wait().ok());
  }
  const double batch_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ metric ] 10000 rows in 1000 unlogged batches: %.3f s, %.0f rows/s\n", batch_seconds,
              10000 / batch_seconds);
  EXPECT_EQ(ReadAll(session, "daily"), expected);

  // The same rows again, one EXECUTE each, many in flight, with new counts.
  start = std::chrono::steady_clock::now();
  {
    CompletionGroup group;
    Value row[3];
    for (auto& [key, count] : expected) {
      count += 1000000;
      row[0] = Value::FromUuid(key.first);
      row[1] = Value::FromDate(key.second);
      row[2] = Value::FromBigint(count);
      group.WaitUntilPendingAtMost(2048);
      session.ExecuteAsync(*upsert, row, Idempotent(), group.Add());
    }
    ASSERT_TRUE(group.Wait().ok());
  }
  const double single_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ metric ] 10000 single-row upserts: %.3f s, %.0f rows/s\n", single_seconds, 10000 / single_seconds);
  EXPECT_EQ(ReadAll(session, "daily"), expected);

  // A point read through the prepared path, with typed getters.
  absl::StatusOr<std::shared_ptr<const PreparedStatement>> select =
      session.Prepare("SELECT event_count, created_date FROM daily WHERE user_uuid = ? AND created_date = ?");
  ASSERT_TRUE(select.ok()) << select.status();
  const Value key[] = {Value::FromUuid(UserUuid(7)), Value::FromDate(kFirstDay + 3)};
  absl::StatusOr<Result> one = session.Execute(*select, key, Idempotent());
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->rows()->row_count(), 1);
  EXPECT_EQ(*one->rows()->GetBigint(0, 0), 7 * 100 + 3 + 1 + 1000000);
  EXPECT_EQ(*one->rows()->GetDate(0, 1), kFirstDay + 3);
  EXPECT_EQ(session.Stats().retries, 0);
}

TEST_F(CqlClientTest, ReprepareAfterTheServerDroppedTheStatement) {
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(Options(CassandraAddress()));
  ASSERT_TRUE(s.ok()) << s.status();
  Session& session = **s;
  const std::string table = absl::StrCat(Keyspace(), ".reprepare");
  CreateTable(session, "reprepare");
  auto upsert = session.Prepare(Upsert(table));
  ASSERT_TRUE(upsert.ok()) << upsert.status();
  const Value row[] = {Value::FromUuid(UserUuid(1)), Value::FromDate(1), Value::FromBigint(1)};
  ASSERT_TRUE(session.Execute(*upsert, row, Idempotent()).ok());

  // Dropping the table makes Cassandra evict the statements prepared on it;
  // the table is back (empty) before the next EXECUTE, which then meets
  // UNPREPARED, and the client prepares again and retries.
  CreateTable(session, "reprepare");
  const int64_t before = session.Stats().reprepares;
  const Value row2[] = {Value::FromUuid(UserUuid(2)), Value::FromDate(2), Value::FromBigint(2)};
  absl::StatusOr<Result> r = session.Execute(*upsert, row2, Idempotent());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(session.Stats().reprepares, before + 1);
  EXPECT_EQ(ReadAll(session, table), (Table{{{UserUuid(2), 2}, 2}}));
}

TEST_F(CqlClientTest, SyntaxErrorSurfacesWithTheServersMessage) {
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(Options(CassandraAddress()));
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<Result> r = (*s)->Query("SELEC * FROM system.local", Idempotent());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServerErrorCodeOf(r.status()), ErrorCode::kSyntaxError);
  EXPECT_TRUE(absl::StartsWith(r.status().message(),
                               absl::StrCat("cassandra ", CassandraAddress(), ": Syntax error (0x2000): ")))
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "SELEC")) << r.status();
  EXPECT_EQ((*s)->Stats().retries, 0);

  r = (*s)->Query("SELECT * FROM no_such_keyspace.t", Idempotent());
  EXPECT_EQ(ServerErrorCodeOf(r.status()), ErrorCode::kInvalid) << r.status();
}

TEST_F(CqlClientTest, UnreachableHostIsNamed) {
  uint16_t port;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = a.local_endpoint().port();
  }  // closed again: nothing listens there now
  const std::string address = absl::StrCat("127.0.0.1:", port);
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(Options(address));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(s.status().message(), absl::StrCat("cannot connect to ", address, ": Connection refused")))
      << s.status();

  SessionOptions o = Options("no-such-host.invalid:9042");
  o.connect_timeout = absl::Seconds(5);
  s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "no-such-host.invalid:9042")) << s.status();
}

// Accepts TCP connections and never says a word.
class SilentListener {
 public:
  SilentListener() : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SilentListener() {
    asio::post(io_, [this] {
      asio::error_code ignored;
      acceptor_.close(ignored);
      for (auto& s : sockets_) s.close(ignored);
    });
    thread_.join();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", acceptor_.local_endpoint().port()); }

 private:
  void Accept() {
    acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      sockets_.push_back(std::move(s));
      Accept();
    });
  }
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<asio::ip::tcp::socket> sockets_;
  std::thread thread_;
};

TEST_F(CqlClientTest, PerRequestTimeoutAgainstAServerThatNeverAnswers) {
  SilentListener silent;
  // The session's handshake (OPTIONS) gets no answer.
  SessionOptions o = Options(silent.address());
  o.connect_timeout = absl::Milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDeadlineExceeded) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(),
                                absl::StrCat("no response from ", silent.address(), " within 300 ms (stream 0)")))
      << s.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  // A bare connection: the request fails with DEADLINE_EXCEEDED and its stream
  // id stays retired (no answer ever came for it).
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  ConnectionOptions copts;
  copts.endpoint = *ParseEndpoint(silent.address());
  std::shared_ptr<Connection> conn = Connection::Create(io, copts);
  std::promise<absl::Status> connected;
  conn->AsyncConnect([&](absl::Status st) { connected.set_value(st); });
  ASSERT_TRUE(connected.get_future().get().ok());
  std::string frame;
  AppendOptionsRequest(&frame, 0);
  std::promise<absl::Status> answer;
  ASSERT_TRUE(conn->Send(frame, std::chrono::milliseconds(100), [&](absl::StatusOr<Frame> f) {
                    answer.set_value(f.status());
                  }).ok());
  EXPECT_EQ(answer.get_future().get().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(conn->in_flight(), 1);
  conn->Close(absl::CancelledError("test over"));
  work.reset();
  io_thread.join();
}

// A TCP proxy in front of Cassandra that the test can cut.
class Proxy {
 public:
  explicit Proxy(const Endpoint& upstream)
      : upstream_(upstream), acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    address_ = absl::StrCat("127.0.0.1:", acceptor_.local_endpoint().port());
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Proxy() {
    Cut(/*keep_listening=*/false);
    work_.reset();
    thread_.join();
  }
  const std::string& address() const { return address_; }
  int accepted() const { return accepted_.load(); }

  // Closes every proxied connection, both sides, and with keep_listening
  // false refuses new ones too. Returns once done.
  void Cut(bool keep_listening) {
    std::promise<void> done;
    asio::post(io_, [&] {
      asio::error_code ignored;
      if (!keep_listening) acceptor_.close(ignored);
      for (auto& p : pipes_) {
        p->client.close(ignored);
        p->server.close(ignored);
      }
      pipes_.clear();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  struct Pipe {
    explicit Pipe(asio::io_context& io) : client(io), server(io) {}
    asio::ip::tcp::socket client;
    asio::ip::tcp::socket server;
    char up[65536];
    char down[65536];
  };

  void Accept() {
    acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      ++accepted_;
      auto p = std::make_shared<Pipe>(io_);
      p->client = std::move(s);
      pipes_.push_back(p);
      p->server.async_connect(
          asio::ip::tcp::endpoint(asio::ip::make_address(upstream_.host), upstream_.port), [this, p](asio::error_code ec) {
            if (ec) return;
            Pump(p, &p->client, &p->server, p->up);
            Pump(p, &p->server, &p->client, p->down);
          });
      Accept();
    });
  }

  void Pump(std::shared_ptr<Pipe> p, asio::ip::tcp::socket* from, asio::ip::tcp::socket* to, char* buf) {
    from->async_read_some(asio::buffer(buf, 65536), [this, p, from, to, buf](asio::error_code ec, size_t n) {
      if (ec) return;
      asio::async_write(*to, asio::buffer(buf, n), [this, p, from, to, buf](asio::error_code ec, size_t) {
        if (!ec) Pump(p, from, to, buf);
      });
    });
  }

  Endpoint upstream_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::ip::tcp::acceptor acceptor_;
  std::string address_;
  std::vector<std::shared_ptr<Pipe>> pipes_;  // io thread
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Submits `n` upserts of fresh rows and cuts the proxy once `cut_after` of
// them are acknowledged, while the rest are in flight or queued.
struct CutResult {
  int64_t succeeded = 0;
  int64_t failed = 0;
  absl::Status first_error;
};
CutResult WriteThroughCut(Session& session, const std::shared_ptr<const PreparedStatement>& upsert, Proxy& proxy,
                          int n, int cut_after, bool keep_listening, bool idempotent) {
  std::atomic<int> acked{0};
  std::promise<void> reached;
  CompletionGroup group;
  StatementOptions opts;
  opts.idempotent = idempotent;
  for (int i = 0; i < n; ++i) {
    const Value row[] = {Value::FromUuid(UserUuid(i)), Value::FromDate(5), Value::FromBigint(i)};
    session.ExecuteAsync(upsert, row, opts, group.Add([&](absl::StatusOr<Result> r) {
      if (r.ok() && ++acked == cut_after) reached.set_value();
    }));
  }
  reached.get_future().wait();
  proxy.Cut(keep_listening);
  absl::Status s = group.WaitFor(absl::Seconds(60));
  EXPECT_NE(s.code(), absl::StatusCode::kDeadlineExceeded) << "requests hang after the cut: " << s;
  return CutResult{group.succeeded(), group.failed(), s};
}

TEST_F(CqlClientTest, LostConnectionMidPipelineIsRetriedForIdempotentWrites) {
  const std::string table = absl::StrCat(Keyspace(), ".cut");
  {
    absl::StatusOr<std::unique_ptr<Session>> direct = Session::Connect(Options(CassandraAddress()));
    ASSERT_TRUE(direct.ok()) << direct.status();
    CreateTable(**direct, "cut");
  }
  Proxy proxy(*ParseEndpoint(CassandraAddress()));
  SessionOptions o = Options(proxy.address());
  o.max_retries = 8;
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_TRUE(s.ok()) << s.status();
  auto upsert = (*s)->Prepare(Upsert(table));
  ASSERT_TRUE(upsert.ok()) << upsert.status();

  // The proxy cuts the connection and takes the next one: every idempotent
  // write lands, those in flight after a retry on the new connection.
  CutResult r = WriteThroughCut(**s, *upsert, proxy, 5000, 500, /*keep_listening=*/true, /*idempotent=*/true);
  EXPECT_EQ(r.succeeded, 5000) << r.first_error;
  EXPECT_EQ(r.failed, 0);
  EXPECT_GE(proxy.accepted(), 2);
  EXPECT_EQ((*s)->Stats().connections_lost, 1);
  EXPECT_EQ((*s)->Hosts()[0].connections_up, 1);

  absl::StatusOr<std::unique_ptr<Session>> direct = Session::Connect(Options(CassandraAddress()));
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(ReadAll(**direct, table).size(), 5000u);
}

TEST_F(CqlClientTest, LostConnectionMidPipelineWithNoWayBackFailsEveryPendingRequest) {
  const std::string table = absl::StrCat(Keyspace(), ".cut_for_good");
  {
    absl::StatusOr<std::unique_ptr<Session>> direct = Session::Connect(Options(CassandraAddress()));
    ASSERT_TRUE(direct.ok()) << direct.status();
    CreateTable(**direct, "cut_for_good");
  }
  Proxy proxy(*ParseEndpoint(CassandraAddress()));
  SessionOptions o = Options(proxy.address());
  o.max_retries = 3;
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_TRUE(s.ok()) << s.status();
  auto upsert = (*s)->Prepare(Upsert(table));
  ASSERT_TRUE(upsert.ok()) << upsert.status();

  // Not idempotent, and the proxy goes away: what was acknowledged stays, the
  // rest fails with UNAVAILABLE (lost in flight, or no connection left), and
  // nothing hangs.
  CutResult r = WriteThroughCut(**s, *upsert, proxy, 5000, 500, /*keep_listening=*/false, /*idempotent=*/false);
  EXPECT_GE(r.succeeded, 500);
  EXPECT_GT(r.failed, 0);
  EXPECT_EQ(r.succeeded + r.failed, 5000);
  EXPECT_EQ(r.first_error.code(), absl::StatusCode::kUnavailable) << r.first_error;
  EXPECT_EQ((*s)->Hosts()[0].connections_up, 0);
}

}  // namespace
}  // namespace tally::cql
