#include "cql/session.h"

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cql/connection.h"
#include "cql/endpoint.h"
#include "cql/handshake.h"
#include "cql/request.h"
#include "cql/response.h"
#include "cql/retry_policy.h"
#include "cql/server_error.h"
#include "cql/tls_context.h"
#include "runtime/metrics.h"

namespace tally::cql {
namespace {

std::chrono::milliseconds ToMillis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

// `s` with `suffix` added to its message; code and payloads kept.
absl::Status WithSuffix(const absl::Status& s, absl::string_view suffix) {
  absl::Status out(s.code(), absl::StrCat(s.message(), suffix));
  s.ForEachPayload([&](absl::string_view key, const absl::Cord& value) { out.SetPayload(key, value); });
  return out;
}

// How often one request may meet UNPREPARED and prepare its statement again.
constexpr int kMaxReprepares = 3;

}  // namespace

// One logical request, through all its attempts. Shared by the session and the
// callbacks of the attempt in flight; touched by one thread at a time (the
// submitting thread until it is sent, then the io thread).
struct Call {
  enum class Kind : uint8_t { kQuery, kPrepare, kExecute, kBatch };
  Kind kind = Kind::kQuery;
  std::string query;                                   // kQuery, kPrepare
  std::shared_ptr<const PreparedStatement> statement;  // kExecute, kBatch
  StatementOptions options;
  ResultCallback done;
  std::shared_ptr<Connection> pinned;  // when set, attempts go to this connection only
  // The encoded request, made once from the caller's values (which are not
  // kept); after a re-prepare only its prepared id is rewritten.
  std::string frame;
  std::shared_ptr<Connection> conn;    // of the latest attempt
  std::chrono::steady_clock::time_point sent;  // the latest attempt's, for its latency
  int retries = 0;
  int reprepares = 0;
  std::unique_ptr<asio::steady_timer> backoff;
  Session::Impl* session = nullptr;
};

class Session::Impl {
 public:
  explicit Impl(SessionOptions options) : options_(std::move(options)), work_(asio::make_work_guard(io_)) {}
  ~Impl() { Close(); }

  absl::Status Start();
  void Close();

  // Encodes the call with `values` (a view, used before Submit returns) and
  // sends (or queues, or schedules) it; see Dispatch.
  void Submit(std::shared_ptr<Call> call, absl::Span<const Value> values);
  // Submits and blocks for the outcome.
  absl::StatusOr<Result> Await(std::shared_ptr<Call> call, absl::Span<const Value> values);
  absl::StatusOr<std::shared_ptr<const PreparedStatement>> Prepare(absl::string_view query);
  std::vector<HostStatus> Hosts() const;
  SessionStats Stats() const {
    SessionStats out;
    out.requests = requests_.load(std::memory_order_relaxed);
    out.retries = retries_.load(std::memory_order_relaxed);
    out.reprepares = reprepares_.load(std::memory_order_relaxed);
    out.client_timeouts = client_timeouts_.load(std::memory_order_relaxed);
    out.connections_lost = connections_lost_.load(std::memory_order_relaxed);
    return out;
  }

  static void Complete(const std::shared_ptr<Call>& call, absl::StatusOr<Result> outcome) {
    auto done = std::move(call->done);
    call->done = nullptr;
    if (done) done(std::move(outcome));
  }

 private:
  struct Host;
  // One connection of a host, through its reconnections.
  struct Slot {
    Host* host = nullptr;
    uint64_t generation = 0;            // guarded by mu_; bumped per connection attempt
    std::shared_ptr<Connection> conn;   // guarded by mu_; connecting or up
    bool up = false;                    // guarded by mu_
    bool reported = false;              // guarded by mu_; first outcome known
    int failures = 0;                   // guarded by mu_; in a row, paces reconnection
    std::unique_ptr<asio::steady_timer> reconnect;  // io thread, under mu_
  };
  struct Host {
    Endpoint endpoint;
    std::string name;
    std::vector<std::unique_ptr<Slot>> slots;
    absl::Status last_error;  // guarded by mu_
  };

