#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "cql/consistency.h"
#include "cql/prepared_statement.h"
#include "cql/result.h"
#include "cql/sasl_authenticator.h"
#include "cql/value.h"

namespace tally::cql {

struct SessionOptions {
  // "host:port" (port 9042 when left out; IPv6 as "[::1]:9042"). At least one.
  std::vector<std::string> hosts;
  // Made every connection's keyspace (USE) when not empty; must then exist.
  std::string keyspace;
  // SASL PLAIN credentials (PasswordAuthenticator, Amazon Keyspaces'
  // service-specific credentials); none when username is empty.
  std::string username;
  std::string password;
  // Another SASL mechanism, used instead of PLAIN when set (Amazon
  // Keyspaces' SigV4: cql/sigv4_sasl.h). Shared by every connection.
  std::shared_ptr<const SaslAuthenticator> sasl;
  // TLS (Amazon Keyspaces requires it, on port 9142).
  bool tls = false;
  std::string ca_file;  // PEM; empty: the system's trust store
  // Check the certificate chain and that the certificate names the host.
  bool verify_server_certificate = true;

  int connections_per_host = 1;
  // Requests in flight per connection (stream ids), 1..32768.
  int max_streams_per_connection = 1024;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Per attempt: no response within it fails the attempt with DEADLINE_EXCEEDED.
  absl::Duration request_timeout = absl::Seconds(12);
  // Retries of a failed attempt, per request (see retry_policy.h for which
  // failures are retried), and the exponential backoff between them, which
  // also paces reconnection to a host that went away.
  int max_retries = 5;
  absl::Duration backoff_base = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(10);

  // Told about connection events: a host that cannot be reached, a
  // connection lost, a reconnection. Called on the io thread; must not block.
  std::function<void(absl::string_view message)> log;
};

// How one request is run.
struct StatementOptions {
  Consistency consistency = Consistency::kLocalQuorum;
  // Whether running the statement twice is harmless. Only idempotent
  // statements are retried after a timeout or a lost connection, when the
  // first attempt may have been applied. Upserts of fixed values are.
  bool idempotent = false;
  int32_t page_size = 0;  // > 0: page the result (Rows::metadata().paging_state)
  std::optional<std::string> paging_state;
  std::optional<int64_t> default_timestamp;  // microseconds since the epoch
};

// What a session knows of one host.
struct HostStatus {
  std::string endpoint;  // "host:port"
  int connections_up = 0;
  int connections = 0;  // configured
  absl::Status last_error;  // of the last failed connect or lost connection; OK if none
};

// Counters since the session connected, for metrics and tests.
struct SessionStats {
  int64_t requests = 0;          // submitted by the caller
  int64_t retries = 0;           // attempts scheduled again after a failure
  int64_t reprepares = 0;        // PREPAREs sent again after UNPREPARED
  int64_t client_timeouts = 0;   // attempts with no response within request_timeout
  int64_t connections_lost = 0;  // connections that were up and went down
};

// A client of a Cassandra cluster (or Amazon Keyspaces) over the CQL native
// protocol v4: a pool of connections to the given hosts, prepared statements,
// retries and reconnection. Requests go round-robin over the connections that
// are up, many in flight on each (pipelined by stream id).
//
// Values are encoded into the request before a method returns (the session
// keeps no copy): the caller may reuse their buffer at once.
//
// The async methods return at once; their callback runs exactly once, on the
// session's io thread, and must not block (a CompletionGroup's callbacks do
// not). A request refused before it is sent (values that do not fit the
// statement, a closed session) has its callback run on the calling thread
// before the method returns. The blocking methods must not be called from such a callback: they
// fail with FAILED_PRECONDITION instead of deadlocking.
//
// Errors: a server's error surfaces as ToStatus (server_error.h) makes it,
// naming the host and quoting the server ("cassandra 127.0.0.1:9042: Syntax
// error (0x2000): line 1:7 ..."); retries exhausted give the last attempt's
// error with "(after N retries)"; no host up gives UNAVAILABLE.
//
// Threading: a session owns one io thread that runs all network work. Every
// method is safe to call from any thread concurrently. Destruction (or Close)
// fails the requests still pending with UNAVAILABLE, runs their callbacks, and
// joins the io thread; so neither may happen in one of its callbacks.
//
// Flow control: requests beyond the free stream ids of all connections wait
// in an unbounded queue; bound what is in flight with a CompletionGroup.
class Session {
 public:
  // Connects every connection of every host (TCP/TLS, OPTIONS, STARTUP,
  // authentication, USE keyspace) in parallel. Succeeds when at least one
  // connection is up; hosts that failed are reported through options.log and
  // Hosts(), and reconnected in the background. Fails with INVALID_ARGUMENT
  // for bad options, or with UNAVAILABLE / UNAUTHENTICATED / ... naming each
  // host and its error when no connection could be made.
  static absl::StatusOr<std::unique_ptr<Session>> Connect(SessionOptions options);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // Fails pending requests with UNAVAILABLE and stops the io thread. Later
  // requests fail with UNAVAILABLE. Idempotent.
  void Close();

  // Prepares `query` on every host that is up and returns its handle; the same
  // text returns the same handle (cached by the session). A server that has
  // forgotten the statement (UNPREPARED, 0x2500) gets it prepared again on the
  // connection that said so, and the request is then sent again.
  absl::StatusOr<std::shared_ptr<const PreparedStatement>> Prepare(absl::string_view query);

  // A statement not prepared (DDL, one-off queries). `values` bind positional
  // markers and must already be serialized for their columns' types.
  absl::StatusOr<Result> Query(absl::string_view query, const StatementOptions& options = {},
                               absl::Span<const Value> values = {});
  void QueryAsync(absl::string_view query, const StatementOptions& options, absl::Span<const Value> values,
                  ResultCallback done);

  // Executes a prepared statement with one value per bind marker.
  absl::StatusOr<Result> Execute(const std::shared_ptr<const PreparedStatement>& statement,
                                 absl::Span<const Value> values, const StatementOptions& options = {});
  void ExecuteAsync(const std::shared_ptr<const PreparedStatement>& statement, absl::Span<const Value> values,
                    const StatementOptions& options, ResultCallback done);

  // One UNLOGGED batch of the statement executed once per row; `rows` holds
  // the rows' values back to back (bind_count() values per row, so its size
  // is a multiple of it). Unlogged batches are atomic only within one
  // partition: group rows by partition key.
  absl::StatusOr<Result> ExecuteBatch(const std::shared_ptr<const PreparedStatement>& statement,
                                      absl::Span<const Value> rows, const StatementOptions& options = {});
  void ExecuteBatchAsync(const std::shared_ptr<const PreparedStatement>& statement, absl::Span<const Value> rows,
                         const StatementOptions& options, ResultCallback done);

  std::vector<HostStatus> Hosts() const;
  SessionStats Stats() const;

  class Impl;  // session.cc
  // Use Connect; an Impl cannot be made elsewhere.
  explicit Session(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::cql
