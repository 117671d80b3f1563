#include "cli/duration.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tally {

absl::StatusOr<absl::Duration> ParseDuration(std::string_view view) {
  // Debian's abseil has its own string_view type; convert once at the border.
  const absl::string_view text(view.data(), view.size());
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration '", text, "': expected a whole number and a unit, e.g. 200ms, 5s, 10m, 36h or 7d"));
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return bad();
  int64_t n = 0;
  if (!absl::SimpleAtoi(text.substr(0, digits), &n)) return bad();
  const absl::string_view unit = text.substr(digits);
  absl::Duration d;
  if (unit == "ms") d = absl::Milliseconds(n);
  else if (unit == "s") d = absl::Seconds(n);
  else if (unit == "m") d = absl::Minutes(n);
  else if (unit == "h") d = absl::Hours(n);
  else if (unit == "d") d = absl::Hours(24 * n);
  else return bad();
  if (d > absl::Hours(24 * 36525)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration '", text, "': longer than 100 years"));
  }
  return d;
}

}  // namespace tally
