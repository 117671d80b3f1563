// CreatedAt -> event time: the text form, the numeric form, the range, time
// zones, and the day arithmetic the windows rest on (docs/semantics.md, "Event time").

#include "core/event_time.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace tally {
namespace {

// 2024-01-01T00:00:00Z in seconds and microseconds.
constexpr int64_t k2024 = 1'704'067'200;
constexpr Micros k2024Us = k2024 * kMicrosPerSecond;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

// The event time of a UTC civil time, computed by abseil (an oracle independent
// of the parser's own calendar arithmetic).
Micros Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0, int us = 0) {
  return absl::ToUnixMicros(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone())) + us;
}

Day DayNumber(int y, int m, int d) { return static_cast<Day>(absl::CivilDay(y, m, d) - absl::CivilDay(1970, 1, 1)); }

// Parses `text`; returns the error and, on success, the time in *out.
TimeError Parse(const EventTimeParser& parser, const std::string& text, Micros* out) {
  Micros t = -42;
  const TimeResult r = parser.ParseText(text, &t);
  if (r.error != TimeError::kOk) {
    EXPECT_NE(r.why, nullptr) << text;
    EXPECT_EQ(t, -42) << "an error must leave the output untouched: " << text;
  } else {
    EXPECT_EQ(r.why, nullptr) << text;
  }
  *out = t;
  return r.error;
}

// The time `text` denotes; fails the test if it is refused.
Micros ParseOk(const EventTimeParser& parser, const std::string& text) {
  Micros t = 0;
  EXPECT_EQ(Parse(parser, text, &t), TimeError::kOk) << text;
  return t;
}

Micros ParseUtc(const std::string& text) { return ParseOk(EventTimeParser(absl::UTCTimeZone()), text); }

TimeError ParseError(const std::string& text, absl::TimeZone zone = absl::UTCTimeZone()) {
  Micros t;
  return Parse(EventTimeParser(zone), text, &t);
}

TimeError FromDouble(double seconds, Micros* out) {
  Micros t = -42;
  const TimeResult r = EventTimeParser(absl::UTCTimeZone()).FromSeconds(seconds, &t);
  if (r.error != TimeError::kOk) {
    EXPECT_NE(r.why, nullptr);
    EXPECT_EQ(t, -42);
  }
  *out = t;
  return r.error;
}

Micros FromDoubleOk(double seconds) {
  Micros t = 0;
  EXPECT_EQ(FromDouble(seconds, &t), TimeError::kOk) << seconds;
  return t;
}

TimeError FromInt(int64_t seconds, Micros* out) {
  Micros t = -42;
  const TimeResult r = EventTimeParser(absl::UTCTimeZone()).FromSeconds(seconds, &t);
  if (r.error != TimeError::kOk) {
    EXPECT_EQ(t, -42);
  }
  *out = t;
  return r.error;
}

// --- the text form -----------------------------------------------------------

TEST(EventTimeText, AcceptsTOrSpaceBetweenDateAndTime) {
  EXPECT_EQ(ParseUtc("2024-03-15T10:20:30Z"), Utc(2024, 3, 15, 10, 20, 30));
  EXPECT_EQ(ParseUtc("2024-03-15 10:20:30Z"), Utc(2024, 3, 15, 10, 20, 30));
  EXPECT_EQ(ParseUtc("2024-03-15 10:20:30"), Utc(2024, 3, 15, 10, 20, 30));
}

TEST(EventTimeText, ZoneLessTextIsInTheInputZoneWhichDefaultsToUtc) {
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00Z"), k2024Us);
}

TEST(EventTimeText, FractionOfOneToSixDigitsIsExact) {
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.5Z"), k2024Us + 500'000);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.12Z"), k2024Us + 120'000);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.123Z"), k2024Us + 123'000);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.1234Z"), k2024Us + 123'400);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.12345Z"), k2024Us + 123'450);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.123456Z"), k2024Us + 123'456);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.000001Z"), k2024Us + 1);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.0Z"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.000000"), k2024Us);
}

