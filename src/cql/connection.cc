#include "cql/connection.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tally::cql {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr size_t kMinReadSpace = 16 * 1024;
// A read buffer grown for a big frame shrinks back once empty if above this.
constexpr size_t kMaxIdleReadBuffer = 4 * 1024 * 1024;
constexpr int kMaxStreams = 32768;

}  // namespace

std::shared_ptr<Connection> Connection::Create(asio::io_context& io, ConnectionOptions options,
                                               ConnectionHooks hooks) {
  return std::make_shared<Connection>(io, std::move(options), std::move(hooks), Private{});
}

Connection::Connection(asio::io_context& io, ConnectionOptions options, ConnectionHooks hooks, Private)
    : io_(io),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      name_(options_.endpoint.ToString()),
      resolver_(io),
      connect_timer_(io),
      socket_(io),
      deadline_timer_(io) {
  if (options_.tls) tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io, *options_.tls);
  const int streams = std::clamp(options_.max_streams, 1, kMaxStreams);
  slots_.resize(static_cast<size_t>(streams));
  free_ids_.reserve(static_cast<size_t>(streams));
  for (int id = streams - 1; id >= 0; --id) free_ids_.push_back(static_cast<int16_t>(id));
  in_.resize(kReadBufferSize);
}

Connection::~Connection() = default;

asio::ip::tcp::socket& Connection::Lowest() { return tls_ ? tls_->next_layer() : socket_; }

bool Connection::is_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

int Connection::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(slots_.size() - free_ids_.size());
}

// --- connecting ---

void Connection::AsyncConnect(absl::AnyInvocable<void(absl::Status)> done) {
  asio::post(io_, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->StartConnect(std::move(done));
  });
}

void Connection::StartConnect(absl::AnyInvocable<void(absl::Status)> done) {
  if (state_ != State::kIdle) {
    done(state_ == State::kClosed
             ? absl::UnavailableError(absl::StrCat("connection to ", name_, " was closed before it connected"))
             : absl::FailedPreconditionError(absl::StrCat("connection to ", name_, " was already started")));
    return;
  }
  state_ = State::kConnecting;
  connect_done_ = std::move(done);
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec) return;
    self->FailConnect(absl::DeadlineExceededError(absl::StrCat(
        "connecting to ", self->name_, " timed out after ", self->options_.connect_timeout.count(), " ms")));
  });
  resolver_.async_resolve(
      options_.endpoint.host, std::to_string(options_.endpoint.port),
      [self = shared_from_this()](const asio::error_code& ec, asio::ip::tcp::resolver::results_type results) {
        if (self->state_ != State::kConnecting) return;
        if (ec) {
          return self->FailConnect(
              absl::UnavailableError(absl::StrCat("cannot resolve ", self->name_, ": ", ec.message())));
        }
        asio::async_connect(self->Lowest(), results,
                            [self](const asio::error_code& ec, const asio::ip::tcp::endpoint&) {
                              if (self->state_ != State::kConnecting) return;
                              if (ec) {
                                return self->FailConnect(absl::UnavailableError(
                                    absl::StrCat("cannot connect to ", self->name_, ": ", ec.message())));
                              }
                              asio::error_code ignored;
                              self->Lowest().set_option(asio::ip::tcp::no_delay(true), ignored);
                              if (self->tls_) {
                                self->StartTls();
                              } else {
                                self->Connected();
                              }
                            });
      });
}

void Connection::StartTls() {
  const std::string& host = options_.endpoint.host;
  asio::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  SSL* ssl = tls_->native_handle();
  if (not_ip) SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI is for names only
  if (SSL_CTX_get_verify_mode(options_.tls->native_handle()) & SSL_VERIFY_PEER) {
    // OpenSSL's own check, as part of the chain's verification, so that a
    // mismatch is reported as one (X509_V_ERR_HOSTNAME_MISMATCH) rather than
    // as an unspecified verification error.
    if (not_ip) {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    }
  }
  tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](const asio::error_code& ec) {
    if (self->state_ != State::kConnecting) return;
    if (ec) {
      // Never UNAVAILABLE: the server answered, and what it said (a
      // certificate that does not verify, no TLS at all, a reset) will not
      // change by trying again. A handshake that hangs times out (above).
      std::string why = ec.message();
      const long verify = SSL_get_verify_result(self->tls_->native_handle());
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        absl::StrAppend(&why, " (host name mismatch: the server's certificate does not name ",
                        self->options_.endpoint.host, ")");
      } else if (verify != X509_V_OK) {
        absl::StrAppend(&why, " (", X509_verify_cert_error_string(verify), ")");
      }
      return self->FailConnect(
          absl::FailedPreconditionError(absl::StrCat("TLS handshake with ", self->name_, " failed: ", why)));
    }
    self->Connected();
  });
}

