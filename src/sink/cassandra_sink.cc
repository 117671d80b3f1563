#include "sink/cassandra_sink.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "aws/region.h"
#include "cql/completion_group.h"
#include "cql/endpoint.h"
#include "runtime/redact.h"

namespace tally {
namespace {

constexpr std::string_view kScheme = "cassandra://";

// Rows of one learner per unlogged batch at most: Amazon Keyspaces refuses
// batches of more than 30 statements.
constexpr size_t kMaxBatchRows = 30;

cql::StatementOptions At(cql::Consistency consistency, bool idempotent = false) {
  cql::StatementOptions options;
  options.consistency = consistency;
  options.idempotent = idempotent;
  return options;
}

// An unquoted CQL name: a letter, then letters, digits and '_', 48 at most
// (Cassandra's limit for keyspace and table names).
bool IsCqlName(std::string_view name) {
  if (name.empty() || name.size() > 48 || !absl::ascii_isalpha(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// What the table must look like: column, kind and type, as system_schema says.
struct ExpectedColumn {
  const char* name;
  const char* kind;
  const char* type;
};
constexpr ExpectedColumn kShape[] = {
    {"user_uuid", "partition_key", "uuid"},
    {"created_date", "clustering", "date"},
    {"event_count", "regular", "bigint"},
};

std::string ShapeText() {
  return "(user_uuid uuid, created_date date, event_count bigint, PRIMARY KEY ((user_uuid), created_date))";
}

// A refusal for lack of a permission (Cassandra's Unauthorized, an IAM
// denial on Amazon Keyspaces) says what the login needs.
std::string PermissionHint(const absl::Status& s) {
  if (!absl::IsPermissionDenied(s)) return "";
  return ". The login needs SELECT on system_schema and MODIFY on the table (Amazon Keyspaces: the IAM policy in "
         "docs/operations.md)";
}

// How long a prepare waits for a table that the schema tables already show
// to reach the coordinator's schema (see Open).
constexpr absl::Duration kSchemaSettleBound = absl::Seconds(10);

// Cassandra's answer to a statement on a table its schema does not hold (yet).
bool IsTableNotYetKnown(const absl::Status& s) {
  return absl::IsInvalidArgument(s) &&
         (absl::StrContains(s.message(), "does not exist") || absl::StrContains(s.message(), "unconfigured table"));
}

// Checks the live table against kShape; names every difference.
absl::Status CheckShape(cql::Session& session, const CassandraTable& t) {
  auto result = session.Query(
      "SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
      At(cql::Consistency::kLocalOne),
      {cql::Value::FromText(t.keyspace), cql::Value::FromText(t.table)});
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat(t.Describe(), ": cannot read the table's schema: ", result.status().message(),
                                     PermissionHint(result.status())));
  }
  const cql::Rows* rows = result->rows();
  if (rows == nullptr) return absl::InternalError(absl::StrCat(t.Describe(), ": schema query returned no rows"));
  std::vector<std::string> found, problems;
  bool present[std::size(kShape)] = {};
  for (int r = 0; r < rows->row_count(); ++r) {
    auto name = rows->GetText(r, 0);
    auto kind = rows->GetText(r, 1);
    auto type = rows->GetText(r, 2);
    if (!name.ok() || !kind.ok() || !type.ok()) {
      return absl::InternalError(absl::StrCat(t.Describe(), ": unreadable schema row"));
    }
    found.push_back(absl::StrCat(*name, " ", *type, " (", *kind, ")"));
    const ExpectedColumn* expected = nullptr;
    for (size_t c = 0; c < std::size(kShape); ++c) {
      if (*name == kShape[c].name) {
        expected = &kShape[c];
        present[c] = true;
      }
    }
    if (expected == nullptr) {
      problems.push_back(absl::StrCat("unexpected column ", *name));
    } else if (*kind != expected->kind || *type != expected->type) {
      problems.push_back(absl::StrCat(*name, " is ", *type, " (", *kind, "), not ", expected->type, " (",
                                      expected->kind, ")"));
    }
  }
  for (size_t c = 0; c < std::size(kShape); ++c) {
    if (!present[c]) problems.push_back(absl::StrCat("no column ", kShape[c].name));
  }
  if (problems.empty()) return absl::OkStatus();
  std::sort(found.begin(), found.end());
  return absl::FailedPreconditionError(absl::StrCat(
      t.Describe(), ": the table exists with another shape (", absl::StrJoin(problems, "; "), "; it has ",
      absl::StrJoin(found, ", "), "). tally writes ", ShapeText(),
      ": name another table in --sink, or drop this one if it is tally's from an older version"));
}

}  // namespace

std::string CassandraTable::Describe() const {
  return absl::StrCat("cassandra://", absl::StrJoin(hosts, ","), "/", keyspace, ".", table);
}

bool IsCassandraTable(std::string_view text) { return text.substr(0, kScheme.size()) == kScheme; }

absl::StatusOr<CassandraTable> ParseCassandraTable(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("'", RedactUserinfo(text), "': ", std::string(why),
                                                   " (expected cassandra://HOST:PORT[,HOST:PORT...]/KEYSPACE.TABLE)"));
  };
  if (!IsCassandraTable(text)) return invalid("not a cassandra:// endpoint");
  if (HasUserinfo(text)) {
    return invalid(
        "credentials do not belong in the endpoint, where messages and process lists show them: give "
        "--cassandra-username USER and the password in TALLY_CASSANDRA_PASSWORD");
  }
  const std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid("no KEYSPACE.TABLE");
  CassandraTable t;
  const std::string_view hosts = rest.substr(0, slash);
  if (hosts.empty()) return invalid("no host");
  for (absl::string_view h : absl::StrSplit(absl::string_view(hosts.data(), hosts.size()), ',')) {
    auto endpoint = cql::ParseEndpoint(h);
    if (!endpoint.ok()) return invalid(absl::StrCat("host '", std::string(h.data(), h.size()), "' is not HOST:PORT"));
    t.hosts.push_back(endpoint->ToString());
  }
  const std::string_view name = rest.substr(slash + 1);
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return invalid("no KEYSPACE.TABLE");
  t.keyspace = absl::AsciiStrToLower(absl::string_view(name.data(), dot));
  t.table = absl::AsciiStrToLower(absl::string_view(name.data() + dot + 1, name.size() - dot - 1));
  if (!IsCqlName(t.keyspace) || !IsCqlName(t.table)) {
    return invalid("keyspace and table are names of letters, digits and '_', starting with a letter");
  }
  return t;
}