  bool OnIoThread() const { return std::this_thread::get_id() == io_thread_id_; }
  void Log(absl::string_view message) {
    if (options_.log) options_.log(message);
  }

  absl::Status Encode(Call& call, absl::Span<const Value> values);
  QueryParameters Params(const Call& call, absl::Span<const Value> values) const;

  void Dispatch(std::shared_ptr<Call> call);
  bool TrySendLocked(const std::shared_ptr<Call>& call);
  absl::Status SendOn(const std::shared_ptr<Call>& call, const std::shared_ptr<Connection>& conn);
  void DrainLocked();
  void Drain();
  absl::Status NoConnectionLocked() const;

  void OnResponse(std::shared_ptr<Call> call, absl::StatusOr<Frame> frame);
  void Failed(std::shared_ptr<Call> call, absl::Status status);
  void RetryLater(std::shared_ptr<Call> call, absl::Status why);
  void OnBackoffDone(std::shared_ptr<Call> call);
  void Reprepare(std::shared_ptr<Call> call);
  void OnReprepared(std::shared_ptr<Call> call, absl::StatusOr<Frame> frame);

  void StartSlot(Slot* slot);
  void OnSlotUp(Slot* slot, uint64_t generation, std::shared_ptr<Connection> conn);
  void OnSlotFailed(Slot* slot, uint64_t generation, const absl::Status& status);
  void OnConnectionLost(Slot* slot, uint64_t generation, const absl::Status& why);
  std::chrono::milliseconds ScheduleReconnectLocked(Slot* slot);
  void MarkReportedLocked(Slot* slot);
  void ShutdownOnIo();

  const SessionOptions options_;
  std::chrono::milliseconds request_timeout_{0};
  std::chrono::milliseconds backoff_base_{0};
  std::chrono::milliseconds backoff_max_{0};
  std::shared_ptr<asio::ssl::context> tls_;
  HandshakeOptions handshake_;

  // Declared before everything that holds asio objects, so destroyed after.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::thread::id io_thread_id_;

  std::vector<std::unique_ptr<Host>> hosts_;  // fixed after Start

