#include "cli/byte_size.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tally {

absl::StatusOr<uint64_t> ParseByteSize(std::string_view view) {
  // Debian's abseil has its own string_view type; convert once at the border.
  const absl::string_view text(view.data(), view.size());
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid size '", text, "': expected a whole number and a unit, e.g. 512MiB or 2GiB (B, KiB, MiB, GiB, TiB; "
                                "or KB, MB, GB, TB for powers of 1000)"));
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 16) return bad();
  uint64_t n = 0;
  if (!absl::SimpleAtoi(text.substr(0, digits), &n)) return bad();
  static constexpr std::pair<absl::string_view, uint64_t> kUnits[] = {
      {"B", 1},          {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
      {"KB", 1000ull},   {"MB", 1000000ull},  {"GB", 1000000000ull}, {"TB", 1000000000000ull}};
  const absl::string_view unit = text.substr(digits);
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    constexpr uint64_t kMax = 1ull << 50;
    if (n > kMax / factor) return absl::InvalidArgumentError(absl::StrCat("invalid size '", text, "': over 1 PiB"));
    return n * factor;
  }
  return bad();
}

}  // namespace tally
