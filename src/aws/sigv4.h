#pragma once

// AWS Signature Version 4, the parts tally needs: hashes, the derived signing
// key, the canonical request of an HTTP request, the string to sign and the
// signature. The Keyspaces SASL exchange (cql/sigv4_sasl.h) builds its own
// canonical request from these pieces; the HTTP form is here so that the
// primitives can be checked against AWS's published test suite.
//
// Reference: "Create a signed AWS API request" (AWS General Reference,
// Signature Version 4). All functions are pure and thread-safe.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace tally::aws {

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(absl::string_view data);
// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view data);
std::string HexEncode(absl::string_view bytes);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"),
// date as YYYYMMDD.
std::string SigningKey(absl::string_view secret_access_key, absl::string_view date, absl::string_view region,
                       absl::string_view service);

// "YYYYMMDD/region/service/aws4_request".
std::string CredentialScope(absl::string_view date, absl::string_view region, absl::string_view service);

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ stay, every
// other byte becomes %XY (upper-case hex); '/' too unless `keep_slash`.
std::string UriEncode(absl::string_view text, bool keep_slash = false);

// An HTTP request to sign. Header names in any case; values are trimmed and
// inner runs of spaces folded, as the canonical form wants.
struct HttpRequestToSign {
  std::string method;                                       // "GET"
  std::string path;                                         // already URI-encoded, "/" for none
  std::vector<std::pair<std::string, std::string>> query;   // decoded name, value
  std::vector<std::pair<std::string, std::string>> headers; // every header to sign, host and x-amz-date included
  std::string payload;
};

struct SignedHttpRequest {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header's value
};

// Signs `request` at `amz_date` ("YYYYMMDDTHHMMSSZ", which must equal the
// request's x-amz-date header) for region/service with the given key pair.
SignedHttpRequest SignHttpRequest(const HttpRequestToSign& request, absl::string_view amz_date,
                                  absl::string_view region, absl::string_view service,
                                  absl::string_view access_key_id, absl::string_view secret_access_key);

// The final step, shared by every form: hex(HMAC(SigningKey(...), string_to_sign)).
std::string Signature(absl::string_view secret_access_key, absl::string_view date, absl::string_view region,
                      absl::string_view service, absl::string_view string_to_sign);

}  // namespace tally::aws