  std::mutex close_mu_;
  mutable std::mutex mu_;
  std::condition_variable reported_cv_;
  int reported_ = 0;                                // guarded by mu_
  int slot_count_ = 0;
  bool closing_ = false;                            // guarded by mu_
  std::vector<std::shared_ptr<Connection>> up_;     // guarded by mu_: ready for requests
  size_t next_ = 0;                                 // guarded by mu_: round robin over up_
  std::deque<std::shared_ptr<Call>> waiting_;       // guarded by mu_: for a free stream id
  std::atomic<int64_t> waiting_count_{0};
  absl::flat_hash_set<Call*> backing_off_;          // guarded by mu_
  absl::BitGen bitgen_;                             // guarded by mu_
  absl::flat_hash_map<std::string, std::shared_ptr<const PreparedStatement>> prepared_;  // guarded by mu_

  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> reprepares_{0};
  std::atomic<int64_t> client_timeouts_{0};
  std::atomic<int64_t> connections_lost_{0};
};

// --- starting and stopping ---

absl::Status Session::Impl::Start() {
  if (options_.hosts.empty()) return absl::InvalidArgumentError("no Cassandra host given");
  if (options_.connections_per_host < 1) return absl::InvalidArgumentError("connections per host must be >= 1");
  if (options_.max_streams_per_connection < 1 || options_.max_streams_per_connection > 32768) {
    return absl::InvalidArgumentError("streams per connection must be 1..32768");
  }
  if (options_.max_retries < 0) return absl::InvalidArgumentError("max retries must be >= 0");
  if (options_.request_timeout <= absl::ZeroDuration() || options_.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  for (const std::string& text : options_.hosts) {
    absl::StatusOr<Endpoint> e = ParseEndpoint(text);
    if (!e.ok()) return e.status();
    auto host = std::make_unique<Host>();
    host->endpoint = *e;
    host->name = e->ToString();
    for (int i = 0; i < options_.connections_per_host; ++i) {
      host->slots.push_back(std::make_unique<Slot>());
      host->slots.back()->host = host.get();
      ++slot_count_;
    }
    hosts_.push_back(std::move(host));
  }
  if (options_.tls) {
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> ctx =
        MakeTlsContext(TlsOptions{options_.ca_file, options_.verify_server_certificate});
    if (!ctx.ok()) return ctx.status();
    tls_ = std::move(*ctx);
  }
  request_timeout_ = ToMillis(options_.request_timeout);
  backoff_base_ = ToMillis(options_.backoff_base);
  backoff_max_ = ToMillis(options_.backoff_max);
  handshake_.username = options_.username;
  handshake_.password = options_.password;
  handshake_.sasl = options_.sasl;
  handshake_.keyspace = options_.keyspace;
  handshake_.timeout = ToMillis(options_.connect_timeout);

  std::promise<std::thread::id> id;
  std::future<std::thread::id> id_known = id.get_future();
  io_thread_ = std::thread([this, &id] {
    id.set_value(std::this_thread::get_id());
    io_.run();
  });
  io_thread_id_ = id_known.get();
  asio::post(io_, [this] {
    for (auto& host : hosts_) {
      for (auto& slot : host->slots) StartSlot(slot.get());
    }
  });

  // Every slot reports within the connect timeout plus the handshake's.
  std::unique_lock<std::mutex> lock(mu_);
  reported_cv_.wait(lock, [this] { return reported_ == slot_count_; });
  if (!up_.empty()) return absl::OkStatus();
  // The first host's error, so that e.g. bad credentials stay UNAUTHENTICATED,
  // with every host's message.
  absl::Status first;
  std::string all;
  for (const auto& host : hosts_) {
    if (first.ok()) first = host->last_error;
    absl::StrAppend(&all, all.empty() ? "" : "; ", host->last_error.message());
  }
  lock.unlock();
  absl::Status failed(first.code(), absl::StrCat("no connection to any Cassandra host: ", all));
  first.ForEachPayload([&](absl::string_view key, const absl::Cord& value) { failed.SetPayload(key, value); });
  return failed;
}

void Session::Impl::Close() {
  std::lock_guard<std::mutex> closing(close_mu_);  // a second caller waits for the first
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  if (!io_thread_.joinable()) return;
  asio::post(io_, [this] { ShutdownOnIo(); });
  work_.reset();
  io_thread_.join();
}

void Session::Impl::ShutdownOnIo() {
  std::vector<std::shared_ptr<Connection>> conns;
  std::deque<std::shared_ptr<Call>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(waiting_);
    waiting_count_ = 0;
    up_.clear();
    for (auto& host : hosts_) {
      for (auto& slot : host->slots) {
        if (slot->reconnect) slot->reconnect->cancel();
        if (slot->conn) conns.push_back(slot->conn);
        slot->up = false;
      }
    }
    for (Call* c : backing_off_) c->backoff->cancel();
  }
  const absl::Status closed = absl::UnavailableError("the session was closed");
  for (auto& conn : conns) conn->Close(closed);  // fails what is in flight
  for (auto& call : waiting) Complete(call, closed);
}

// --- requests ---

QueryParameters Session::Impl::Params(const Call& call, absl::Span<const Value> values) const {
  QueryParameters p;
  p.consistency = call.options.consistency;
  p.values = values;
  p.page_size = call.options.page_size;
  p.paging_state = call.options.paging_state;
  p.default_timestamp = call.options.default_timestamp;
  return p;
}

absl::Status Session::Impl::Encode(Call& call, absl::Span<const Value> values) {
  call.frame.clear();
  switch (call.kind) {
    case Call::Kind::kPrepare:
      return AppendPrepareRequest(&call.frame, 0, call.query);
    case Call::Kind::kQuery:
      return AppendQueryRequest(&call.frame, 0, call.query, Params(call, values));
    case Call::Kind::kExecute:
      return call.statement->WithId(
          [&](absl::string_view id) { return AppendExecuteRequest(&call.frame, 0, id, Params(call, values)); });
    case Call::Kind::kBatch: {
      const size_t per_row = static_cast<size_t>(call.statement->bind_count());
      thread_local std::vector<BatchEntry> entries;  // reused: no allocation per batch
      entries.clear();
      BatchParameters params;
      params.type = BatchType::kUnlogged;
      params.consistency = call.options.consistency;
      params.default_timestamp = call.options.default_timestamp;
      return call.statement->WithId([&](absl::string_view id) {
        const absl::Span<const Value> all(values);
        for (size_t i = 0; i < all.size(); i += per_row) entries.push_back({true, id, all.subspan(i, per_row)});
        return AppendBatchRequest(&call.frame, 0, entries, params);
      });
    }
  }
  return absl::InternalError("unknown request kind");
}

void Session::Impl::Submit(std::shared_ptr<Call> call, absl::Span<const Value> values) {
  call->session = this;
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (absl::Status s = Encode(*call, values); !s.ok()) return Complete(call, s);
  Dispatch(std::move(call));
}

absl::StatusOr<Result> Session::Impl::Await(std::shared_ptr<Call> call, absl::Span<const Value> values) {
  if (OnIoThread()) {
    return absl::FailedPreconditionError(
        "a blocking Session call was made on the session's io thread (from a callback); use the async methods there");
  }
  std::promise<absl::StatusOr<Result>> promise;
  std::future<absl::StatusOr<Result>> outcome = promise.get_future();
  call->done = [&promise](absl::StatusOr<Result> r) { promise.set_value(std::move(r)); };
  Submit(std::move(call), values);
  return outcome.get();
}

absl::Status Session::Impl::SendOn(const std::shared_ptr<Call>& call, const std::shared_ptr<Connection>& conn) {
  call->conn = conn;
  call->sent = std::chrono::steady_clock::now();
  absl::Status sent = conn->Send(call->frame, request_timeout_, [call](absl::StatusOr<Frame> frame) mutable {
    Session::Impl* self = call->session;
    self->OnResponse(std::move(call), std::move(frame));
  });
  if (sent.ok()) Metrics::Get().cassandra_in_flight().Increment();
  return sent;
}

// The kind of a failed attempt, for tally_cassandra_errors_total.
static Metrics::CassandraError ErrorKind(ErrorCode code) {
  switch (code) {
    case ErrorCode::kWriteTimeout:
    case ErrorCode::kReadTimeout:
      return Metrics::kTimeout;
    case ErrorCode::kUnavailable:
      return Metrics::kUnavailable;
    case ErrorCode::kOverloaded:
      return Metrics::kOverloaded;
    case ErrorCode::kWriteFailure:
      return Metrics::kWriteFailure;
    default:
      return Metrics::kOther;
  }
}

bool Session::Impl::TrySendLocked(const std::shared_ptr<Call>& call) {
  for (size_t tried = 0; tried < up_.size(); ++tried) {
    const std::shared_ptr<Connection>& conn = up_[next_++ % up_.size()];
    if (SendOn(call, conn).ok()) return true;  // else full, or closing under us: try the next
  }
  return false;
}

void Session::Impl::DrainLocked() {
  while (!waiting_.empty() && !closing_ && TrySendLocked(waiting_.front())) {
    waiting_.pop_front();
    --waiting_count_;
  }
}

void Session::Impl::Drain() {
  std::lock_guard<std::mutex> lock(mu_);
  DrainLocked();
}

absl::Status Session::Impl::NoConnectionLocked() const {
  std::string why;
  for (const auto& host : hosts_) {
    absl::StrAppend(&why, why.empty() ? "" : "; ", host->name, ": ",
                    host->last_error.ok() ? "connecting" : host->last_error.message());
  }
  return absl::UnavailableError(absl::StrCat("no connection to any Cassandra host (", why, ")"));
}

// Sends `call` on a connection that is up with a free stream id. If all are
// busy it waits in line for a stream id; if none is up, it is tried again
// after a backoff, whether idempotent or not, since nothing was sent.
void Session::Impl::Dispatch(std::shared_ptr<Call> call) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closing_) {
    lock.unlock();
    return Complete(call, absl::UnavailableError("the session was closed"));
  }
  if (call->pinned) {
    lock.unlock();
    if (absl::Status s = SendOn(call, call->pinned); !s.ok()) Complete(call, s);
    return;
  }
  if (up_.empty()) {
    absl::Status none = NoConnectionLocked();
    lock.unlock();
    return RetryLater(std::move(call), none);
  }
  if (waiting_.empty() && TrySendLocked(call)) return;
  waiting_.push_back(std::move(call));
  ++waiting_count_;
  DrainLocked();
}