absl::StatusOr<std::unique_ptr<CassandraSink>> CassandraSink::Open(const CassandraSinkOptions& options) {
  const CassandraTable& t = options.table;
  cql::SessionOptions session_options;
  session_options.hosts = t.hosts;
  session_options.username = options.username;
  session_options.password = options.password;
  session_options.sasl = options.sasl;
  session_options.tls = options.tls;
  session_options.ca_file = options.ca_file;
  session_options.verify_server_certificate = options.verify_server_certificate;
  session_options.connections_per_host = options.connections_per_host;
  session_options.request_timeout = options.request_timeout;
  auto session = cql::Session::Connect(session_options);
  if (!session.ok()) {
    std::string hint;
    if (absl::IsUnavailable(session.status()) || absl::IsDeadlineExceeded(session.status())) {
      const std::string region = aws::KeyspacesEndpointRegion(t.hosts.front());
      hint = region.empty() ? ". Is Cassandra running and reachable? Locally: scripts/local-stack start cassandra"
                            : absl::StrCat(". Is ", region,
                                           " a region where Amazon Keyspaces runs, and does this network reach it?");
    }
    return absl::Status(session.status().code(), absl::StrCat(t.Describe(), ": ", session.status().message(), hint));
  }
  auto ddl = [&](const std::string& statement) -> absl::Status {
    auto r = (*session)->Query(statement, At(cql::Consistency::kLocalQuorum));
    if (r.ok()) return absl::OkStatus();
    return absl::Status(r.status().code(), absl::StrCat(t.Describe(), ": ", statement, ": ", r.status().message(),
                                                        absl::IsPermissionDenied(r.status())
                                                            ? ". Create the keyspace and table beforehand (tally then "
                                                              "issues no DDL), or allow the login to create them"
                                                            : ""));
  };
  // A table already there of the right shape needs no DDL: a role allowed
  // only to write it and read the schema (Amazon Keyspaces' least privilege,
  // docs/operations.md) would be refused even CREATE ... IF NOT EXISTS.
  if (absl::Status shape = CheckShape(**session, t); !shape.ok()) {
    // Not allowed to read the schema: creating cannot help, the check after would fail the same.
    if (absl::IsPermissionDenied(shape)) return shape;
    if (auto s = ddl(absl::StrCat("CREATE KEYSPACE IF NOT EXISTS ", t.keyspace, " WITH replication = ",
                                  options.replication));
        !s.ok()) {
      return s;
    }
    if (auto s = ddl(absl::StrCat("CREATE TABLE IF NOT EXISTS ", t.keyspace, ".", t.table,
                                  " (user_uuid uuid, created_date date, event_count bigint, "
                                  "PRIMARY KEY ((user_uuid), created_date))"));
        !s.ok()) {
      return s;
    }
    if (auto s = CheckShape(**session, t); !s.ok()) return s;
  }
  const std::string insert = absl::StrCat("INSERT INTO ", t.keyspace, ".", t.table,
                                         " (user_uuid, created_date, event_count) VALUES (?, ?, ?) USING TIMESTAMP ?");
  auto upsert = (*session)->Prepare(insert);
  // A table another process of the job has just created can be in
  // system_schema (the shape check saw it) before the coordinator's own schema
  // holds it: the prepare then finds no such table for a moment. Wait that out,
  // for a bounded time; a table really missing still fails after it.
  for (absl::Duration wait = absl::Milliseconds(50), waited = absl::ZeroDuration();
       !upsert.ok() && IsTableNotYetKnown(upsert.status()) && waited < kSchemaSettleBound; waited += wait, wait *= 2) {
    absl::SleepFor(wait);
    upsert = (*session)->Prepare(insert);
  }
  if (!upsert.ok()) {
    return absl::Status(upsert.status().code(),
                        absl::StrCat(t.Describe(), ": cannot prepare the upsert: ", upsert.status().message(),
                                     PermissionHint(upsert.status())));
  }
  return std::make_unique<CassandraSink>(options, std::move(*session), std::move(*upsert));
}

