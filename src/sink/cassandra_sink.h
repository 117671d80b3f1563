#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cql/completion_group.h"
#include "cql/session.h"
#include "sink/sink.h"

namespace tally {

// The table the counts go to, as the command line names it:
//   cassandra://HOST:PORT[,HOST:PORT...]/KEYSPACE.TABLE
struct CassandraTable {
  std::vector<std::string> hosts;  // "host:port"
  std::string keyspace;            // lower case: CQL folds unquoted names
  std::string table;

  std::string Describe() const;  // "cassandra://127.0.0.1:9042/tally.daily_counts"
};

// Parses a cassandra:// endpoint; the message names the text and the form.
absl::StatusOr<CassandraTable> ParseCassandraTable(std::string_view text);
bool IsCassandraTable(std::string_view text);

struct CassandraSinkOptions {
  CassandraTable table;
  // The keyspace's replication if the sink creates it (a CQL map literal).
  std::string replication = "{'class': 'SimpleStrategy', 'replication_factor': 1}";
  std::string username;  // SASL PLAIN when not empty
  std::string password;
  std::shared_ptr<const cql::SaslAuthenticator> sasl;  // instead of PLAIN when set (Keyspaces SigV4)
  bool tls = false;
  std::string ca_file;
  bool verify_server_certificate = true;
  // Requests (single upserts or one learner's batch) in flight at most. At
  // the bound, the writer waits until half of them are answered.
  int max_in_flight = 1024;
  int connections_per_host = 2;
  // No answer to any request of a trigger's write for this long fails the
  // write with DEADLINE_EXCEEDED (an outage to the trigger loop), however
  // many retries the session has left: a server that accepts requests but
  // never answers is reported, not waited on in silence. Also each attempt's
  // timeout in the session.
  absl::Duration request_timeout = absl::Seconds(12);
  // Set (by a signal handler) when the run should stop. A write in progress
  // is then given stop_grace to finish, and abandoned after it with
  // CANCELLED (nothing is committed; a restart redoes the trigger).
  const std::atomic<bool>* stop = nullptr;
  absl::Duration stop_grace = absl::Seconds(20);
};

// Writes each trigger's changed rows to a Cassandra (or Amazon Keyspaces)
// table of this shape, created if missing:
//   (user_uuid uuid, created_date date, event_count bigint,
//    PRIMARY KEY ((user_uuid), created_date))
// Rows hold absolute counts, so writing a row again (a retry, a replay) is
// harmless. Each write carries its count as its Cassandra write timestamp
// (USING TIMESTAMP): a row's counts only grow, so a newer count always has
// the larger timestamp and the older one loses, whatever order they arrive
// in. A stale writer (a process replaying after a crash, a zombie that lost
// its partition) can never take a row back to an older count, and a replay
// of the same count is the same cell. The price: a write at a wall-clock
// timestamp (a DELETE or UPDATE from cqlsh) shadows every later tally write
// of the row; see docs/fault-tolerance.md. Rows of one learner go in one UNLOGGED batch (one partition, so
// one mutation); batches and single rows go out concurrently, at consistency
// LOCAL_QUORUM, and Write returns OK only when every one is acknowledged, so a
// trigger counts as done only once its rows are durable. Write is bounded in
// time (see request_timeout and stop above): it gives up on requests still
// unanswered, which the session keeps retrying in the background until their
// own retries end or the sink is destroyed; being idempotent, they are
// harmless if they land late.
//
// Not thread-safe (one trigger loop); the session inside is.
class CassandraSink final : public Sink {
 public:
  // The write timestamp of a row: its count (see above).
  static int64_t WriteTimestamp(const DailyCount& row) { return row.count; }

  // Connects, creates the keyspace and table if missing, checks the table's
  // shape and prepares the upsert. Fails with a message naming the endpoint,
  // the problem and what to do; a table of another shape is refused.
  static absl::StatusOr<std::unique_ptr<CassandraSink>> Open(const CassandraSinkOptions& options);
  CassandraSink(CassandraSinkOptions options, std::unique_ptr<cql::Session> session,
                std::shared_ptr<const cql::PreparedStatement> upsert);

  absl::Status Write(int64_t batch_id, const TriggerOutput& output) override;
  absl::Status Commit() override { return absl::OkStatus(); }  // every Write is durable
  std::string Describe() const override { return options_.table.Describe(); }

  cql::Session& session() { return *session_; }

 private:
  // Waits until at most `n` requests of `group` are pending, within the
  // bounds of request_timeout (since `*last_answer`, updated here) and stop.
  absl::Status Await(cql::CompletionGroup& group, int64_t n, absl::Time* last_answer, int64_t* answered,
                     absl::Time* stop_seen);

  CassandraSinkOptions options_;
  std::unique_ptr<cql::Session> session_;
  std::shared_ptr<const cql::PreparedStatement> upsert_;
  std::vector<DailyCount> rows_;    // reused: this trigger's rows, by learner
  std::vector<cql::Value> values_;  // reused: one request's bound values
};

}  // namespace tally