void Session::Impl::OnResponse(std::shared_ptr<Call> call, absl::StatusOr<Frame> frame) {
  Metrics& metrics = Metrics::Get();
  metrics.cassandra_in_flight().Decrement();
  metrics.cassandra_request_duration().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - call->sent).count());
  if (!frame.ok()) {
    if (frame.status().code() == absl::StatusCode::kDeadlineExceeded) {
      client_timeouts_.fetch_add(1, std::memory_order_relaxed);
      metrics.cassandra_errors(Metrics::kTimeout).Increment();
    } else {
      metrics.cassandra_errors(Metrics::kConnection).Increment();
    }
    return Failed(std::move(call), frame.status());
  }
  absl::StatusOr<Response> response = ParseResponse(frame->header, frame->body);
  if (!response.ok()) {
    metrics.cassandra_errors(Metrics::kOther).Increment();
    return Complete(call, absl::Status(response.status().code(),
                                       absl::StrCat("cassandra ", call->conn->name(), ": ", response.status().message())));
  }
  if (const auto* error = std::get_if<ServerError>(&response->body)) {
    if (error->code == ErrorCode::kUnprepared && call->statement && call->reprepares < kMaxReprepares) {
      return Reprepare(std::move(call));
    }
    metrics.cassandra_errors(ErrorKind(error->code)).Increment();
    return Failed(std::move(call), ToStatus(*error, call->conn->name()));
  }
  if (auto* result = std::get_if<Result>(&response->body)) return Complete(call, std::move(*result));
  Complete(call, absl::DataLossError(absl::StrCat("cassandra ", call->conn->name(), ": unexpected ",
                                                  OpcodeName(frame->header.opcode), " in answer to a request")));
}

