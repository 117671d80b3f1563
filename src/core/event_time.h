#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace tally {

// Event time: microseconds since 1970-01-01T00:00:00Z.
using Micros = int64_t;

inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerDay = 86'400 * kMicrosPerSecond;
// Valid event times lie in [kMinEventTime, kEndOfEventTime): 1970-01-01 up to,
// not including, 2100-01-01T00:00:00Z.
inline constexpr Micros kMinEventTime = 0;
inline constexpr Micros kEndOfEventTime = 4'102'444'800LL * kMicrosPerSecond;

// A calendar day in UTC, as days since 1970-01-01: the one-day tumbling window
// an event time falls in.
using Day = int32_t;

inline constexpr Micros FloorDiv(Micros a, Micros b) {
  Micros q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
inline constexpr Day DayOf(Micros t) { return static_cast<Day>(FloorDiv(t, kMicrosPerDay)); }
inline constexpr Micros StartOfDay(Day d) { return static_cast<Micros>(d) * kMicrosPerDay; }

// "YYYY-MM-DD".
std::string FormatDay(Day day);

// Why a CreatedAt value was refused; kOk on success.
enum class TimeError : uint8_t { kOk, kMalformed, kOutOfRange };

struct TimeResult {
  TimeError error = TimeError::kOk;
  // On error, a static description of what is wrong (never null then).
  const char* why = nullptr;
};

// Turns CreatedAt values into event times. The accepted text form is
//   YYYY-MM-DD ('T' | ' ') HH:MM:SS [ '.' 1-9 digits ] [ 'Z' | ±HH:MM | ±HHMM ]
// with a real calendar date, hours 00-23, minutes and seconds 00-59 (no leap
// second), zone hours 00-23 and zone minutes 00-59. Fraction digits beyond the
// sixth are dropped. Text without a zone is local time in the input time zone;
// a local time that a DST change skips or repeats resolves with the offset in
// force before the change (the earlier instant for a repeated hour). Numbers are
// seconds since the epoch, rounded to the nearest microsecond (ties to even).
//
// Thread-compatible: const methods may be called concurrently.
class EventTimeParser {
 public:
  explicit EventTimeParser(absl::TimeZone input_zone);

  TimeResult ParseText(std::string_view text, Micros* out) const;
  TimeResult FromSeconds(double seconds, Micros* out) const;
  TimeResult FromSeconds(int64_t seconds, Micros* out) const;

 private:
  absl::TimeZone zone_;
  bool zone_is_utc_;
};

}  // namespace tally