void Connection::FailConnect(absl::Status status) {
  if (state_ != State::kConnecting) return;
  state_ = State::kClosed;
  connect_timer_.cancel();
  resolver_.cancel();
  asio::error_code ignored;
  Lowest().close(ignored);
  auto done = std::move(connect_done_);
  done(std::move(status));
}

void Connection::Connected() {
  state_ = State::kOpen;
  connect_timer_.cancel();
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
  }
  StartRead();
  auto done = std::move(connect_done_);
  done(absl::OkStatus());
}

// --- closing ---

void Connection::Close(absl::Status reason) {
  asio::dispatch(io_, [self = shared_from_this(), reason = std::move(reason)] { self->CloseNow(reason); });
}

void Connection::CloseNow(const absl::Status& reason) {
  if (state_ == State::kConnecting) return FailConnect(reason);
  const bool was_open = state_ == State::kOpen;
  state_ = State::kClosed;
  if (!was_open) return;

  std::vector<ResponseCallback> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
    free_ids_.clear();
    retired_ = 0;
    for (size_t id = 0; id < slots_.size(); ++id) {
      Slot& s = slots_[id];
      if (s.use == Slot::Use::kWaiting) failed.push_back(std::move(s.callback));
      s.use = Slot::Use::kFree;
      ++s.generation;
      free_ids_.push_back(static_cast<int16_t>(slots_.size() - 1 - id));
    }
    out_pending_.clear();
    pending_deadline_ = std::chrono::steady_clock::time_point::max();
  }
  deadline_timer_.cancel();
  deadline_armed_ = false;
  asio::error_code ignored;
  Lowest().close(ignored);

  // A broken peer (DATA_LOSS: a protocol violation; FAILED_PRECONDITION: not
  // a CQL server) stays what it is, so that nobody retries it as an outage.
  const absl::StatusCode code =
      absl::IsDataLoss(reason) || absl::IsFailedPrecondition(reason) ? reason.code() : absl::StatusCode::kUnavailable;
  const absl::Status lost(code, absl::StrCat("connection to ", name_, " lost: ", reason.message()));
  for (ResponseCallback& cb : failed) cb(lost);
  if (hooks_.on_close) hooks_.on_close(reason);
}

// --- sending ---

absl::Status Connection::Send(absl::string_view frame, std::chrono::milliseconds timeout,
                              ResponseCallback callback) {
  if (frame.size() < kFrameHeaderSize) return absl::InvalidArgumentError("not a frame: shorter than its header");
  bool post_flush = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) return absl::UnavailableError(absl::StrCat("connection to ", name_, " is not open"));
    if (free_ids_.empty()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("all ", slots_.size(), " stream ids of the connection to ", name_, " are in use"));
    }
    const int16_t id = free_ids_.back();
    free_ids_.pop_back();
    Slot& s = slots_[static_cast<size_t>(id)];
    s.use = Slot::Use::kWaiting;
    s.callback = std::move(callback);
    s.timeout = timeout;
    s.deadline = std::chrono::steady_clock::now() + timeout;
    const size_t at = out_pending_.size();
    out_pending_.append(frame.data(), frame.size());
    SetFrameStreamId(out_pending_.data() + at, id);
    pending_deadline_ = std::min(pending_deadline_, s.deadline);
    if (!write_in_progress_ && !flush_posted_) {
      flush_posted_ = true;
      post_flush = true;
    }
  }
  if (post_flush) asio::post(io_, [self = shared_from_this()] { self->Flush(); });
  return absl::OkStatus();
}

void Connection::Flush() {
  std::chrono::steady_clock::time_point earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    flush_posted_ = false;
    if (state_ != State::kOpen || write_in_progress_ || out_pending_.empty()) return;
    out_writing_.swap(out_pending_);
    earliest = pending_deadline_;
    pending_deadline_ = std::chrono::steady_clock::time_point::max();
    write_in_progress_ = true;
  }
  // The deadline timer starts with the write that carries the requests (the
  // deadline still counts from Send). Usually it is already set, for an
  // earlier deadline, and this costs nothing.
  ArmDeadline(earliest);
  auto done = [self = shared_from_this()](const asio::error_code& ec, size_t) { self->OnWritten(ec); };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(out_writing_), std::move(done));
  } else {
    asio::async_write(socket_, asio::buffer(out_writing_), std::move(done));
  }
}

void Connection::OnWritten(const asio::error_code& ec) {
  if (state_ != State::kOpen) return;
  if (ec) return CloseNow(absl::UnavailableError(absl::StrCat("write failed: ", ec.message())));
  out_writing_.clear();  // keeps its capacity for the next write
  {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_progress_ = false;
  }
  Flush();
}

void Connection::ArmDeadline(std::chrono::steady_clock::time_point when) {
  if (when == std::chrono::steady_clock::time_point::max()) return;
  if (deadline_armed_ && armed_for_ <= when) return;
  deadline_armed_ = true;
  armed_for_ = when;
  deadline_timer_.expires_at(when);  // cancels a wait for a later deadline
  deadline_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) { self->OnDeadline(ec); });
}