void Session::Impl::Failed(std::shared_ptr<Call> call, absl::Status status) {
  if (ShouldRetry(status, call->options.idempotent)) return RetryLater(std::move(call), std::move(status));
  Complete(call, std::move(status));
}

void Session::Impl::RetryLater(std::shared_ptr<Call> call, absl::Status why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closing_ && call->retries < options_.max_retries) {
      ++call->retries;
      retries_.fetch_add(1, std::memory_order_relaxed);
      const std::chrono::milliseconds delay = BackoffDelay(call->retries, backoff_base_, backoff_max_, bitgen_);
      if (!call->backoff) call->backoff = std::make_unique<asio::steady_timer>(io_);
      call->backoff->expires_after(delay);
      backing_off_.insert(call.get());
      call->backoff->async_wait([call](const asio::error_code&) mutable {
        Session::Impl* self = call->session;
        self->OnBackoffDone(std::move(call));
      });
      return;
    }
  }
  if (call->retries > 0) why = WithSuffix(why, absl::StrCat(" (after ", call->retries, " retries)"));
  Complete(call, why);
}

void Session::Impl::OnBackoffDone(std::shared_ptr<Call> call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    backing_off_.erase(call.get());
  }
  Dispatch(std::move(call));  // fails it if the session is closing
}