TEST(EventTimeText, FractionDigitsBeyondTheSixthAreTruncatedNotRounded) {
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.1234567Z"), k2024Us + 123'456);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.12345678Z"), k2024Us + 123'456);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.123456789Z"), k2024Us + 123'456);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.999999999Z"), k2024Us + 999'999);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.0000009Z"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00.000000999"), k2024Us);
  // Truncation does not depend on the zone's sign: the fraction is of the local
  // reading, and dropping digits never crosses a second or a day.
  EXPECT_EQ(ParseUtc("2024-01-01T05:30:00.9999999+05:30"), k2024Us + 999'999);
  EXPECT_EQ(ParseUtc("2023-12-31T19:00:00.1234569-05:00"), k2024Us + 123'456);
  EXPECT_EQ(ParseUtc("2099-12-31T23:59:59.999999999Z"), kEndOfEventTime - 1);
  EXPECT_EQ(ParseUtc("1970-01-01T00:00:00.0000009Z"), 0);
}

TEST(EventTimeText, AcceptsEveryZoneForm) {
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00Z"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T05:30:00+05:30"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T05:30:00+0530"), k2024Us);
  EXPECT_EQ(ParseUtc("2023-12-31T19:00:00-05:00"), k2024Us);
  EXPECT_EQ(ParseUtc("2023-12-31T19:00:00-0500"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00+00:00"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00-00:00"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T00:00:00+0000"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T23:59:00+23:59"), k2024Us);
  EXPECT_EQ(ParseUtc("2023-12-31T00:01:00-23:59"), k2024Us);
  EXPECT_EQ(ParseUtc("2024-01-01T05:45:00.25+05:45"), k2024Us + 250'000);
  EXPECT_EQ(ParseUtc("2024-01-01 05:45:00.25+0545"), k2024Us + 250'000);
}

TEST(EventTimeText, AnOffsetCanMoveTheTimeToAnotherUtcDay) {
  const Micros t = ParseUtc("2024-01-01T01:00:00+05:30");
  EXPECT_EQ(t, Utc(2023, 12, 31, 19, 30));
  EXPECT_EQ(FormatDay(DayOf(t)), "2023-12-31");
  EXPECT_EQ(FormatDay(DayOf(ParseUtc("2023-12-31T22:00:00-03:00"))), "2024-01-01");
}

TEST(EventTimeText, AcceptsEveryRealCalendarDate) {
  EXPECT_EQ(ParseUtc("2024-02-29T00:00:00Z"), Utc(2024, 2, 29));
  EXPECT_EQ(ParseUtc("2000-02-29T00:00:00Z"), Utc(2000, 2, 29));  // divisible by 400: leap
  EXPECT_EQ(ParseUtc("1972-02-29T12:00:00Z"), Utc(1972, 2, 29, 12));
  EXPECT_EQ(ParseUtc("2023-04-30T00:00:00Z"), Utc(2023, 4, 30));
  EXPECT_EQ(ParseUtc("2023-12-31T23:59:59Z"), Utc(2023, 12, 31, 23, 59, 59));
  EXPECT_EQ(ParseUtc("2023-01-31T00:00:00Z"), Utc(2023, 1, 31));
  // Every day of the range, in both separators: the parser's calendar agrees with abseil's.
  const EventTimeParser parser(absl::UTCTimeZone());
  for (absl::CivilDay d(1970, 1, 1); d < absl::CivilDay(2100, 1, 1); ++d) {
    const std::string text = absl::FormatCivilTime(d);
    Micros t = 0;
    ASSERT_EQ(parser.ParseText(text + "T00:00:00Z", &t).error, TimeError::kOk) << text;
    ASSERT_EQ(t, absl::ToUnixMicros(absl::FromCivil(d, absl::UTCTimeZone()))) << text;
    ASSERT_EQ(parser.ParseText(text + " 23:59:59.999999", &t).error, TimeError::kOk) << text;
    ASSERT_EQ(DayOf(t), static_cast<Day>(d - absl::CivilDay(1970, 1, 1))) << text;
  }
}

TEST(EventTimeText, RefusesDatesThatAreNotOnTheCalendar) {
  for (const char* text : {"2023-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2100-02-29T00:00:00Z",
                           "1900-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-06-31T00:00:00Z",
                           "2023-09-31T00:00:00Z", "2023-11-31T00:00:00Z", "2023-01-32T00:00:00Z",
                           "2023-00-10T00:00:00Z", "2023-13-10T00:00:00Z", "2023-01-00T00:00:00Z",
                           "2023-99-99T00:00:00Z"}) {
    EXPECT_EQ(ParseError(text), TimeError::kMalformed) << text;
  }
}

TEST(EventTimeText, RefusesFieldsOutOfTheirRange) {
  EXPECT_EQ(ParseError("2023-06-01T24:00:00Z"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-06-01T23:60:00Z"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-06-01T23:59:60Z"), TimeError::kMalformed);  // no leap second
  EXPECT_EQ(ParseError("2016-12-31T23:59:60Z"), TimeError::kMalformed);  // not even a real one
  EXPECT_EQ(ParseError("2023-06-01T00:00:00+24:00"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-06-01T00:00:00-24:00"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-06-01T00:00:00+2400"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-06-01T00:00:00+05:60"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-06-01T00:00:00-0560"), TimeError::kMalformed);
  // The same checks apply to zone-less text read in another input zone.
  EXPECT_EQ(ParseError("2023-06-01T24:00:00", Zone("Asia/Calcutta")), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2023-02-29T10:00:00", Zone("Asia/Calcutta")), TimeError::kMalformed);
}

TEST(EventTimeText, RefusesMalformedText) {
  for (const char* text : {
           "",
           "2024",
           "2024-01-01",                     // a date alone
           "2024-01-01T",                    // no time
           "2024-01-01T00:00",               // no seconds
           "2024-01-01T00:00Z",              // no seconds, with a zone
           "2024-01-01T00:00:0",             // a short field
           "2024-1-01T00:00:00Z",
           "2024-01-1T00:00:00Z",
           "2024-01-01T0:00:00Z",
           "24-01-01T00:00:00Z",
           "02024-01-01T00:00:00Z",          // a five-digit year
           "+2024-01-01T00:00:00Z",
           "2024/01/01T00:00:00Z",
           "2024-01-01T00-00-00Z",
           "2024-01-01T00:00:00.Z",          // '.' without digits
           "2024-01-01T00:00:00.",
           "2024-01-01T00:00:00.1234567890Z",  // ten fraction digits
           "2024-01-01T00:00:00.1234567890",
           "2024-01-01T00:00:00,5Z",         // a comma for the point
           "2024-01-01T00:00:00.5.5Z",
           "2024-01-01t00:00:00Z",           // lower-case separator
           "2024-01-01T00:00:00z",           // lower-case zone
           "2024-01-01_00:00:00Z",
           "2024-01-01  00:00:00Z",
           "2024-01-01T00:00:00ZZ",          // trailing garbage
           "2024-01-01T00:00:00Z ",
           "2024-01-01T00:00:00 ",           // a trailing space
           " 2024-01-01T00:00:00Z",          // a leading space
           "2024-01-01T00:00:00\n",
           "2024-01-01T00:00:00 Z",
           "2024-01-01T00:00:00UTC",
           "2024-01-01T00:00:00GMT",
           "2024-01-01T00:00:00+05",         // zone hours alone
           "2024-01-01T00:00:00+5:30",
           "2024-01-01T00:00:00+05:3",
           "2024-01-01T00:00:00+05:300",
           "2024-01-01T00:00:00+053",
           "2024-01-01T00:00:00+05300",
           "2024-01-01T00:00:00+05-30",
           "2024-01-01T00:00:00 +05:30",
           "2024-01-01T00:00:00+05:30Z",
           "2024-01-01T00:00:00+05:30 ",
           "2024-01-01T00:00:00Z+05:30",
           "2024-01-01T00:00:00+",
           "2024-01-01T00:00:00-",
           "2024-01-01T00:00:00+ab:cd",
           "2024-01-01T00:00:00\xe2\x88\x92" "05:00",  // U+2212 MINUS SIGN
           "abcd-ef-ghTij:kl:mnZ",
           "2024-0a-01T00:00:00Z",
           "2024-01-01T00:0a:00Z",
           "2024-01-01T00:00:0aZ",
           "2024-01-01T00:00:00.12a4Z",
           "2024-01-01T-1:00:00Z",
           "1704067200",                     // a number, as text
           "2024-01-01T00:00:00.5e3Z",
       }) {
    EXPECT_EQ(ParseError(text), TimeError::kMalformed) << '"' << text << '"';
  }
  // The length alone does not decide: an embedded NUL is not a digit.
  EXPECT_EQ(ParseError(std::string("2024-01-01T00:00:0\0Z", 20)), TimeError::kMalformed);
}

// --- the range -----------------------------------------------------------------

TEST(EventTimeRange, StartsAtTheEpoch) {
  EXPECT_EQ(ParseUtc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseUtc("1970-01-01T00:00:00"), 0);
  EXPECT_EQ(ParseUtc("1970-01-01T05:30:00+05:30"), 0);
  EXPECT_EQ(ParseUtc("1969-12-31T19:00:00-05:00"), 0);
  EXPECT_EQ(ParseUtc("1970-01-01T00:00:00.000001Z"), 1);
  EXPECT_EQ(ParseError("1969-12-31T23:59:59.999999Z"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("1969-12-31T23:59:59.9999999Z"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("1969-12-31T23:59:59Z"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("1970-01-01T00:00:00+00:01"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("1970-01-01T05:29:59.999999+05:30"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("1900-01-01T00:00:00Z"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("0000-01-01T00:00:00Z"), TimeError::kOutOfRange);
}

TEST(EventTimeRange, EndsBefore2100) {
  EXPECT_EQ(ParseUtc("2099-12-31T23:59:59.999999Z"), kEndOfEventTime - 1);
  EXPECT_EQ(ParseUtc("2099-12-31T23:59:59Z"), kEndOfEventTime - kMicrosPerSecond);
  EXPECT_EQ(ParseUtc("2100-01-01T05:29:59.999999+05:30"), kEndOfEventTime - 1);
  EXPECT_EQ(ParseError("2100-01-01T00:00:00Z"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("2100-01-01T00:00:00.000001Z"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("2099-12-31T23:59:59-00:01"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("2099-12-31T19:00:00-05:00"), TimeError::kOutOfRange);
  EXPECT_EQ(ParseError("9999-12-31T23:59:59Z"), TimeError::kOutOfRange);
  EXPECT_EQ(kEndOfEventTime, Utc(2100, 1, 1));
}

TEST(EventTimeRange, MalformedWinsOverOutOfRange) {
  // A text that breaks the grammar is malformed, whatever year it names.
  EXPECT_EQ(ParseError("1969-02-29T00:00:00Z"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("2100-01-01T24:00:00Z"), TimeError::kMalformed);
  EXPECT_EQ(ParseError("1960-01-01T00:00:00.Z"), TimeError::kMalformed);
}

// --- input time zones --------------------------------------------------------------

TEST(EventTimeZone, ZoneLessTextIsReadInTheInputZone) {
  const EventTimeParser calcutta(Zone("Asia/Calcutta"));  // +05:30
  EXPECT_EQ(ParseOk(calcutta, "2024-01-01T05:30:00"), k2024Us);
  EXPECT_EQ(ParseOk(calcutta, "2024-01-01 05:30:00.123456789"), k2024Us + 123'456);
  EXPECT_EQ(ParseOk(calcutta, "2024-01-01T01:00:00"), Utc(2023, 12, 31, 19, 30));

  const EventTimeParser kathmandu(Zone("Asia/Kathmandu"));  // +05:45 since 1986
  EXPECT_EQ(ParseOk(kathmandu, "2024-01-01T05:45:00"), k2024Us);
  EXPECT_EQ(ParseOk(kathmandu, "1980-01-01T05:30:00"), Utc(1980, 1, 1));  // +05:30 then: the zone's history counts
}

TEST(EventTimeZone, AnExplicitOffsetIgnoresTheInputZone) {
  for (const char* name : {"Asia/Calcutta", "Asia/Kathmandu", "America/New_York"}) {
    const EventTimeParser parser(Zone(name));
    EXPECT_EQ(ParseOk(parser, "2024-01-01T00:00:00Z"), k2024Us) << name;
    EXPECT_EQ(ParseOk(parser, "2024-01-01T01:00:00+01:00"), k2024Us) << name;
    EXPECT_EQ(ParseOk(parser, "2023-12-31T20:00:00-0400"), k2024Us) << name;
    EXPECT_EQ(ParseOk(parser, "2023-03-12T02:30:00Z"), Utc(2023, 3, 12, 2, 30)) << name;
  }
}

TEST(EventTimeZone, TheInputZoneDecidesTheRange) {
  const EventTimeParser calcutta(Zone("Asia/Calcutta"));
  Micros t;
  EXPECT_EQ(ParseOk(calcutta, "1970-01-01T05:30:00"), 0);
  EXPECT_EQ(Parse(calcutta, "1970-01-01T05:29:59.999999", &t), TimeError::kOutOfRange);
  EXPECT_EQ(Parse(calcutta, "1970-01-01T00:00:00", &t), TimeError::kOutOfRange);
  EXPECT_EQ(ParseOk(calcutta, "2100-01-01T05:29:59.999999"), kEndOfEventTime - 1);
  EXPECT_EQ(Parse(calcutta, "2100-01-01T05:30:00", &t), TimeError::kOutOfRange);
  const EventTimeParser new_york(Zone("America/New_York"));
  EXPECT_EQ(Parse(new_york, "2099-12-31T19:00:00", &t), TimeError::kOutOfRange);
  EXPECT_EQ(ParseOk(new_york, "2099-12-31T18:59:59.999999"), kEndOfEventTime - 1);
}

TEST(EventTimeZone, OrdinaryTimesUseTheOffsetInForce) {
  const EventTimeParser new_york(Zone("America/New_York"));
  EXPECT_EQ(ParseOk(new_york, "2023-01-15T12:00:00"), Utc(2023, 1, 15, 17));  // EST, -05:00
  EXPECT_EQ(ParseOk(new_york, "2023-07-01T12:00:00"), Utc(2023, 7, 1, 16));   // EDT, -04:00
  EXPECT_EQ(ParseOk(new_york, "2023-03-12T01:59:59"), Utc(2023, 3, 12, 6, 59, 59));
  EXPECT_EQ(ParseOk(new_york, "2023-03-12T03:00:00"), Utc(2023, 3, 12, 7));
}

TEST(EventTimeZone, ASkippedLocalTimeIsReadWithTheOffsetBeforeTheChange) {
  // 2023-03-12 02:00-03:00 does not exist in New York; 02:30 is read as EST
  // (-05:00), i.e. 07:30Z, which is 03:30 EDT: after the gap.
  const EventTimeParser new_york(Zone("America/New_York"));
  EXPECT_EQ(ParseOk(new_york, "2023-03-12T02:30:00"), Utc(2023, 3, 12, 7, 30));
  EXPECT_EQ(ParseOk(new_york, "2023-03-12 02:00:00"), Utc(2023, 3, 12, 7, 0));
  EXPECT_EQ(ParseOk(new_york, "2023-03-12T02:59:59.5"), Utc(2023, 3, 12, 7, 59, 59, 500'000));
}

TEST(EventTimeZone, ARepeatedLocalTimeIsTheEarlierInstant) {
  // 2023-11-05 01:00-02:00 happens twice in New York: first in EDT (-04:00).
  const EventTimeParser new_york(Zone("America/New_York"));
  EXPECT_EQ(ParseOk(new_york, "2023-11-05T01:30:00"), Utc(2023, 11, 5, 5, 30));
  EXPECT_EQ(ParseOk(new_york, "2023-11-05T01:00:00"), Utc(2023, 11, 5, 5, 0));
  EXPECT_EQ(ParseOk(new_york, "2023-11-05T01:59:59.999999"), Utc(2023, 11, 5, 5, 59, 59, 999'999));
  EXPECT_EQ(ParseOk(new_york, "2023-11-05T02:00:00"), Utc(2023, 11, 5, 7, 0));  // EST again
  EXPECT_EQ(ParseOk(new_york, "2023-11-05T00:59:59"), Utc(2023, 11, 5, 4, 59, 59));
}

// --- numbers -----------------------------------------------------------------------

TEST(EventTimeNumber, WholeSecondsSinceTheEpoch) {
  Micros t;
  EXPECT_EQ(FromInt(0, &t), TimeError::kOk);
  EXPECT_EQ(t, 0);
  EXPECT_EQ(FromInt(k2024, &t), TimeError::kOk);
  EXPECT_EQ(t, k2024Us);
  EXPECT_EQ(FromInt(4'102'444'799, &t), TimeError::kOk);
  EXPECT_EQ(t, kEndOfEventTime - kMicrosPerSecond);
  EXPECT_EQ(FromDoubleOk(1704067200.0), k2024Us);
  EXPECT_EQ(FromDoubleOk(0.0), 0);
  EXPECT_EQ(FromDoubleOk(-0.0), 0);  // the value zero, whatever its sign bit
}

TEST(EventTimeNumber, WholeSecondsOutOfRange) {
  Micros t;
  EXPECT_EQ(FromInt(-1, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromInt(4'102'444'800, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromInt(4'102'444'801, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromInt(std::numeric_limits<int64_t>::max(), &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromInt(std::numeric_limits<int64_t>::min(), &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromInt(-k2024, &t), TimeError::kOutOfRange);
}

TEST(EventTimeNumber, FractionalSeconds) {
  EXPECT_EQ(FromDoubleOk(1.5), 1'500'000);
  EXPECT_EQ(FromDoubleOk(0.25), 250'000);
  EXPECT_EQ(FromDoubleOk(1704067200.25), k2024Us + 250'000);
  EXPECT_EQ(FromDoubleOk(1704067200.123456), k2024Us + 123'456);  // the nearest double is close enough
  EXPECT_EQ(FromDoubleOk(1e-6), 1);
  EXPECT_EQ(FromDoubleOk(4102444799.5), kEndOfEventTime - 500'000);
}

TEST(EventTimeNumber, RoundsToTheNearestMicrosecond) {
  // Exactly representable doubles, none on a tie.
  EXPECT_EQ(FromDoubleOk(1704067200.0 + std::ldexp(1.0, -20)), k2024Us + 1);      // 0.954 µs: up, not truncated
  EXPECT_EQ(FromDoubleOk(1704067200.0 + 3 * std::ldexp(1.0, -22)), k2024Us + 1);  // 0.715 µs
  EXPECT_EQ(FromDoubleOk(1704067200.0 + std::ldexp(1.0, -22)), k2024Us);          // 0.238 µs: down
  EXPECT_EQ(FromDoubleOk(6e-7), 1);
  EXPECT_EQ(FromDoubleOk(4e-7), 0);
  EXPECT_EQ(FromDoubleOk(std::numeric_limits<double>::denorm_min()), 0);
  EXPECT_EQ(FromDoubleOk(4102444799.999999), kEndOfEventTime - 1);
  // Small numbers carry more bits than a floating-point product with 10^6
  // keeps, and rounding that product first can cross a tie: 1.45e-05 is, as
  // a double, a little above 14.5 µs, and 4.95e-05 a little below 49.5 µs.
  EXPECT_EQ(FromDoubleOk(1.45e-05), 15);
  EXPECT_EQ(FromDoubleOk(2.85e-05), 29);
  EXPECT_EQ(FromDoubleOk(4.95e-05), 49);
  EXPECT_EQ(FromDoubleOk(6.35e-05), 63);
  EXPECT_EQ(FromDoubleOk(100.0000145), 100'000'015);  // a little above 100.0000145 as a double
}

TEST(EventTimeNumber, AnExactTieGoesToTheEvenMicrosecond) {
  // k/128 s with k odd is an exact binary fraction and an exact half
  // microsecond: 1/128 s = 7812.5 µs.
  ASSERT_EQ(1.0 / 128 * 1e6, 7812.5);
  EXPECT_EQ(FromDoubleOk(1.0 / 128), 7'812);         // 7812.5 -> 7812
  EXPECT_EQ(FromDoubleOk(3.0 / 128), 23'438);        // 23437.5 -> 23438
  EXPECT_EQ(FromDoubleOk(5.0 / 128), 39'062);        // 39062.5 -> 39062
  EXPECT_EQ(FromDoubleOk(7.0 / 128), 54'688);        // 54687.5 -> 54688
  EXPECT_EQ(FromDoubleOk(1704067200.0 + 1.0 / 128), k2024Us + 7'812);
  EXPECT_EQ(FromDoubleOk(1704067200.0 + 3.0 / 128), k2024Us + 23'438);
  EXPECT_EQ(FromDoubleOk(1704067200.0 + 127.0 / 128), k2024Us + 992'188);  // 992187.5
  EXPECT_EQ(FromDoubleOk(4102444799.0 + 125.0 / 128), kEndOfEventTime - kMicrosPerSecond + 976'562);  // 976562.5
}

TEST(EventTimeNumber, NotFiniteIsMalformed) {
  Micros t;
  EXPECT_EQ(FromDouble(std::numeric_limits<double>::quiet_NaN(), &t), TimeError::kMalformed);
  EXPECT_EQ(FromDouble(-std::numeric_limits<double>::quiet_NaN(), &t), TimeError::kMalformed);
  EXPECT_EQ(FromDouble(std::numeric_limits<double>::infinity(), &t), TimeError::kMalformed);
  EXPECT_EQ(FromDouble(-std::numeric_limits<double>::infinity(), &t), TimeError::kMalformed);
}

TEST(EventTimeNumber, FractionalOutOfRange) {
  Micros t;
  EXPECT_EQ(FromDouble(-1.0, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-0.5, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-0.001, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-1e-6, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-1.0 / 128, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-1704067200.5, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-1e300, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(-std::numeric_limits<double>::max(), &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(4102444800.0, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(4102444800.5, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(4102444801.0, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(1e19, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(1e300, &t), TimeError::kOutOfRange);
  EXPECT_EQ(FromDouble(std::numeric_limits<double>::max(), &t), TimeError::kOutOfRange);
}

TEST(EventTimeNumber, TheRangeAppliesToTheRoundedMicrosecond) {
  // Event times are kept in microseconds: the range check is on the rounded value.
  Micros t;
  EXPECT_EQ(FromDouble(4102444799.9999995, &t), TimeError::kOutOfRange);  // rounds to 2100-01-01T00:00:00Z
  EXPECT_EQ(FromDoubleOk(-4e-7), 0);                                       // rounds to the epoch itself
}

// --- days ----------------------------------------------------------------------------

TEST(EventTimeDay, DayOfFloorsToTheUtcDay) {
  EXPECT_EQ(DayOf(0), 0);
  EXPECT_EQ(DayOf(kMicrosPerDay - 1), 0);
  EXPECT_EQ(DayOf(kMicrosPerDay), 1);
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(DayOf(-kMicrosPerDay), -1);
  EXPECT_EQ(DayOf(-kMicrosPerDay - 1), -2);
  EXPECT_EQ(DayOf(k2024Us), DayNumber(2024, 1, 1));
  EXPECT_EQ(DayOf(k2024Us - 1), DayNumber(2023, 12, 31));
  EXPECT_EQ(DayOf(kEndOfEventTime - 1), DayNumber(2099, 12, 31));
  EXPECT_EQ(DayOf(kEndOfEventTime), DayNumber(2100, 1, 1));
  EXPECT_EQ(StartOfDay(DayNumber(2024, 1, 1)), k2024Us);
  EXPECT_EQ(StartOfDay(-1), -kMicrosPerDay);
  EXPECT_EQ(FloorDiv(-7, 2), -4);
  EXPECT_EQ(FloorDiv(7, 2), 3);
  EXPECT_EQ(FloorDiv(-6, 2), -3);
}

TEST(EventTimeDay, FormatDayWritesTheCalendarDate) {
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(-1), "1969-12-31");
  EXPECT_EQ(FormatDay(DayNumber(1972, 2, 29)), "1972-02-29");
  EXPECT_EQ(FormatDay(DayNumber(1972, 3, 1)), "1972-03-01");
  EXPECT_EQ(FormatDay(DayNumber(2000, 2, 29)), "2000-02-29");
  EXPECT_EQ(FormatDay(DayNumber(2023, 2, 28) + 1), "2023-03-01");
  EXPECT_EQ(FormatDay(DayNumber(2024, 2, 28) + 1), "2024-02-29");
  EXPECT_EQ(FormatDay(DayOf(ParseUtc("2099-12-31T23:59:59.999999Z"))), "2099-12-31");
  EXPECT_EQ(FormatDay(DayNumber(2100, 1, 1)), "2100-01-01");
  EXPECT_EQ(FormatDay(DayNumber(2100, 3, 1) - 1), "2100-02-28");  // 2100 is not a leap year
  // Every day of the range (and a little around it) against abseil's calendar.
  for (absl::CivilDay d(1960, 1, 1); d < absl::CivilDay(2110, 1, 1); ++d) {
    ASSERT_EQ(FormatDay(static_cast<Day>(d - absl::CivilDay(1970, 1, 1))), absl::FormatCivilTime(d));
  }
}

}  // namespace
}  // namespace tally
