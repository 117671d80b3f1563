#pragma once

// Amazon Keyspaces' SigV4 SASL mechanism, as AWS's authentication plugins
// for the Cassandra drivers speak it:
//   client: AUTH_RESPONSE "SigV4\0\0"
//   server: AUTH_CHALLENGE "nonce=<hex>"
//   client: AUTH_RESPONSE "signature=<hex>,access_key=<id>,amzdate=<time>[,session_token=<token>]"
//   server: AUTH_SUCCESS, or ERROR 0x0100
// The signature is SigV4 over a fixed canonical request:
//   PUT /authenticate, query X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=
//   <id>%2F<scope>&X-Amz-Date=<amzdate>&X-Amz-Expires=900, the one header
//   host:cassandra, and SHA-256(nonce) in the place of the payload hash;
// amzdate is "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, milliseconds), used as is in
// the string to sign; the scope is DATE/REGION/cassandra/aws4_request.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aws/credentials.h"
#include "cql/sasl_authenticator.h"

namespace tally::cql {

// The nonce of a Keyspaces challenge: what follows "nonce=" up to a ',', a
// space or the end. DATA_LOSS when there is none.
absl::StatusOr<std::string> SigV4Nonce(absl::string_view challenge);

// The response to a challenge with `nonce`, signed at `now`.
std::string SigV4ChallengeResponse(absl::string_view nonce, absl::Time now, const aws::Credentials& credentials,
                                   absl::string_view region);

class SigV4Sasl final : public SaslAuthenticator {
 public:
  // Must not block and be callable from any thread (RefreshingCredentials::Current is).
  using CredentialSource = std::function<absl::StatusOr<aws::Credentials>()>;

  SigV4Sasl(CredentialSource credentials, std::string region,
            std::function<absl::Time()> now = [] { return absl::Now(); })
      : credentials_(std::move(credentials)), region_(std::move(region)), now_(std::move(now)) {}

  std::string Name() const override { return "SigV4"; }
  absl::StatusOr<std::string> InitialResponse() const override;
  absl::StatusOr<std::string> EvaluateChallenge(absl::string_view challenge) const override;
  std::string RefusalHint() const override;

 private:
  CredentialSource credentials_;
  std::string region_;
  std::function<absl::Time()> now_;
};

}  // namespace tally::cql