// The connection's server has forgotten the statement: prepare it there again,
// then send the request again on the same connection.
void Session::Impl::Reprepare(std::shared_ptr<Call> call) {
  ++call->reprepares;
  reprepares_.fetch_add(1, std::memory_order_relaxed);
  std::string frame;
  if (absl::Status s = AppendPrepareRequest(&frame, 0, call->statement->query()); !s.ok()) return Complete(call, s);
  std::shared_ptr<Connection> conn = call->conn;
  absl::Status sent = conn->Send(frame, request_timeout_, [call](absl::StatusOr<Frame> f) mutable {
    Session::Impl* self = call->session;
    self->OnReprepared(std::move(call), std::move(f));
  });
  if (!sent.ok()) Dispatch(std::move(call));
}

void Session::Impl::OnReprepared(std::shared_ptr<Call> call, absl::StatusOr<Frame> frame) {
  if (!frame.ok()) return Failed(std::move(call), frame.status());
  absl::StatusOr<Response> response = ParseResponse(frame->header, frame->body);
  if (!response.ok()) return Complete(call, response.status());
  if (const auto* error = std::get_if<ServerError>(&response->body)) {
    return Failed(std::move(call), ToStatus(*error, call->conn->name()));
  }
  const Result* result = std::get_if<Result>(&response->body);
  if (!result || !result->prepared()) {
    return Complete(call, absl::DataLossError(absl::StrCat("cassandra ", call->conn->name(),
                                                           ": no Prepared result in answer to PREPARE")));
  }
  if (call->statement->id() != result->prepared()->id) call->statement->UpdateId(result->prepared()->id);
  // Always rewrite the id: this request may carry one older than the statement's.
  if (absl::Status s = call->statement->WithId([&](absl::string_view id) { return ReplacePreparedId(&call->frame, id); });
      !s.ok()) {
    return Complete(call, s);
  }
  std::shared_ptr<Connection> conn = call->conn;
  if (!SendOn(call, conn).ok()) Dispatch(std::move(call));
}

absl::StatusOr<std::shared_ptr<const PreparedStatement>> Session::Impl::Prepare(absl::string_view query) {
  const std::string text(query);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = prepared_.find(text); it != prepared_.end()) return it->second;
  }
  auto call = std::make_shared<Call>();
  call->kind = Call::Kind::kPrepare;
  call->query = text;
  call->options.idempotent = true;
  absl::StatusOr<Result> first = Await(call, {});
  if (!first.ok()) return first.status();
  if (!first->prepared()) return absl::DataLossError("no Prepared result in answer to PREPARE");
  auto statement = std::make_shared<const PreparedStatement>(text, *first->prepared());

  // Prepare it on one connection of every other host that is up, so that the
  // first executions there need not meet UNPREPARED.
  std::vector<std::shared_ptr<Connection>> others;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& host : hosts_) {
      for (const auto& slot : host->slots) {
        if (slot->up && slot->conn->endpoint() != call->conn->endpoint()) {
          others.push_back(slot->conn);
          break;
        }
      }
    }
  }
  if (!others.empty()) {
    std::mutex done_mu;
    std::condition_variable done_cv;
    size_t remaining = others.size();
    for (auto& conn : others) {
      auto c = std::make_shared<Call>();
      c->kind = Call::Kind::kPrepare;
      c->query = text;
      c->pinned = conn;
      c->done = [&](absl::StatusOr<Result>) {  // best effort: UNPREPARED covers a failure
        std::lock_guard<std::mutex> lock(done_mu);
        if (--remaining == 0) done_cv.notify_all();
      };
      Submit(std::move(c), {});
    }
    std::unique_lock<std::mutex> lock(done_mu);
    done_cv.wait(lock, [&] { return remaining == 0; });
  }

  std::lock_guard<std::mutex> lock(mu_);
  return prepared_.try_emplace(text, std::move(statement)).first->second;  // a racing Prepare may have won
}

// --- connections ---