void Connection::OnDeadline(const asio::error_code& ec) {
  if (ec || state_ != State::kOpen) return;  // cancelled: re-armed or closed
  deadline_armed_ = false;
  struct Expired {
    int16_t stream;
    std::chrono::milliseconds timeout;
    ResponseCallback callback;
  };
  std::vector<Expired> expired;
  auto next = std::chrono::steady_clock::time_point::max();
  size_t retired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (size_t id = 0; id < slots_.size(); ++id) {
      Slot& s = slots_[id];
      if (s.use != Slot::Use::kWaiting) continue;
      if (s.deadline > now) {
        next = std::min(next, s.deadline);
        continue;
      }
      s.use = Slot::Use::kRetired;  // the id stays taken until its response arrives
      expired.push_back({static_cast<int16_t>(id), s.timeout, std::move(s.callback)});
      ++retired_;
    }
    retired = retired_;
  }
  for (Expired& e : expired) {
    e.callback(absl::DeadlineExceededError(
        absl::StrCat("no response from ", name_, " within ", e.timeout.count(), " ms (stream ", e.stream, ")")));
  }
  if (state_ != State::kOpen) return;  // a callback closed it
  if (slots_.size() > 1 && retired * 2 >= slots_.size()) {
    return CloseNow(absl::UnavailableError(absl::StrCat(retired, " requests went unanswered")));
  }
  ArmDeadline(next);
}

// --- receiving ---

void Connection::StartRead() {
  if (in_.size() - in_end_ < kMinReadSpace) in_.resize(std::max(in_.size() * 2, in_end_ + kMinReadSpace));
  auto buffer = asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
  auto done = [self = shared_from_this()](const asio::error_code& ec, size_t n) { self->OnRead(ec, n); };
  if (tls_) {
    tls_->async_read_some(buffer, std::move(done));
  } else {
    socket_.async_read_some(buffer, std::move(done));
  }
}

void Connection::OnRead(const asio::error_code& ec, size_t n) {
  if (state_ != State::kOpen) return;
  if (ec) {
    std::string why = ec == asio::error::eof ? std::string("the server closed the connection")
                                             : absl::StrCat("read failed: ", ec.message());
    if (frames_received_ == 0 && ec == asio::error::connection_reset) {
      // A server that resets the connection instead of answering its first
      // request is not a CQL server (or not one this client can talk to):
      // not an outage to wait out. A plain close is not taken for that: it is
      // also what a Cassandra at its connection limit or shutting down does.
      return CloseNow(absl::FailedPreconditionError(
          absl::StrCat(why, " before answering any request: not a CQL native protocol v4 server?")));
    }
    return CloseNow(absl::UnavailableError(why));
  }
  in_end_ += n;
  while (state_ == State::kOpen) {
    const size_t available = in_end_ - in_begin_;
    if (available < kFrameHeaderSize) break;
    const absl::string_view bytes(in_.data() + in_begin_, available);
    absl::StatusOr<FrameHeader> header = DecodeFrameHeader(bytes, Direction::kResponse);
    if (!header.ok()) {
      return CloseNow(absl::DataLossError(absl::StrCat("protocol violation: ", header.status().message(),
                                                       frames_received_ == 0 ? " (not a CQL server?)" : "")));
    }
    const size_t size = kFrameHeaderSize + header->length;
    if (available < size) {
      if (in_.size() - in_begin_ < size) {  // make room for the whole frame
        std::memmove(in_.data(), in_.data() + in_begin_, available);
        in_begin_ = 0;
        in_end_ = available;
        if (in_.size() < size + kMinReadSpace) in_.resize(size + kMinReadSpace);
      }
      break;
    }
    ++frames_received_;
    Deliver(*header, bytes.substr(kFrameHeaderSize, header->length));
    in_begin_ += size;
  }
  if (state_ != State::kOpen) return;
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    if (in_.size() > kMaxIdleReadBuffer) {
      in_.resize(kReadBufferSize);
      in_.shrink_to_fit();
    }
  } else if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  StartRead();
}

void Connection::Deliver(const FrameHeader& header, absl::string_view body) {
  // EVENTs (stream -1) are not asked for; ids outside our range were never sent.
  if (header.stream < 0 || static_cast<size_t>(header.stream) >= slots_.size()) return;
  ResponseCallback cb;
  bool released = false;
  Slot& s = slots_[static_cast<size_t>(header.stream)];
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (s.use == Slot::Use::kWaiting) cb = std::move(s.callback);
    if (s.use == Slot::Use::kRetired) --retired_;
    if (s.use != Slot::Use::kFree) {
      s.use = Slot::Use::kFree;
      ++s.generation;
      free_ids_.push_back(header.stream);
      released = true;
    }
  }
  if (!released) return;  // an answer to nothing we asked: ignore
  if (cb) cb(Frame{header, body});
  if (hooks_.on_stream_released) hooks_.on_stream_released();
}

}  // namespace tally::cql
