#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cql/connection.h"
#include "cql/sasl_authenticator.h"
#include "cql/wire.h"

namespace tally::cql {

struct HandshakeOptions {
  // SASL PLAIN credentials, for PasswordAuthenticator (and Amazon Keyspaces'
  // service-specific credentials). Empty username: no credentials to offer.
  std::string username;
  std::string password;
  // Another SASL mechanism (Amazon Keyspaces' SigV4); when set, it is used
  // instead of PLAIN and the username and password are ignored.
  std::shared_ptr<const SaslAuthenticator> sasl;
  // Made the connection's keyspace (USE) when not empty.
  std::string keyspace;
  // For each message of the exchange.
  std::chrono::milliseconds timeout{5000};
};

struct HandshakeResult {
  StringMultimap supported;   // the server's answer to OPTIONS
  std::string authenticator;  // empty when the server asked for none
};

// The SASL PLAIN initial response of RFC 4616 with an empty authorization id:
// "\0" username "\0" password.
std::string SaslPlainToken(absl::string_view username, absl::string_view password);

// `name` as a quoted CQL identifier: in double quotes, inner ones doubled.
std::string QuoteIdentifier(absl::string_view name);

// Readies a freshly connected connection for queries (spec section 4.1.1):
// OPTIONS, then STARTUP {CQL_VERSION: 3.0.0}; if the server answers
// AUTHENTICATE, one AUTH_RESPONSE with the PLAIN token, which must be answered
// by AUTH_SUCCESS (with `sasl` set: its initial response, then its answer to
// each AUTH_CHALLENGE, at most 4, until AUTH_SUCCESS); then USE keyspace if
// one is set. `done` runs once on the io thread. With `sasl` set, a server
// that asks for no authentication is refused (FAILED_PRECONDITION).
// Failures: the server's ERROR as ToStatus makes it (bad credentials
// are UNAUTHENTICATED "cassandra host:port: Authentication error (0x0100):
// Provided username ... are incorrect"), UNAUTHENTICATED when the server wants
// credentials and none are configured, UNIMPLEMENTED for a SASL challenge
// without `sasl`, the mechanism's own errors (credentials it cannot get), a
// refusal with the mechanism's RefusalHint appended, or the connection's own
// errors.
void AsyncHandshake(std::shared_ptr<Connection> connection, HandshakeOptions options,
                    absl::AnyInvocable<void(absl::StatusOr<HandshakeResult>)> done);

}  // namespace tally::cql