void Session::Impl::StartSlot(Slot* slot) {
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;
    generation = ++slot->generation;
  }
  ConnectionHooks hooks;
  hooks.on_close = [this, slot, generation](const absl::Status& why) { OnConnectionLost(slot, generation, why); };
  hooks.on_stream_released = [this] {
    if (waiting_count_.load(std::memory_order_relaxed) > 0) Drain();
  };
  ConnectionOptions copts;
  copts.endpoint = slot->host->endpoint;
  copts.tls = tls_;
  copts.connect_timeout = ToMillis(options_.connect_timeout);
  copts.max_streams = options_.max_streams_per_connection;
  std::shared_ptr<Connection> conn = Connection::Create(io_, std::move(copts), std::move(hooks));
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot->conn = conn;
  }
  conn->AsyncConnect([this, slot, generation, conn](absl::Status connected) {
    if (!connected.ok()) return OnSlotFailed(slot, generation, connected);
    AsyncHandshake(conn, handshake_, [this, slot, generation, conn](absl::StatusOr<HandshakeResult> ready) {
      if (!ready.ok()) {
        OnSlotFailed(slot, generation, ready.status());
        conn->Close(ready.status());
        return;
      }
      OnSlotUp(slot, generation, conn);
    });
  });
}

void Session::Impl::MarkReportedLocked(Slot* slot) {
  if (slot->reported) return;
  slot->reported = true;
  if (++reported_ == slot_count_) reported_cv_.notify_all();
}

std::chrono::milliseconds Session::Impl::ScheduleReconnectLocked(Slot* slot) {
  ++slot->failures;
  const std::chrono::milliseconds delay = BackoffDelay(slot->failures, backoff_base_, backoff_max_, bitgen_);
  if (!slot->reconnect) slot->reconnect = std::make_unique<asio::steady_timer>(io_);
  slot->reconnect->expires_after(delay);
  slot->reconnect->async_wait([this, slot](const asio::error_code& ec) {
    if (!ec) StartSlot(slot);
  });
  return delay;
}

void Session::Impl::OnSlotUp(Slot* slot, uint64_t generation, std::shared_ptr<Connection> conn) {
  bool reconnected;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_ || generation != slot->generation) {
      conn->Close(absl::UnavailableError("the session was closed"));
      return;
    }
    reconnected = slot->reported;
    slot->up = true;
    slot->failures = 0;
    up_.push_back(conn);
    MarkReportedLocked(slot);
    DrainLocked();
  }
  if (reconnected) Log(absl::StrCat("cassandra: reconnected to ", slot->host->name));
}

void Session::Impl::OnSlotFailed(Slot* slot, uint64_t generation, const absl::Status& status) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != slot->generation) return;
    slot->conn.reset();
    slot->up = false;
    slot->host->last_error = status;
    MarkReportedLocked(slot);
    if (closing_) return;
    delay = ScheduleReconnectLocked(slot);
  }
  // Server errors already say "cassandra host:port: ...".
  const bool named = absl::StartsWith(status.message(), "cassandra ");
  Log(absl::StrCat(named ? "" : "cassandra: ", status.message(), "; trying again in ", delay.count(), " ms"));
}

void Session::Impl::OnConnectionLost(Slot* slot, uint64_t generation, const absl::Status& why) {
  std::deque<std::shared_ptr<Call>> stranded;
  std::chrono::milliseconds delay;
  absl::Status none;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != slot->generation || !slot->up) return;  // not up yet: OnSlotFailed reports it
    connections_lost_.fetch_add(1, std::memory_order_relaxed);
    slot->up = false;
    std::erase(up_, slot->conn);
    slot->conn.reset();
    slot->host->last_error =
        absl::Status(why.code(), absl::StrCat("connection to ", slot->host->name, " lost: ", why.message()));
    if (closing_) return;
    if (up_.empty()) {  // nothing will free a stream id for them now
      stranded.swap(waiting_);
      waiting_count_ = 0;
      none = NoConnectionLocked();
    }
    delay = ScheduleReconnectLocked(slot);
  }
  Log(absl::StrCat("cassandra: connection to ", slot->host->name, " lost (", why.message(), "); reconnecting in ",
                   delay.count(), " ms"));
  for (auto& call : stranded) RetryLater(std::move(call), none);
}

