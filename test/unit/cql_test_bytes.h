#pragma once

// Byte-sequence helpers shared by the CQL codec tests, which check encodings
// against bytes written out from the protocol spec.

#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace tally::cql::testing {

// B({0x04, 0x00}) == "\x04\x00": bytes as the spec lists them.
inline std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// Lower-case hex, so a failed comparison shows readable bytes.
inline std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

inline bool Contains(absl::string_view text, absl::string_view part) {
  return text.find(part) != absl::string_view::npos;
}

}  // namespace tally::cql::testing
