#include "cql/handshake.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cql/request.h"
#include "cql/response.h"

namespace tally::cql {
namespace {

// The exchange as a chain of steps, each sending one request and continuing
// from its response's callback. Holds itself alive through those callbacks.
class Handshake : public std::enable_shared_from_this<Handshake> {
 public:
  Handshake(std::shared_ptr<Connection> conn, HandshakeOptions options,
            absl::AnyInvocable<void(absl::StatusOr<HandshakeResult>)> done)
      : conn_(std::move(conn)), options_(std::move(options)), done_(std::move(done)) {}

  void Start() {
    frame_.clear();
    AppendOptionsRequest(&frame_, 0);
    Send("OPTIONS", &Handshake::OnSupported);
  }

 private:
  using Step = void (Handshake::*)(Response);

  void Send(const char* what, Step next) {
    what_ = what;
    absl::Status s = conn_->Send(frame_, options_.timeout,
                                 [self = shared_from_this(), next](absl::StatusOr<Frame> frame) {
                                   if (!frame.ok()) return self->Finish(frame.status());
                                   absl::StatusOr<Response> r = ParseResponse(frame->header, frame->body);
                                   if (!r.ok()) return self->Finish(r.status());
                                   if (const auto* e = std::get_if<ServerError>(&r->body)) {
                                     absl::Status s = ToStatus(*e, self->conn_->name());
                                     if (self->authenticating_ && self->options_.sasl) {
                                       s = absl::Status(s.code(), absl::StrCat(s.message(), " (",
                                                                               self->options_.sasl->RefusalHint(), ")"));
                                     }
                                     return self->Finish(s);
                                   }
                                   ((*self).*next)(std::move(*r));
                                 });
    if (!s.ok()) Finish(s);
  }

  void Unexpected() {
    Finish(absl::DataLossError(absl::StrCat("unexpected answer from ", conn_->name(), " to ", what_)));
  }

  void OnSupported(Response r) {
    auto* supported = std::get_if<SupportedMessage>(&r.body);
    if (!supported) return Unexpected();
    result_.supported = std::move(supported->options);
    frame_.clear();
    if (absl::Status s = AppendStartupRequest(&frame_, 0, DefaultStartupOptions()); !s.ok()) return Finish(s);
    Send("STARTUP", &Handshake::OnStartup);
  }

  void OnStartup(Response r) {
    if (std::holds_alternative<ReadyMessage>(r.body)) {
      // Asked for a mechanism, the operator expects the server to check it: a
      // server that lets anyone in is not the one they meant to write to.
      if (options_.sasl) {
        return Finish(absl::FailedPreconditionError(
            absl::StrCat("cassandra ", conn_->name(), " asked for no authentication, though a SASL mechanism (",
                         options_.sasl->Name(), ") is configured: is this the endpoint you meant?")));
      }
      return UseKeyspace();
    }
    auto* auth = std::get_if<AuthenticateMessage>(&r.body);
    if (!auth) return Unexpected();
    result_.authenticator = auth->authenticator;
    authenticating_ = true;
    if (options_.sasl) {
      absl::StatusOr<std::string> token = options_.sasl->InitialResponse();
      if (!token.ok()) return Finish(token.status());
      return SendAuthResponse(*token);
    }
    if (options_.username.empty()) {
      return Finish(absl::UnauthenticatedError(absl::StrCat("cassandra ", conn_->name(), " requires authentication (",
                                                            auth->authenticator,
                                                            ") but no username and password are configured")));
    }
    frame_.clear();
    const std::string token = SaslPlainToken(options_.username, options_.password);
    if (absl::Status s = AppendAuthResponseRequest(&frame_, 0, token); !s.ok()) return Finish(s);
    Send("AUTH_RESPONSE", &Handshake::OnAuthAnswer);
  }

  void OnAuthAnswer(Response r) {
    if (std::holds_alternative<AuthSuccessMessage>(r.body)) return UseKeyspace();
    if (auto* challenge = std::get_if<AuthChallengeMessage>(&r.body); challenge && options_.sasl) {
      // A bound, so that a server that challenges forever cannot hold the connection.
      if (++challenges_ > kMaxChallenges) {
        return Finish(absl::DataLossError(absl::StrCat("cassandra ", conn_->name(), " sent more than ", kMaxChallenges,
                                                       " SASL challenges")));
      }
      absl::StatusOr<std::string> token = options_.sasl->EvaluateChallenge(challenge->token.value_or(""));
      if (!token.ok()) {
        return Finish(absl::Status(token.status().code(),
                                   absl::StrCat("cassandra ", conn_->name(), ": ", token.status().message())));
      }
      return SendAuthResponse(*token);
    }
    if (std::holds_alternative<AuthChallengeMessage>(r.body)) {
      return Finish(absl::UnimplementedError(absl::StrCat("cassandra ", conn_->name(), " (", result_.authenticator,
                                                          ") sent a SASL challenge; only PLAIN is supported")));
    }
    Unexpected();
  }

  void SendAuthResponse(const std::string& token) {
    frame_.clear();
    if (absl::Status s = AppendAuthResponseRequest(&frame_, 0, token); !s.ok()) return Finish(s);
    Send("AUTH_RESPONSE", &Handshake::OnAuthAnswer);
  }

  void UseKeyspace() {
    authenticating_ = false;
    if (options_.keyspace.empty()) return Finish(absl::OkStatus());
    frame_.clear();
    QueryParameters params;
    params.consistency = Consistency::kOne;
    absl::Status s = AppendQueryRequest(&frame_, 0, absl::StrCat("USE ", QuoteIdentifier(options_.keyspace)), params);
    if (!s.ok()) return Finish(s);
    Send("USE", &Handshake::OnKeyspace);
  }

  void OnKeyspace(Response r) {
    const Result* result = std::get_if<Result>(&r.body);
    if (!result || result->kind() != ResultKind::kSetKeyspace) return Unexpected();
    Finish(absl::OkStatus());
  }

  void Finish(absl::Status status) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    if (status.ok()) {
      done(std::move(result_));
    } else {
      done(std::move(status));
    }
  }

  std::shared_ptr<Connection> conn_;
  const HandshakeOptions options_;
  absl::AnyInvocable<void(absl::StatusOr<HandshakeResult>)> done_;
  HandshakeResult result_;
  std::string frame_;
  const char* what_ = "";
  bool authenticating_ = false;  // an answer now is the server's verdict on our credentials
  static constexpr int kMaxChallenges = 4;
  int challenges_ = 0;
};

}  // namespace

std::string SaslPlainToken(absl::string_view username, absl::string_view password) {
  std::string token;
  token.reserve(username.size() + password.size() + 2);
  token.push_back('\0');
  token.append(username.data(), username.size());
  token.push_back('\0');
  token.append(password.data(), password.size());
  return token;
}

std::string QuoteIdentifier(absl::string_view name) {
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

void AsyncHandshake(std::shared_ptr<Connection> connection, HandshakeOptions options,
                    absl::AnyInvocable<void(absl::StatusOr<HandshakeResult>)> done) {
  std::make_shared<Handshake>(std::move(connection), std::move(options), std::move(done))->Start();
}

}  // namespace tally::cql
