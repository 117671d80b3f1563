#include "runtime/log.h"

#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tally {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (2 to 4
// bytes, no overlong forms, no surrogates, at most U+10FFFF), or 0.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const uint8_t lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;  // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string PrintableText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x80) {
      absl::StrAppendFormat(&out, "\\x%02x", c);  // other C0 controls, DEL
    } else if (const size_t n = Utf8SequenceLength(text.substr(i)); n > 0) {
      // U+0080..U+009F is encoded C2 80..C2 9F: a C1 control.
      if (n == 2 && c == 0xC2 && static_cast<uint8_t>(text[i + 1]) < 0xA0) {
        absl::StrAppendFormat(&out, "\\u%04x", static_cast<uint8_t>(text[i + 1]));
      } else {
        out.append(text.data() + i, n);
      }
      i += n;
      continue;
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);  // not UTF-8
    }
    ++i;
  }
  return out;
}

void LogLine(absl::string_view prefix, absl::string_view text) {
  const std::string line = absl::StrCat(prefix, ": ", PrintableText(text), "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace tally
