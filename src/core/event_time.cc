#include "core/event_time.h"

#include <cmath>

#include "absl/time/civil_time.h"

namespace tally {
namespace {

constexpr int64_t kEndOfEventSeconds = kEndOfEventTime / kMicrosPerSecond;

inline bool Digit(char c) { return static_cast<unsigned>(c - '0') <= 9; }

// Reads exactly n decimal digits at p; false if any is not a digit.
inline bool ReadDigits(const char* p, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!Digit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return true;
}

TimeResult Malformed(const char* why) { return {TimeError::kMalformed, why}; }
TimeResult OutOfRange() {
  return {TimeError::kOutOfRange, "event time is outside [1970-01-01T00:00:00Z, 2100-01-01T00:00:00Z)"};
}

TimeResult CheckRange(Micros t, Micros* out) {
  if (t < kMinEventTime || t >= kEndOfEventTime) return OutOfRange();
  *out = t;
  return {};
}

}  // namespace

std::string FormatDay(Day day) {
  return absl::FormatCivilTime(absl::CivilDay(1970, 1, 1) + day);
}

EventTimeParser::EventTimeParser(absl::TimeZone input_zone)
    : zone_(input_zone), zone_is_utc_(input_zone == absl::UTCTimeZone()) {}

TimeResult EventTimeParser::ParseText(std::string_view text, Micros* out) const {
  const char* p = text.data();
  const size_t n = text.size();
  if (n < 19) return Malformed("expected YYYY-MM-DDTHH:MM:SS");
  int year, month, day, hour, minute, second;
  if (!ReadDigits(p, 4, &year) || p[4] != '-' || !ReadDigits(p + 5, 2, &month) || p[7] != '-' ||
      !ReadDigits(p + 8, 2, &day)) {
    return Malformed("expected a date YYYY-MM-DD");
  }
  if (p[10] != 'T' && p[10] != ' ') return Malformed("expected 'T' or a space between date and time");
  if (!ReadDigits(p + 11, 2, &hour) || p[13] != ':' || !ReadDigits(p + 14, 2, &minute) ||
      p[16] != ':' || !ReadDigits(p + 17, 2, &second)) {
    return Malformed("expected a time HH:MM:SS");
  }
  if (month < 1 || month > 12) return Malformed("month out of range");
  const absl::CivilDay civil_day(year, month, day);
  if (day < 1 || civil_day.day() != day || civil_day.month() != month) {
    return Malformed("not a calendar date");
  }
  if (hour > 23) return Malformed("hour out of range 00-23");
  if (minute > 59) return Malformed("minute out of range 00-59");
  if (second > 59) return Malformed("second out of range 00-59");

  size_t i = 19;
  int64_t fraction_us = 0;
  if (i < n && p[i] == '.') {
    ++i;
    const size_t first = i;
    while (i < n && Digit(p[i])) ++i;
    const size_t digits = i - first;
    if (digits == 0 || digits > 9) return Malformed("fraction must have 1 to 9 digits");
    for (size_t k = 0; k < 6; ++k) {
      fraction_us = fraction_us * 10 + (k < digits ? p[first + k] - '0' : 0);
    }
  }

  bool has_zone = false;
  int64_t offset_seconds = 0;
  if (i < n) {
    has_zone = true;
    if (p[i] == 'Z') {
      ++i;
    } else if (p[i] == '+' || p[i] == '-') {
      const int sign = p[i] == '-' ? -1 : 1;
      int zh, zm;
      const size_t rest = n - i - 1;
      const char* z = p + i + 1;
      if (rest == 5 && z[2] == ':' && ReadDigits(z, 2, &zh) && ReadDigits(z + 3, 2, &zm)) {
        i = n;
      } else if (rest == 4 && ReadDigits(z, 2, &zh) && ReadDigits(z + 2, 2, &zm)) {
        i = n;
      } else {
        return Malformed("zone offset must be +HH:MM, -HH:MM, +HHMM or -HHMM");
      }
      if (zh > 23) return Malformed("zone hours out of range 00-23");
      if (zm > 59) return Malformed("zone minutes out of range 00-59");
      offset_seconds = sign * (zh * 3600 + zm * 60);
    } else {
      return Malformed("unexpected characters after the time");
    }
    if (i != n) return Malformed("unexpected characters after the zone");
  }

  int64_t seconds;
  if (has_zone || zone_is_utc_) {
    const int64_t days = civil_day - absl::CivilDay(1970, 1, 1);
    seconds = days * 86'400 + hour * 3'600 + minute * 60 + second - offset_seconds;
  } else {
    const absl::CivilSecond local(year, month, day, hour, minute, second);
    seconds = absl::ToUnixSeconds(absl::FromCivil(local, zone_));
  }
  if (seconds < 0 || seconds >= kEndOfEventSeconds) return OutOfRange();
  return CheckRange(seconds * kMicrosPerSecond + fraction_us, out);
}

TimeResult EventTimeParser::FromSeconds(double seconds, Micros* out) const {
  if (!std::isfinite(seconds)) return Malformed("not a finite number");
  // Outside this band the result is out of range whatever the rounding; inside
  // it the arithmetic below cannot overflow.
  if (seconds <= -1.0 || seconds >= static_cast<double>(kEndOfEventSeconds + 1)) return OutOfRange();
  double whole;
  const double fraction = std::modf(seconds, &whole);  // exact
  const Micros us = static_cast<Micros>(std::nearbyint(fraction * 1e6));
  return CheckRange(static_cast<Micros>(whole) * kMicrosPerSecond + us, out);
}

TimeResult EventTimeParser::FromSeconds(int64_t seconds, Micros* out) const {
  if (seconds < 0 || seconds >= kEndOfEventSeconds) return OutOfRange();
  *out = seconds * kMicrosPerSecond;
  return {};
}

}  // namespace tally
