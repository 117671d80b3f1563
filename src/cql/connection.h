#pragma once

// A standard header before asio, always: asio decides between aligned_alloc
// and operator new for its handler memory from a libstdc++ macro, so a
// translation unit that includes asio first disagrees with the others on how
// that memory is freed (an ODR violation that ASan reports).
#include <cstddef>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cql/endpoint.h"
#include "cql/frame.h"

namespace tally::cql {

struct ConnectionOptions {
  Endpoint endpoint;
  // TLS when set (shared by the connections of a session); plain TCP when null.
  // Peer verification is the context's setting (see tls_context.h); with it on,
  // the connection also checks that the certificate names endpoint.host.
  std::shared_ptr<asio::ssl::context> tls;
  std::chrono::milliseconds connect_timeout{5000};
  // Stream ids 0..max_streams-1 are used; at most 32768.
  int max_streams = 1024;
};

// Notifications from a connection to its owner. Both run on the io thread with
// no lock of the connection held; either may be empty.
struct ConnectionHooks {
  // Once, when a connection that had connected closes, whatever the cause.
  absl::AnyInvocable<void(const absl::Status& reason)> on_close;
  // Whenever a stream id becomes free again (a response arrived).
  absl::AnyInvocable<void()> on_stream_released;
};

// The outcome of one request: the response frame, whose body is valid only
// during the callback, or DEADLINE_EXCEEDED (no response within the request's
// timeout) or UNAVAILABLE (connection lost or closed before the response), or,
// from a peer that is broken rather than away, DATA_LOSS (it broke the
// protocol: a bad frame header, a body over kMaxFrameBodySize) or
// FAILED_PRECONDITION (it reset the connection without ever answering).
using ResponseCallback = absl::AnyInvocable<void(absl::StatusOr<Frame> response)>;

// One TCP or TLS connection to a CQL server, multiplexing many requests by
// stream id (protocol v4, section 2.3). It speaks frames; message content is
// the caller's business.
//
// Threading: the connection is driven by an asio::io_context that its owner
// runs on exactly one thread (the "io thread"); all socket work, timers and
// callbacks happen there. Send, Close, is_open and in_flight are safe from any
// thread, concurrently. Callbacks must not block: they hold up every request of
// the connection.
//
// Writes are coalesced: frames sent while a socket write is in progress are
// appended to one buffer and go out in the next single write. Both buffers and
// the read buffer are reused, so a steady stream of small requests allocates
// nothing in the connection beyond asio's recycled handler memory.
//
// Timeouts: each request has a deadline, counted from Send. One timer per
// connection watches them all (not a timer per request, which cost a timer
// queue insertion and removal per request): it is set for the earliest
// deadline when a write goes out and none is set, and when it fires it fails
// every request past its deadline and is set again for the earliest left.
// A request past its deadline fails with
// DEADLINE_EXCEEDED and its stream id is *retired*, not freed: a response that
// arrives later for that id is dropped, and only then is the id reused, so a
// late answer can never be taken for the answer to a newer request. Closing the
// connection frees all ids. A connection with half its ids retired is taken
// for dead (the server stopped answering) and closed.
//
// Lifetime: always held by shared_ptr (Create); pending asio handlers keep it
// alive until the io thread has finished with it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> Create(asio::io_context& io, ConnectionOptions options,
                                            ConnectionHooks hooks = {});

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Resolves the host, connects within connect_timeout (TCP, then the TLS
  // handshake if configured), and starts reading. `done` runs once, on the io
  // thread: OK; UNAVAILABLE naming the endpoint and the cause ("cannot connect
  // to 127.0.0.1:1: Connection refused") or DEADLINE_EXCEEDED when the server
  // cannot be reached, which may pass; FAILED_PRECONDITION when the TLS
  // handshake fails (a certificate that does not verify, "host name mismatch",
  // a server that does not speak TLS), which will not. Call once.
  void AsyncConnect(absl::AnyInvocable<void(absl::Status)> done);

  // Queues a request frame (header and body as request.h builds them; its
  // stream id is replaced by a free one in the copy that is sent, the caller's
  // bytes are not changed) and returns at once. `callback` then runs exactly
  // once on the io thread. Fails without calling `callback`: UNAVAILABLE if
  // the connection is not open, RESOURCE_EXHAUSTED if every stream id is in
  // use or retired.
  absl::Status Send(absl::string_view frame, std::chrono::milliseconds timeout, ResponseCallback callback);

  // Closes the connection; every pending request fails with UNAVAILABLE
  // quoting `reason`. Idempotent. When called on the io thread, the callbacks
  // run before Close returns.
  void Close(absl::Status reason);

  bool is_open() const;
  // Stream ids in use, awaiting a response or retired after a timeout.
  int in_flight() const;
  const Endpoint& endpoint() const { return options_.endpoint; }
  // "host:port", for messages.
  const std::string& name() const { return name_; }

 private:
  struct Private {};

 public:
  Connection(asio::io_context& io, ConnectionOptions options, ConnectionHooks hooks, Private);

 private:
  enum class State : uint8_t { kIdle, kConnecting, kOpen, kClosed };  // io thread only

  struct Slot {
    enum class Use : uint8_t { kFree, kWaiting, kRetired };
    Use use = Use::kFree;
    uint32_t generation = 0;  // bumped when the id is freed
    ResponseCallback callback;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds timeout{0};
  };

  asio::ip::tcp::socket& Lowest();
  void StartConnect(absl::AnyInvocable<void(absl::Status)> done);
  void StartTls();
  void FailConnect(absl::Status status);
  void Connected();
  void CloseNow(const absl::Status& reason);

  void StartRead();
  void OnRead(const asio::error_code& ec, size_t n);
  void Deliver(const FrameHeader& header, absl::string_view body);
  void Flush();
  void OnWritten(const asio::error_code& ec);
  // Sets deadline_timer_ for `when` unless it is set for that or earlier.
  void ArmDeadline(std::chrono::steady_clock::time_point when);
  void OnDeadline(const asio::error_code& ec);

  asio::io_context& io_;
  const ConnectionOptions options_;
  ConnectionHooks hooks_;
  const std::string name_;

  // io thread only.
  State state_ = State::kIdle;
  absl::AnyInvocable<void(absl::Status)> connect_done_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  asio::ip::tcp::socket socket_;  // plain TCP
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
  std::vector<char> in_;  // read buffer: [in_begin_, in_end_) holds unparsed bytes
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  uint64_t frames_received_ = 0;
  std::string out_writing_;  // the bytes of the socket write in progress
  asio::steady_timer deadline_timer_;
  bool deadline_armed_ = false;
  std::chrono::steady_clock::time_point armed_for_;

  mutable std::mutex mu_;
  bool open_ = false;                // guarded by mu_
  bool write_in_progress_ = false;   // guarded by mu_
  bool flush_posted_ = false;        // guarded by mu_
  std::string out_pending_;          // guarded by mu_: frames queued for the next write
  // guarded by mu_: the earliest deadline of the requests queued for the
  // next write (max() when none), for the deadline timer.
  std::chrono::steady_clock::time_point pending_deadline_ = std::chrono::steady_clock::time_point::max();
  std::vector<Slot> slots_;          // guarded by mu_ (timers: io thread)
  std::vector<int16_t> free_ids_;    // guarded by mu_
  size_t retired_ = 0;               // guarded by mu_
};

}  // namespace tally::cql
