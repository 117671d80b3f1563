#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tally::aws {

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0xf]);
  }
  return hex;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexEncode(absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string SigningKey(absl::string_view secret_access_key, absl::string_view date, absl::string_view region,
                       absl::string_view service) {
  std::string key = HmacSha256(absl::StrCat("AWS4", secret_access_key), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  return HmacSha256(key, "aws4_request");
}

std::string CredentialScope(absl::string_view date, absl::string_view region, absl::string_view service) {
  return absl::StrCat(date, "/", region, "/", service, "/aws4_request");
}

std::string UriEncode(absl::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

std::string Signature(absl::string_view secret_access_key, absl::string_view date, absl::string_view region,
                      absl::string_view service, absl::string_view string_to_sign) {
  return HexEncode(HmacSha256(SigningKey(secret_access_key, date, region, service), string_to_sign));
}

namespace {

// Trims and folds inner runs of spaces to one (the canonical header value).
std::string CanonicalHeaderValue(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

SignedHttpRequest SignHttpRequest(const HttpRequestToSign& request, absl::string_view amz_date,
                                  absl::string_view region, absl::string_view service,
                                  absl::string_view access_key_id, absl::string_view secret_access_key) {
  // Query: each name and value encoded, then sorted by name, then value.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : request.query) query.emplace_back(UriEncode(name), UriEncode(value));
  std::sort(query.begin(), query.end());
  std::vector<std::string> query_parts;
  for (const auto& [name, value] : query) query_parts.push_back(absl::StrCat(name, "=", value));

  // Headers: names lower-cased and sorted; repeated names joined by commas.
  std::map<std::string, std::vector<std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers[absl::AsciiStrToLower(name)].push_back(CanonicalHeaderValue(value));
  }
  std::string canonical_headers;
  std::vector<std::string> names;
  for (const auto& [name, values] : headers) {
    absl::StrAppend(&canonical_headers, name, ":", absl::StrJoin(values, ","), "\n");
    names.push_back(name);
  }

  SignedHttpRequest out;
  out.signed_headers = absl::StrJoin(names, ";");
  out.canonical_request = absl::StrCat(request.method, "\n", request.path.empty() ? "/" : request.path, "\n",
                                       absl::StrJoin(query_parts, "&"), "\n", canonical_headers, "\n",
                                       out.signed_headers, "\n", Sha256Hex(request.payload));
  const absl::string_view date = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, region, service);
  out.string_to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", amz_date, "\n", scope, "\n", Sha256Hex(out.canonical_request));
  out.signature = Signature(secret_access_key, date, region, service, out.string_to_sign);
  out.authorization = absl::StrCat("AWS4-HMAC-SHA256 Credential=", access_key_id, "/", scope,
                                   ", SignedHeaders=", out.signed_headers, ", Signature=", out.signature);
  return out;
}

}  // namespace tally::aws