std::vector<HostStatus> Session::Impl::Hosts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<HostStatus> out;
  for (const auto& host : hosts_) {
    HostStatus s;
    s.endpoint = host->name;
    s.connections = static_cast<int>(host->slots.size());
    for (const auto& slot : host->slots) s.connections_up += slot->up ? 1 : 0;
    s.last_error = host->last_error;
    out.push_back(std::move(s));
  }
  return out;
}

// --- Session ---

absl::StatusOr<std::unique_ptr<Session>> Session::Connect(SessionOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::make_unique<Session>(std::move(impl));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() = default;

void Session::Close() { impl_->Close(); }

absl::StatusOr<std::shared_ptr<const PreparedStatement>> Session::Prepare(absl::string_view query) {
  return impl_->Prepare(query);
}

namespace {

std::shared_ptr<Call> MakeCall(Call::Kind kind, const StatementOptions& options) {
  auto call = std::make_shared<Call>();
  call->kind = kind;
  call->options = options;
  return call;
}

// Checks the values against the statement's bind markers.
absl::Status CheckValues(const std::shared_ptr<const PreparedStatement>& statement, size_t values, bool batch) {
  if (!statement) return absl::InvalidArgumentError("no prepared statement");
  const size_t per_row = static_cast<size_t>(statement->bind_count());
  if (!batch && values != per_row) {
    return absl::InvalidArgumentError(
        absl::StrCat("the statement has ", per_row, " bind markers but ", values, " values were given"));
  }
  if (batch && (per_row == 0 || values == 0 || values % per_row != 0)) {
    return absl::InvalidArgumentError(absl::StrCat("a batch needs a non-zero multiple of the statement's ", per_row,
                                                   " bind markers as values, not ", values));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Result> Session::Query(absl::string_view query, const StatementOptions& options,
                                      absl::Span<const Value> values) {
  auto call = MakeCall(Call::Kind::kQuery, options);
  call->query = std::string(query);
  return impl_->Await(std::move(call), values);
}

void Session::QueryAsync(absl::string_view query, const StatementOptions& options, absl::Span<const Value> values,
                         ResultCallback done) {
  auto call = MakeCall(Call::Kind::kQuery, options);
  call->query = std::string(query);
  call->done = std::move(done);
  impl_->Submit(std::move(call), values);
}

absl::StatusOr<Result> Session::Execute(const std::shared_ptr<const PreparedStatement>& statement,
                                        absl::Span<const Value> values, const StatementOptions& options) {
  if (absl::Status s = CheckValues(statement, values.size(), false); !s.ok()) return s;
  auto call = MakeCall(Call::Kind::kExecute, options);
  call->statement = statement;
  return impl_->Await(std::move(call), values);
}

void Session::ExecuteAsync(const std::shared_ptr<const PreparedStatement>& statement, absl::Span<const Value> values,
                           const StatementOptions& options, ResultCallback done) {
  if (absl::Status s = CheckValues(statement, values.size(), false); !s.ok()) return done(s);
  auto call = MakeCall(Call::Kind::kExecute, options);
  call->statement = statement;
  call->done = std::move(done);
  impl_->Submit(std::move(call), values);
}

absl::StatusOr<Result> Session::ExecuteBatch(const std::shared_ptr<const PreparedStatement>& statement,
                                             absl::Span<const Value> rows, const StatementOptions& options) {
  if (absl::Status s = CheckValues(statement, rows.size(), true); !s.ok()) return s;
  auto call = MakeCall(Call::Kind::kBatch, options);
  call->statement = statement;
  return impl_->Await(std::move(call), rows);
}

void Session::ExecuteBatchAsync(const std::shared_ptr<const PreparedStatement>& statement,
                                absl::Span<const Value> rows, const StatementOptions& options, ResultCallback done) {
  if (absl::Status s = CheckValues(statement, rows.size(), true); !s.ok()) return done(s);
  auto call = MakeCall(Call::Kind::kBatch, options);
  call->statement = statement;
  call->done = std::move(done);
  impl_->Submit(std::move(call), rows);
}

std::vector<HostStatus> Session::Hosts() const { return impl_->Hosts(); }

SessionStats Session::Stats() const { return impl_->Stats(); }

}  // namespace tally::cql
