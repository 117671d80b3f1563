#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tally::cql {

// A SASL mechanism other than PLAIN, spoken in the AUTHENTICATE /
// AUTH_RESPONSE / AUTH_CHALLENGE exchange of the protocol (spec section 4.2.7
// and 4.2.8): the client's initial response, then one response per challenge
// until AUTH_SUCCESS. One object serves every connection of a session.
//
// Thread-safety: the methods may be called from any thread, concurrently;
// they must not block (they run on the session's io thread).
class SaslAuthenticator {
 public:
  virtual ~SaslAuthenticator() = default;

  // The mechanism's name for messages: "SigV4".
  virtual std::string Name() const = 0;
  // The token of the first AUTH_RESPONSE. A failure ends the handshake with it.
  virtual absl::StatusOr<std::string> InitialResponse() const = 0;
  // The answer to one AUTH_CHALLENGE token.
  virtual absl::StatusOr<std::string> EvaluateChallenge(absl::string_view challenge) const = 0;
  // Appended to a refusal by the server (its Authentication error): who we
  // claimed to be and what to check, without any secret.
  virtual std::string RefusalHint() const = 0;
};

}  // namespace tally::cql