CassandraSink::CassandraSink(CassandraSinkOptions options, std::unique_ptr<cql::Session> session,
                             std::shared_ptr<const cql::PreparedStatement> upsert)
    : options_(std::move(options)), session_(std::move(session)), upsert_(std::move(upsert)) {}

absl::Status CassandraSink::Write(int64_t, const TriggerOutput& output) {
  if (output.updates.empty()) return absl::OkStatus();
  rows_.assign(output.updates.begin(), output.updates.end());
  std::sort(rows_.begin(), rows_.end(),
            [](const DailyCount& a, const DailyCount& b) { return a.user < b.user || (a.user == b.user && a.day < b.day); });
  const cql::StatementOptions write = At(cql::Consistency::kLocalQuorum, /*idempotent=*/true);
  // Shared with the callbacks: Write may return before every request is done.
  auto group = std::make_shared<cql::CompletionGroup>();
  const auto done = [&group] {
    return [group, count = group->Add()](absl::StatusOr<cql::Result> r) mutable { count(std::move(r)); };
  };
  absl::Time last_answer = absl::Now();
  absl::Time stop_seen = absl::InfiniteFuture();
  int64_t answered = 0;
  for (size_t begin = 0, end; begin < rows_.size(); begin = end) {
    for (end = begin + 1;
         end < rows_.size() && rows_[end].user == rows_[begin].user && end - begin < kMaxBatchRows; ++end) {
    }
    // At the bound, wait for the low-water mark: the writer wakes once per
    // burst of completions and sends a burst, rather than one request per
    // completion (a thread switch per request).
    if (group->pending() >= options_.max_in_flight) {
      if (auto s = Await(*group, options_.max_in_flight / 2, &last_answer, &answered, &stop_seen); !s.ok()) return s;
    }
    // The session encodes the request before it returns: one request's
    // values at a time, in a buffer reused for all of them.
    values_.clear();
    for (size_t i = begin; i < end; ++i) {
      const DailyCount& row = rows_[i];
      values_.push_back(cql::Value::FromUuid(row.user));
      values_.push_back(cql::Value::FromDate(row.day));
      values_.push_back(cql::Value::FromBigint(row.count));
      values_.push_back(cql::Value::FromBigint(WriteTimestamp(row)));
    }
    const absl::Span<const cql::Value> values(values_);
    if (end - begin == 1) {
      session_->ExecuteAsync(upsert_, values, write, done());
    } else {
      session_->ExecuteBatchAsync(upsert_, values, write, done());
    }
  }
  if (auto s = Await(*group, 0, &last_answer, &answered, &stop_seen); !s.ok()) return s;
  if (auto s = group->Wait(); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat(Describe(), ": writing ", rows_.size(), " rows: ", s.message(), PermissionHint(s)));
  }
  return absl::OkStatus();
}

absl::Status CassandraSink::Await(cql::CompletionGroup& group, int64_t n, absl::Time* last_answer, int64_t* answered,
                                  absl::Time* stop_seen) {
  // Polled: the stop flag is set by a signal handler, which cannot notify.
  constexpr absl::Duration kPoll = absl::Milliseconds(100);
  while (!group.WaitForPendingAtMost(n, kPoll)) {
    const absl::Time now = absl::Now();
    if (const int64_t a = group.succeeded() + group.failed(); a != *answered) {
      *answered = a;
      *last_answer = now;
    }
    const auto unanswered = [&] {
      return absl::StrCat(group.pending(), " of ", group.pending() + *answered, " requests for ", rows_.size(),
                          " rows unanswered");
    };
    if (now - *last_answer >= options_.request_timeout) {
      return absl::DeadlineExceededError(absl::StrCat(Describe(), ": no answer for ",
                                                      absl::FormatDuration(options_.request_timeout), " (",
                                                      unanswered(), ")"));
    }
    if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) {
      if (*stop_seen == absl::InfiniteFuture()) *stop_seen = now;
      if (now - *stop_seen >= options_.stop_grace) {
        return absl::CancelledError(absl::StrCat(Describe(), ": stopped; the write of this trigger did not finish within ",
                                                 absl::FormatDuration(options_.stop_grace), " (", unanswered(),
                                                 "); the trigger was not committed and a restart redoes it"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tally
