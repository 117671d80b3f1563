#include "cql/sigv4_sasl.h"

#include "absl/strings/str_cat.h"
#include "aws/sigv4.h"

namespace tally::cql {
namespace {

constexpr absl::string_view kService = "cassandra";

}  // namespace

absl::StatusOr<std::string> SigV4Nonce(absl::string_view challenge) {
  constexpr absl::string_view kKey = "nonce=";
  const size_t at = challenge.find(kKey);
  if (at == absl::string_view::npos) {
    return absl::DataLossError("the server's SigV4 challenge has no nonce");
  }
  absl::string_view nonce = challenge.substr(at + kKey.size());
  nonce = nonce.substr(0, nonce.find_first_of(absl::string_view(", \0", 3)));
  if (nonce.empty()) return absl::DataLossError("the server's SigV4 challenge has an empty nonce");
  return std::string(nonce);
}

std::string SigV4ChallengeResponse(absl::string_view nonce, absl::Time now, const aws::Credentials& credentials,
                                   absl::string_view region) {
  const std::string amzdate = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone());
  const std::string date = absl::FormatTime("%Y%m%d", now, absl::UTCTimeZone());
  const std::string scope = aws::CredentialScope(date, region, kService);
  // The query parameters, already in their sorted order.
  const std::string query =
      absl::StrCat("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=", aws::UriEncode(credentials.access_key_id),
                   "%2F", aws::UriEncode(scope), "&X-Amz-Date=", aws::UriEncode(amzdate), "&X-Amz-Expires=900");
  const std::string canonical =
      absl::StrCat("PUT\n/authenticate\n", query, "\nhost:", kService, "\n\nhost\n", aws::Sha256Hex(nonce));
  const std::string string_to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", amzdate, "\n", scope, "\n", aws::Sha256Hex(canonical));
  std::string response =
      absl::StrCat("signature=", aws::Signature(credentials.secret_access_key, date, region, kService, string_to_sign),
                   ",access_key=", credentials.access_key_id, ",amzdate=", amzdate);
  if (!credentials.session_token.empty()) absl::StrAppend(&response, ",session_token=", credentials.session_token);
  return response;
}

absl::StatusOr<std::string> SigV4Sasl::InitialResponse() const { return std::string("SigV4\0\0", 7); }

absl::StatusOr<std::string> SigV4Sasl::EvaluateChallenge(absl::string_view challenge) const {
  auto nonce = SigV4Nonce(challenge);
  if (!nonce.ok()) return nonce.status();
  auto credentials = credentials_();
  if (!credentials.ok()) return credentials.status();
  return SigV4ChallengeResponse(*nonce, now_(), *credentials, region_);
}

std::string SigV4Sasl::RefusalHint() const {
  auto credentials = credentials_();
  const std::string who = credentials.ok() ? absl::StrCat("access key ", credentials->access_key_id, " from ",
                                                          credentials->source)
                                           : std::string("no current credentials");
  return absl::StrCat("SigV4 as ", who, ", region ", region_,
                      ": check that the key is active and not expired, that the region is the endpoint's, and that "
                      "the identity's IAM policy allows Amazon Keyspaces (see docs/operations.md, Amazon Keyspaces)");
}

}  // namespace tally::cql
