#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally {

// A 128-bit UUID held as two words, most significant first. The value type of
// EventUUID and UserUUID: compared by value, so "ABC..." and "abc..." are equal.
struct Uuid {
  uint64_t hi = 0;
  uint64_t lo = 0;

  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Uuid& u) {
    return H::combine(std::move(h), u.hi, u.lo);
  }
};

// Length of the canonical text form 8-4-4-4-12.
inline constexpr size_t kUuidTextLength = 36;

// Parses the canonical form: 36 characters, hex digits of either case, dashes at
// positions 8, 13, 18 and 23. Returns false (leaving *out untouched) otherwise;
// braces, URNs and missing dashes are not accepted.
bool ParseUuid(std::string_view text, Uuid* out);

// Writes the canonical lower-case form into out[0..36).
void FormatUuid(const Uuid& id, char* out);
std::string FormatUuid(const Uuid& id);

}  // namespace tally
