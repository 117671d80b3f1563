#include "runtime/redact.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tally {
namespace {

// Where the userinfo of `url` ends (the '@'), or npos if it has none. The
// authority runs from "://" to the next '/'.
size_t UserinfoEnd(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string_view::npos;
  const size_t authority = scheme_end + 3;
  const size_t path = url.find('/', authority);
  const size_t at = url.rfind('@', path == std::string_view::npos ? std::string_view::npos : path);
  if (at == std::string_view::npos || at < authority) return std::string_view::npos;
  return at;
}

}  // namespace

bool IsSecretKey(std::string_view key) {
  const std::string lower = absl::AsciiStrToLower(absl::string_view(key.data(), key.size()));
  return absl::StrContains(lower, "password") || absl::StrContains(lower, "secret") ||
         absl::StrContains(lower, "jaas") || absl::StrContains(lower, "oauthbearer.config");
}

bool HasUserinfo(std::string_view url) { return UserinfoEnd(url) != std::string_view::npos; }

std::string RedactUserinfo(std::string_view url) {
  const size_t at = UserinfoEnd(url);
  if (at == std::string_view::npos) return std::string(url);
  const size_t authority = url.find("://") + 3;
  return absl::StrCat(std::string(url.substr(0, authority)), "***", std::string(url.substr(at)));
}

std::string RedactSetting(std::string_view text) {
  size_t key_end = 0;
  while (key_end < text.size() && text[key_end] != '=' && text[key_end] != ':' &&
         !absl::ascii_isspace(static_cast<unsigned char>(text[key_end]))) {
    ++key_end;
  }
  const std::string_view key = text.substr(0, key_end);
  if (!IsSecretKey(key) || key_end == text.size()) return std::string(text);
  return absl::StrCat(std::string(key), std::string(text.substr(key_end, 1)), "***");
}

}  // namespace tally
