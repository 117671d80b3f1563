#pragma once

// A scripted CQL server for tests (real sockets on 127.0.0.1, answers chosen
// per test) and the byte helpers to script it: shared by the tests of the CQL
// client and of the Cassandra sink.

#include <cstddef>  // before asio: see src/cql/connection.h

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cql/frame.h"
#include "cql/server_error.h"
#include "cql/wire.h"

namespace tally::cql::testing {

inline std::string Short(int n) { return std::string{static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)}; }
inline std::string Int(int32_t n) {
  const auto u = static_cast<uint32_t>(n);
  return std::string{static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff), static_cast<char>((u >> 8) & 0xff),
                     static_cast<char>(u & 0xff)};
}
inline std::string Str(const std::string& s) { return Short(static_cast<int>(s.size())) + s; }

inline std::string VoidResult() { return Int(1); }
inline std::string ErrorBody(ErrorCode code, const std::string& message, const std::string& extra = "") {
  return Int(static_cast<int32_t>(code)) + Str(message) + extra;
}
// A Prepared result for a statement with `binds` int markers on ks.t.
inline std::string PreparedBody(const std::string& id, int binds) {
  std::string body = Int(4) + Short(static_cast<int>(id.size())) + id + Int(0x0001) + Int(binds) + Int(1) +
                     Short(0) + Str("ks") + Str("t");
  for (int i = 0; i < binds; ++i) body += Str(absl::StrCat("c", i)) + Short(0x0009);
  return body + Int(0x0004) + Int(0);
}
// The [long string] that opens a QUERY or PREPARE body.
inline std::string LeadingLongString(const std::string& body) {
  WireReader r(body);
  absl::string_view s;
  return r.ReadLongString(&s) ? std::string(s) : std::string();
}

// A CQL server for tests: listens on 127.0.0.1 (a free port), runs its own io
// thread, and hands every request frame to the test's handler on that thread.
// The handler answers through Conn::Reply, at once or later from any thread,
// or not at all.
class FakeServer {
 public:
  class Conn : public std::enable_shared_from_this<Conn> {
   public:
    Conn(FakeServer* server, asio::ip::tcp::socket socket, int id)
        : server_(server), socket_(std::move(socket)), id_(id) {}

    int id() const { return id_; }

    // Sends a response frame. Any thread.
    void Reply(int16_t stream, Opcode opcode, std::string body) {
      std::string frame(kFrameHeaderSize, '\0');
      FrameHeader h;
      h.direction = Direction::kResponse;
      h.stream = stream;
      h.opcode = opcode;
      h.length = static_cast<uint32_t>(body.size());
      EncodeFrameHeader(h, frame.data());
      frame += body;
      asio::post(server_->io_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
        self->out_.push_back(std::move(frame));
        if (self->out_.size() == 1) self->Write();
      });
    }

    // Sends bytes as they are (a malformed frame). Any thread.
    void ReplyRaw(std::string bytes) {
      asio::post(server_->io_, [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
        self->out_.push_back(std::move(bytes));
        if (self->out_.size() == 1) self->Write();
      });
    }

    // Closes the socket. Any thread.
    void Close() {
      asio::post(server_->io_, [self = shared_from_this()] {
        asio::error_code ignored;
        self->socket_.close(ignored);
      });
    }

    void Start() { ReadHeader(); }
    void CloseNow() {  // server io thread
      asio::error_code ignored;
      socket_.close(ignored);
    }

   private:
    void ReadHeader() {
      asio::async_read(socket_, asio::buffer(header_), [self = shared_from_this()](asio::error_code ec, size_t) {
        if (ec) return;
        absl::StatusOr<FrameHeader> h =
            DecodeFrameHeader(absl::string_view(self->header_, kFrameHeaderSize), Direction::kRequest);
        if (!h.ok()) return;
        self->request_ = *h;
        self->body_.assign(h->length, '\0');
        asio::async_read(self->socket_, asio::buffer(self->body_), [self](asio::error_code ec, size_t) {
          if (ec) return;
          self->server_->handler_(self, self->request_, self->body_);
          self->ReadHeader();
        });
      });
    }

    void Write() {
      asio::async_write(socket_, asio::buffer(out_.front()), [self = shared_from_this()](asio::error_code ec, size_t) {
        if (ec) return;
        self->out_.pop_front();
        if (!self->out_.empty()) self->Write();
      });
    }

    FakeServer* server_;
    asio::ip::tcp::socket socket_;
    const int id_;
    char header_[kFrameHeaderSize];
    FrameHeader request_;
    std::string body_;
    std::deque<std::string> out_;
  };

  using Handler = std::function<void(const std::shared_ptr<Conn>&, const FrameHeader&, const std::string& body)>;

  explicit FakeServer(Handler handler)
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)), handler_(std::move(handler)) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~FakeServer() {
    asio::post(io_, [this] {
      asio::error_code ignored;
      acceptor_.close(ignored);
      for (auto& c : conns_) c->CloseNow();
      conns_.clear();
    });
    thread_.join();
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", acceptor_.local_endpoint().port()); }
  int accepted() const { return accepted_.load(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto conn = std::make_shared<Conn>(this, std::move(socket), ++accepted_);
      conns_.push_back(conn);
      conn->Start();
      Accept();
    });
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  std::vector<std::shared_ptr<Conn>> conns_;  // io thread
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Answers OPTIONS, STARTUP (READY, or AUTHENTICATE when `authenticator` is
// set) and USE; returns false for anything else.
inline bool AnswerHandshake(const std::shared_ptr<FakeServer::Conn>& conn, const FrameHeader& h, const std::string& body,
                     const std::string& authenticator = "") {
  switch (h.opcode) {
    case Opcode::kOptions:
      conn->Reply(h.stream, Opcode::kSupported, Short(1) + Str("CQL_VERSION") + Short(1) + Str("3.4.7"));
      return true;
    case Opcode::kStartup:
      if (authenticator.empty()) {
        conn->Reply(h.stream, Opcode::kReady, "");
      } else {
        conn->Reply(h.stream, Opcode::kAuthenticate, Str(authenticator));
      }
      return true;
    case Opcode::kQuery:
      if (absl::StartsWith(LeadingLongString(body), "USE ")) {
        conn->Reply(h.stream, Opcode::kResult, Int(3) + Str("ks"));
        return true;
      }
      return false;
    default:
      return false;
  }
}

// The SASL token of an AUTH_RESPONSE body ("" for a null token).
inline std::string AuthToken(const std::string& body) {
  WireReader r(body);
  std::optional<absl::string_view> token;
  r.ReadBytes(&token);
  return token ? std::string(*token) : "";
}

// Counts requests the handler saw, for the test thread to read and await.
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;  // one entry per request of interest

  void Add(std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(std::move(what));
    cv.notify_all();
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return seen;
  }
  bool AwaitAtLeast(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen.size() >= n; });
  }
};

}  // namespace tally::cql::testing
