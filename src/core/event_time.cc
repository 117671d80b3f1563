#include "core/event_time.h"

#include <cmath>

#include "absl/strings/str_cat.h"
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

bool IsLeapYear(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to a date of the proleptic Gregorian calendar. Counts in
// 400-year eras (146,097 days each) of years that start on March 1st, so the
// leap day falls at the end of a year. The hot path of every text time: abseil's
// civil types normalise fields first, which costs more than the whole count.
int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;                                   // [0, 399]
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146'097 + day_of_era - 719'468;  // 719,468: days from 0000-03-01 to 1970-01-01
}

TimeResult Malformed(const char* why) { return {TimeError::kMalformed, why}; }
TimeResult OutOfRange() {
  return {TimeError::kOutOfRange, "event time is outside [1970-01-01T00:00:00Z, 2100-01-01T00:00:00Z)"};
}

// fraction * 10^6 rounded to the nearest integer, an exact tie to even, for
// |fraction| < 1. Computed exactly: a floating-point product is itself rounded,
// and where the fraction has more significant bits than the product can hold
// (seconds below 2^13, early on 1970-01-01) it can make a tie of a value that is
// not one, or move a value across a tie (1.45e-5 is above 14.5 µs, not on it).
Micros RoundToMicros(double fraction) {
  int exponent;
  const double mantissa = std::frexp(std::fabs(fraction), &exponent);  // [0.5, 1), or 0
  if (mantissa == 0) return 0;
  // |fraction| = m / 2^shift with m < 2^53 an integer; exponent <= 0, so shift >= 53.
  const uint64_t m = static_cast<uint64_t>(std::ldexp(mantissa, 53));
  const int shift = 53 - exponent;
  if (shift > 74) return 0;  // |fraction| < 2^-22 s, under a quarter of a microsecond
  const unsigned __int128 product = static_cast<unsigned __int128>(m) * 1'000'000;  // < 2^73
  unsigned __int128 q = product >> shift;
  const unsigned __int128 rest = product - (q << shift);
  const unsigned __int128 half = static_cast<unsigned __int128>(1) << (shift - 1);
  if (rest > half || (rest == half && (q & 1) != 0)) ++q;
  const Micros us = static_cast<Micros>(q);
  return fraction < 0 ? -us : us;
}

TimeResult CheckRange(Micros t, Micros* out) {
  if (t < kMinEventTime || t >= kEndOfEventTime) return OutOfRange();
  *out = t;
  return {};
}

}  // namespace

std::string FormatDay(Day day) {
  // The inverse of DaysFromCivil, in the same March-based eras.
  const int64_t z = static_cast<int64_t>(day) + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const int64_t day_of_era = z - era * 146'097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1'460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int d = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t y = year_of_era + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return absl::StrCat(y, "-", m, "-", d);  // not reachable from valid event times
  char text[10] = {static_cast<char>('0' + y / 1000), static_cast<char>('0' + y / 100 % 10),
                   static_cast<char>('0' + y / 10 % 10), static_cast<char>('0' + y % 10), '-',
                   static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10), '-',
                   static_cast<char>('0' + d / 10), static_cast<char>('0' + d % 10)};
  return std::string(text, sizeof(text));
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
  if (day < 1 || day > DaysInMonth(year, month)) return Malformed("not a calendar date");
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
    const int64_t days = DaysFromCivil(year, month, day);
    seconds = days * 86'400 + hour * 3'600 + minute * 60 + second - offset_seconds;
  } else {
    const absl::CivilSecond local(year, month, day, hour, minute, second);
    // The offset in force before a DST change, for a repeated and for a skipped
    // local time alike (absl::FromCivil would map a skipped one to the
    // transition instant instead, which Java and Python do not).
    seconds = absl::ToUnixSeconds(zone_.At(local).pre);
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
  return CheckRange(static_cast<Micros>(whole) * kMicrosPerSecond + RoundToMicros(fraction), out);
}

TimeResult EventTimeParser::FromSeconds(int64_t seconds, Micros* out) const {
  if (seconds < 0 || seconds >= kEndOfEventSeconds) return OutOfRange();
  *out = seconds * kMicrosPerSecond;
  return {};
}

}  // namespace tally
