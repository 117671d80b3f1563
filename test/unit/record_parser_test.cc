// Which records are valid, and for each invalid one the reason it is refused
// with (docs/semantics.md, "Input records" and "Invalid records"). Every record
// is parsed twice, padded and unpadded, and both must agree; the unpadded copy
// ends exactly at the end of its allocation, so ASan catches any read past it.

#include "core/record_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace tally {
namespace {

constexpr char kEvent[] = "0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab";
constexpr char kUser[] = "5d1a9b7c-3e2f-4a1b-8c9d-abcdef012345";
constexpr Micros kNoon = (1'704'067'200LL + 12 * 3600) * kMicrosPerSecond;  // 2024-01-01T12:00:00Z

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

using Fields = std::vector<std::pair<std::string, std::string>>;  // name, raw JSON value

Fields ValidFields() {
  return {{"EventUUID", Quote(kEvent)},
          {"UserUUID", Quote(kUser)},
          {"EventName", Quote("lesson_started")},
          {"CreatedAt", Quote("2024-01-01T12:00:00Z")}};
}

std::string Object(const Fields& fields) {
  std::string s = "{";
  for (const auto& [name, value] : fields) {
    if (s.size() > 1) s += ",";
    s += Quote(name) + ":" + value;
  }
  return s + "}";
}

std::string Valid() { return Object(ValidFields()); }

// The valid record with field `name` set to the raw JSON `value`.
std::string With(const std::string& name, const std::string& value) {
  Fields fields = ValidFields();
  for (auto& f : fields) {
    if (f.first == name) f.second = value;
  }
  return Object(fields);
}

std::string Without(const std::string& name) {
  Fields fields = ValidFields();
  std::erase_if(fields, [&](const auto& f) { return f.first == name; });
  return Object(fields);
}

Uuid U(std::string_view text) {
  Uuid u;
  EXPECT_TRUE(ParseUuid(text, &u)) << text;
  return u;
}

struct Outcome {
  bool ok = false;
  Event event;
  RecordParser::Error error{DeadLetterReason::kLate, ""};
};

Outcome ParseUnpadded(RecordParser& parser, std::string_view bytes) {
  // Exactly the record's bytes, nothing readable after them.
  auto buffer = std::make_unique<char[]>(bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.get(), bytes.data(), bytes.size());
  Outcome o;
  o.ok = parser.Parse(std::string_view(buffer.get(), bytes.size()), /*padded=*/false, &o.event, &o.error);
  return o;
}

Outcome ParsePadded(RecordParser& parser, std::string_view bytes) {
  // The padding holds bytes that would change the record if they were read as part of it.
  std::vector<char> buffer(bytes.size() + kRecordPadding);
  for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = "}\"]1,"[i % 5];
  if (!bytes.empty()) std::memcpy(buffer.data(), bytes.data(), bytes.size());
  Outcome o;
  o.ok = parser.Parse(std::string_view(buffer.data(), bytes.size()), /*padded=*/true, &o.event, &o.error);
  return o;
}

// Parses `bytes` padded and unpadded, checks that both agree, returns the outcome.
Outcome Parse(RecordParser& parser, std::string_view bytes) {
  const Outcome unpadded = ParseUnpadded(parser, bytes);
  const Outcome padded = ParsePadded(parser, bytes);
  EXPECT_EQ(padded.ok, unpadded.ok) << bytes;
  if (padded.ok && unpadded.ok) {
    EXPECT_EQ(padded.event.event_id, unpadded.event.event_id) << bytes;
    EXPECT_EQ(padded.event.user_id, unpadded.event.user_id) << bytes;
    EXPECT_EQ(padded.event.event_time, unpadded.event.event_time) << bytes;
  } else if (!padded.ok && !unpadded.ok) {
    EXPECT_EQ(padded.error.reason, unpadded.error.reason) << bytes;
    EXPECT_EQ(padded.error.detail, unpadded.error.detail) << bytes;
  }
  return unpadded;
}

class RecordParserTest : public ::testing::Test {
 protected:
  Outcome Run(std::string_view bytes) { return Parse(parser_, bytes); }

  // Expects the record to be refused for `reason`, with a detail saying why.
  void ExpectInvalid(std::string_view bytes, DeadLetterReason reason) {
    const Outcome o = Run(bytes);
    EXPECT_FALSE(o.ok) << bytes;
    if (o.ok) return;
    EXPECT_EQ(ReasonName(o.error.reason), std::string(ReasonName(reason))) << bytes;
    EXPECT_FALSE(o.error.detail.empty()) << bytes;
  }

  Event ExpectValid(std::string_view bytes) {
    const Outcome o = Run(bytes);
    EXPECT_TRUE(o.ok) << bytes << " -> " << (o.ok ? "" : ReasonName(o.error.reason)) << " "
                      << o.error.detail;
    return o.event;
  }

  RecordParser parser_{FieldNames{}, EventTimeParser(absl::UTCTimeZone())};
};

TEST_F(RecordParserTest, AValidRecord) {
  const Event e = ExpectValid(Valid());
  EXPECT_EQ(e.event_id, U(kEvent));
  EXPECT_EQ(e.user_id, U(kUser));
  EXPECT_EQ(e.event_time, kNoon);
  EXPECT_EQ(parser_.max_record_bytes(), kDefaultMaxRecordBytes);
  EXPECT_EQ(kDefaultMaxRecordBytes, size_t{1} << 20);
}

TEST_F(RecordParserTest, CreatedAtMayBeANumber) {
  EXPECT_EQ(ExpectValid(With("CreatedAt", "1704110400")).event_time, kNoon);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "1704110400.0")).event_time, kNoon);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "1704110400.25")).event_time, kNoon + 250'000);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "1.7041104e9")).event_time, kNoon);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "17041104E2")).event_time, kNoon);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "0")).event_time, 0);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "-0")).event_time, 0);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "0.0000005")).event_time, 0);  // 0.5 µs, to even
  EXPECT_EQ(ExpectValid(With("CreatedAt", "1e-400")).event_time, 0);     // underflows to zero
  EXPECT_EQ(ExpectValid(With("CreatedAt", "4102444799.999999")).event_time, kEndOfEventTime - 1);
}

TEST_F(RecordParserTest, CreatedAtTextFollowsTheEventTimeRules) {
  EXPECT_EQ(ExpectValid(With("CreatedAt", Quote("2024-01-01 17:30:00+05:30"))).event_time, kNoon);
  EXPECT_EQ(ExpectValid(With("CreatedAt", Quote("2024-01-01T12:00:00.1234567"))).event_time, kNoon + 123'456);
  // A JSON escape is just another way to write the same text.
  EXPECT_EQ(ExpectValid(With("CreatedAt", Quote("2024-01-01\\u005412:00:00Z"))).event_time, kNoon);
}

TEST_F(RecordParserTest, ZoneLessTextIsReadInTheInputZone) {
  absl::TimeZone calcutta;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Calcutta", &calcutta));
  RecordParser parser(FieldNames{}, EventTimeParser(calcutta));
  const Outcome local = Parse(parser, With("CreatedAt", Quote("2024-01-01T17:30:00")));
  ASSERT_TRUE(local.ok);
  EXPECT_EQ(local.event.event_time, kNoon);
  const Outcome explicit_zone = Parse(parser, With("CreatedAt", Quote("2024-01-01T12:00:00Z")));
  ASSERT_TRUE(explicit_zone.ok);
  EXPECT_EQ(explicit_zone.event.event_time, kNoon);
  const Outcome number = Parse(parser, With("CreatedAt", "1704110400"));
  ASSERT_TRUE(number.ok);
  EXPECT_EQ(number.event.event_time, kNoon);
}

TEST_F(RecordParserTest, NotUtf8) {
  for (const char* bad : {
           "\xff",              // a byte that never occurs in UTF-8
           "\xfe",
           "\x80",              // a continuation byte with no lead
           "\xc0\xaf",          // overlong '/'
           "\xe0\x80\xaf",      // overlong '/', three bytes
           "\xf0\x80\x80\xaf",  // overlong '/', four bytes
           "\xed\xa0\x80",      // U+D800, a lone surrogate encoded as UTF-8
           "\xed\xbf\xbf",      // U+DFFF
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xe2\x82",          // truncated: the string ends inside a character
           "\xc3",
           "\xf0\x9f\x98",
       }) {
    ExpectInvalid(With("EventName", Quote(std::string("lesson") + bad)), DeadLetterReason::kNotUtf8);
    ExpectInvalid(With("EventName", Quote(std::string(bad) + "lesson")), DeadLetterReason::kNotUtf8);
    // In a field tally ignores, too: the whole record must be UTF-8.
    ExpectInvalid(Object({{"EventUUID", Quote(kEvent)},
                          {"UserUUID", Quote(kUser)},
                          {"EventName", Quote("e")},
                          {"CreatedAt", Quote("2024-01-01T12:00:00Z")},
                          {"note", Quote(bad)}}),
                  DeadLetterReason::kNotUtf8);
  }
  // A truncated character at the very end of the record.
  ExpectInvalid(Valid() + "\xe2\x82", DeadLetterReason::kNotUtf8);
}

TEST_F(RecordParserTest, ValidUtf8IsAccepted) {
  ExpectValid(With("EventName", Quote("lecci\xc3\xb3n")));         // 2 bytes
  ExpectValid(With("EventName", Quote("\xe2\x82\xac")));          // 3 bytes
  ExpectValid(With("EventName", Quote("\xf0\x9f\x98\x80")));      // 4 bytes
  ExpectValid(With("EventName", Quote("\xf4\x8f\xbf\xbf")));      // U+10FFFF
  ExpectValid(With("EventName", Quote("\xed\x9f\xbf")));          // U+D7FF, just below the surrogates
  ExpectValid(With("EventName", Quote("\\ud83d\\ude00")));        // an escaped surrogate pair
  ExpectValid(With("EventName", Quote("\x7f")));                  // DEL needs no escape
}

TEST_F(RecordParserTest, NotJson) {
  const std::string valid = Valid();
  for (const std::string& bad : std::vector<std::string>{
           "",
           " ",
           "\n",
           valid.substr(0, valid.size() - 1),               // truncated
           valid.substr(0, valid.size() / 2),
           "{",
           valid.substr(0, valid.size() - 1) + ",}",        // a trailing comma
           With("CreatedAt", "NaN"),
           With("CreatedAt", "Infinity"),
           With("CreatedAt", "-Infinity"),
           With("CreatedAt", "01"),                         // leading zero
           With("CreatedAt", "1."),
           With("CreatedAt", ".5"),
           With("CreatedAt", "+1"),
           With("CreatedAt", "-"),
           With("CreatedAt", "1e"),
           With("CreatedAt", "0x10"),
           With("CreatedAt", "undefined"),
           With("CreatedAt", "tru"),
           "{'EventUUID':'" + std::string(kEvent) + "'}",   // single quotes
           With("EventName", "'lesson'"),
           valid + "x",                                      // trailing garbage
           valid + " x",
           valid + "}",
           valid + ",",
           valid + std::string(1, '\0'),
           valid + valid,                                    // two objects
           valid + "\n" + valid,
           valid + " " + "{}",
           valid + "1",
           "/* c */" + valid,                                // comments
           valid + "// c",
           valid.substr(0, valid.size() - 1) + ",\"x\":1 /* c */}",
           With("EventName", "\"a\tb\""),                   // an unescaped control character
           With("EventName", "\"a\nb\""),
           With("EventName", "\"bad \\x escape\""),
           With("EventName", "\"\\u12\""),
           "{\"EventUUID\" \"" + std::string(kEvent) + "\"}",  // no colon
           "{\"EventUUID\":\"" + std::string(kEvent) + "\" \"UserUUID\":\"" + std::string(kUser) + "\"}",  // no comma
           "{EventUUID:\"" + std::string(kEvent) + "\"}",   // an unquoted key
           "{1:2}",
       }) {
    ExpectInvalid(bad, DeadLetterReason::kNotJson);
  }
}

TEST_F(RecordParserTest, NotAnObject) {
  for (const char* bad : {"[]", "[1,2]", "[{}]", "\"a string\"", "42", "-1.5", "1704110400", "null", "true", "false",
                          " [ ] ", "\"{}\""}) {
    ExpectInvalid(bad, DeadLetterReason::kNotObject);
  }
  // The whole record as the single element of an array is still not an object.
  ExpectInvalid("[" + Valid() + "]", DeadLetterReason::kNotObject);
}

TEST_F(RecordParserTest, MissingField) {
  for (const char* name : {"EventUUID", "UserUUID", "EventName", "CreatedAt"}) {
    const Outcome o = Run(Without(name));
    ASSERT_FALSE(o.ok) << name;
    EXPECT_EQ(o.error.reason, DeadLetterReason::kMissingField) << name;
    EXPECT_NE(o.error.detail.find(name), std::string::npos) << o.error.detail;
  }
  ExpectInvalid("{}", DeadLetterReason::kMissingField);
  // Names are case-sensitive.
  Fields fields = ValidFields();
  fields[0].first = "eventuuid";
  ExpectInvalid(Object(fields), DeadLetterReason::kMissingField);
  fields[0].first = "EventUUID ";
  ExpectInvalid(Object(fields), DeadLetterReason::kMissingField);
}

TEST_F(RecordParserTest, OnlyTopLevelFieldsCount) {
  // A field nested in another object is not the record's field.
  Fields fields = ValidFields();
  fields.erase(fields.begin());  // no top-level EventUUID
  fields.push_back({"meta", Object({{"EventUUID", Quote(kEvent)}})});
  ExpectInvalid(Object(fields), DeadLetterReason::kMissingField);
  // And a nested one with a bad value does not spoil the real one.
  fields = ValidFields();
  fields.push_back({"meta", Object({{"EventUUID", "42"}, {"CreatedAt", "null"}})});
  fields.push_back({"list", "[{\"UserUUID\":false}]"});
  const Event e = ExpectValid(Object(fields));
  EXPECT_EQ(e.event_id, U(kEvent));
}

TEST_F(RecordParserTest, WrongType) {
  for (const char* name : {"EventUUID", "UserUUID", "EventName"}) {
    for (const char* value : {"123", "1.5", "true", "false", "null", "{}", "[]",
                              "[\"0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab\"]"}) {
      const Outcome o = Run(With(name, value));
      ASSERT_FALSE(o.ok) << name << "=" << value;
      EXPECT_EQ(ReasonName(o.error.reason), std::string("wrong_type")) << name << "=" << value;
      EXPECT_NE(o.error.detail.find(name), std::string::npos) << o.error.detail;
    }
  }
  for (const char* value : {"true", "false", "null", "{}", "[]", "{\"s\":1704110400}", "[1704110400]",
                            "[\"2024-01-01T12:00:00Z\"]"}) {
    const Outcome o = Run(With("CreatedAt", value));
    ASSERT_FALSE(o.ok) << value;
    EXPECT_EQ(ReasonName(o.error.reason), std::string("wrong_type")) << value;
    EXPECT_NE(o.error.detail.find("CreatedAt"), std::string::npos) << o.error.detail;
  }
}

TEST_F(RecordParserTest, BadUuid) {
  for (const char* name : {"EventUUID", "UserUUID"}) {
    for (const char* bad : {
             "",
             "0b6e1c2a-6f3b-4c2d-9e8f-0123456789a",                 // 35 characters
             "0b6e1c2a-6f3b-4c2d-9e8f-0123456789abc",               // 37
             "0b6e1c2a-6f3b-4c2d-9e8f-0123456789ag",                // not hex
             "0b6e1c2x-6f3b-4c2d-9e8f-0123456789ab",
             "0b6e1c2a6-f3b-4c2d-9e8f-0123456789ab",                // a dash misplaced
             "0b6e1c2a-6f3b4-c2d-9e8f-0123456789ab",
             "0b6e1c2a-6f3b-4c2d-9e8f0-123456789ab",
             "0b6e1c2a_6f3b_4c2d_9e8f_0123456789ab",
             "0b6e1c2a6f3b4c2d9e8f0123456789ab",                    // no dashes
             "{0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab}",              // braces
             "urn:uuid:0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab",
             " 0b6e1c2a-6f3b-4c2d-9e8f-0123456789a",
             "0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab ",
             "0b6e1c2a-6f3b-4c2d-9e8f-01234567\\u0000ab",           // an escaped NUL, 36 chars decoded
             "\xef\xbc\x90" "b6e1c2a-6f3b-4c2d-9e8f-0123456789",    // a full-width digit
             "-0b6e1c2a6f3b-4c2d-9e8f-0123456789ab",
         }) {
      ExpectInvalid(With(name, Quote(bad)), DeadLetterReason::kBadUuid);
    }
  }
}

TEST_F(RecordParserTest, UuidsAreCaseInsensitive) {
  const Event lower = ExpectValid(Valid());
  Fields fields = ValidFields();
  fields[0].second = Quote("0B6E1C2A-6F3B-4C2D-9E8F-0123456789AB");
  fields[1].second = Quote("5D1a9B7c-3E2F-4A1B-8C9D-AbCdEf012345");
  const Event upper = ExpectValid(Object(fields));
  EXPECT_EQ(upper.event_id, lower.event_id);
  EXPECT_EQ(upper.user_id, lower.user_id);
  EXPECT_EQ(FormatUuid(upper.event_id), kEvent);
  EXPECT_EQ(FormatUuid(upper.user_id), kUser);
  // An escaped digit is the same digit.
  EXPECT_EQ(ExpectValid(With("EventUUID", Quote("\\u0030b6e1c2a-6f3b-4c2d-9e8f-0123456789ab"))).event_id,
            lower.event_id);
}

TEST_F(RecordParserTest, EmptyEventName) {
  ExpectInvalid(With("EventName", "\"\""), DeadLetterReason::kEmptyEventName);
  // Anything else is a name, even white space.
  ExpectValid(With("EventName", "\" \""));
  ExpectValid(With("EventName", "\"\\u0000\""));
}

TEST_F(RecordParserTest, BadTime) {
  for (const char* bad : {"", "yesterday", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z",
                          "2024-01-01T00:00:60Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z",
                          "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567890Z", " 2024-01-01T00:00:00Z",
                          "2024-01-01T00:00:00+24:00", "1704110400", "2024-01-01"}) {
    const Outcome o = Run(With("CreatedAt", Quote(bad)));
    ASSERT_FALSE(o.ok) << bad;
    EXPECT_EQ(ReasonName(o.error.reason), std::string("bad_time")) << bad;
    EXPECT_NE(o.error.detail.find("CreatedAt"), std::string::npos) << o.error.detail;
  }
}

TEST_F(RecordParserTest, TimeOutOfRange) {
  for (const std::string& bad : std::vector<std::string>{
           Quote("1969-12-31T23:59:59.999999Z"), Quote("1970-01-01T00:00:00+00:01"),
           Quote("2100-01-01T00:00:00Z"), Quote("2099-12-31T23:59:59-00:01"), Quote("1900-01-01 00:00:00"),
           "-1", "-0.5", "-1e-3", "4102444800", "4102444800.0", "4102444799.9999996", "1e10", "1e300", "-1e300",
           "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
           // Numbers beyond 64-bit integers and doubles are still JSON numbers, just out of range.
           "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890",
           "-123456789012345678901234567890", "1e400", "-1e400", "1E+99999", "1e99999999999999999999",
           "123456789012345678901234567890.5"}) {
    const Outcome o = Run(With("CreatedAt", bad));
    ASSERT_FALSE(o.ok) << bad;
    EXPECT_EQ(ReasonName(o.error.reason), std::string("time_out_of_range")) << bad << ": " << o.error.detail;
  }
  // The edges that are in range.
  EXPECT_EQ(ExpectValid(With("CreatedAt", Quote("1970-01-01T00:00:00Z"))).event_time, 0);
  EXPECT_EQ(ExpectValid(With("CreatedAt", Quote("2099-12-31T23:59:59.999999Z"))).event_time, kEndOfEventTime - 1);
  EXPECT_EQ(ExpectValid(With("CreatedAt", "4102444799")).event_time, kEndOfEventTime - kMicrosPerSecond);
}

TEST_F(RecordParserTest, HugeNumbersInIgnoredFieldsDoNotSpoilTheRecord) {
  Fields fields = ValidFields();
  fields.push_back({"big", "123456789012345678901234567890"});
  fields.push_back({"huge", "-1e400"});
  fields.push_back({"list", "[1e99999, 18446744073709551616, 0.1, \"1e400\"]"});
  const Event e = ExpectValid(Object(fields));
  EXPECT_EQ(e.event_time, kNoon);
  // ...but a broken number next to them still makes the record not JSON.
  fields.push_back({"broken", "01"});
  ExpectInvalid(Object(fields), DeadLetterReason::kNotJson);
}

TEST(RecordParser, NumbersInsideStringsAreLeftAlone) {
  // A field whose configured name is made of digits: replacing the huge numbers
  // of the record must not touch its keys or strings.
  FieldNames names;
  names.created_at = "100000000000000000000";
  RecordParser parser(names, EventTimeParser(absl::UTCTimeZone()));
  const std::string record = Object({{"EventUUID", Quote(kEvent)},
                                     {"UserUUID", Quote(kUser)},
                                     {"EventName", Quote("\\\"99999999999999999999999")},
                                     {"x", "1e400"},
                                     {"100000000000000000000", Quote("2024-01-01T12:00:00Z")}});
  const Outcome o = Parse(parser, record);
  ASSERT_TRUE(o.ok) << o.error.detail;
  EXPECT_EQ(o.event.event_time, kNoon);
}

TEST(RecordParser, TooLarge) {
  RecordParser parser(FieldNames{}, EventTimeParser(absl::UTCTimeZone()), /*max_record_bytes=*/200);
  EXPECT_EQ(parser.max_record_bytes(), 200u);
  std::string record = Valid();
  ASSERT_LT(record.size(), 200u);
  record.insert(1, 200 - record.size(), ' ');  // white space inside the object: still valid
  ASSERT_EQ(record.size(), 200u);
  EXPECT_TRUE(Parse(parser, record).ok) << "exactly the limit is not too large";
  record.insert(1, " ");
  const Outcome over = Parse(parser, record);
  ASSERT_FALSE(over.ok);
  EXPECT_EQ(over.error.reason, DeadLetterReason::kTooLarge);
  EXPECT_FALSE(over.error.detail.empty());
  // Size is checked first: an oversized record is too large whatever else is wrong.
  EXPECT_EQ(Parse(parser, std::string(201, '\xff')).error.reason, DeadLetterReason::kTooLarge);
  EXPECT_EQ(Parse(parser, std::string(5000, 'x')).error.reason, DeadLetterReason::kTooLarge);
}

TEST(RecordParser, TheDefaultLimitIsOneMebibyte) {
  RecordParser parser(FieldNames{}, EventTimeParser(absl::UTCTimeZone()));
  std::string record = Valid();
  record.insert(1, kDefaultMaxRecordBytes - record.size(), ' ');
  ASSERT_EQ(record.size(), kDefaultMaxRecordBytes);
  EXPECT_TRUE(Parse(parser, record).ok);
  record.insert(1, " ");
  EXPECT_EQ(Parse(parser, record).error.reason, DeadLetterReason::kTooLarge);
}

TEST_F(RecordParserTest, TheLastOfARepeatedFieldCounts) {
  constexpr char kOther[] = "ffffffff-ffff-4fff-bfff-ffffffffffff";
  // Bad first, good last: valid.
  Fields fields = ValidFields();
  fields.insert(fields.begin(), {"EventUUID", "42"});
  fields.insert(fields.begin(), {"CreatedAt", Quote("garbage")});
  fields.push_back({"UserUUID", Quote(kOther)});
  const Event e = ExpectValid(Object(fields));
  EXPECT_EQ(e.event_id, U(kEvent));
  EXPECT_EQ(e.user_id, U(kOther));
  // Good first, bad last: invalid for the last one's fault.
  fields = ValidFields();
  fields.push_back({"EventUUID", "\"not a uuid\""});
  ExpectInvalid(Object(fields), DeadLetterReason::kBadUuid);
  fields = ValidFields();
  fields.push_back({"CreatedAt", "null"});
  ExpectInvalid(Object(fields), DeadLetterReason::kWrongType);
  fields = ValidFields();
  fields.push_back({"EventName", "\"\""});
  ExpectInvalid(Object(fields), DeadLetterReason::kEmptyEventName);
  // The last time wins.
  fields = ValidFields();
  fields.push_back({"CreatedAt", "1704067200"});
  EXPECT_EQ(ExpectValid(Object(fields)).event_time, 1'704'067'200 * kMicrosPerSecond);
}

TEST_F(RecordParserTest, OtherFieldsAreIgnored) {
  Fields fields = ValidFields();
  fields.insert(fields.begin() + 2, {"Platform", Quote("ios")});
  fields.push_back({"nested", "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}"});
  fields.push_back({"n", "-1.5e-7"});
  fields.push_back({"t", "true"});
  fields.push_back({"z", "null"});
  fields.push_back({"", "\"empty key\""});
  fields.push_back({"\\u00e9v\\u00e9nement", "\"x\""});
  const Event e = ExpectValid(Object(fields));
  EXPECT_EQ(e.event_id, U(kEvent));
  EXPECT_EQ(e.event_time, kNoon);
}

TEST_F(RecordParserTest, FieldOrderDoesNotMatter) {
  Fields fields = ValidFields();
  std::swap(fields[0], fields[3]);
  std::swap(fields[1], fields[2]);
  const Event e = ExpectValid(Object(fields));
  EXPECT_EQ(e.event_id, U(kEvent));
  EXPECT_EQ(e.user_id, U(kUser));
}

TEST_F(RecordParserTest, WhiteSpaceAroundAndInsideIsAllowed) {
  ExpectValid(" \t\r\n" + Valid() + " \t\r\n");
  ExpectValid("\n" + Valid());
  ExpectValid(Valid() + "\r\n");
  const std::string spaced = "{ \"EventUUID\" : \"" + std::string(kEvent) + "\" ,\n\t\"UserUUID\":\"" + kUser +
                             "\" , \"EventName\" :\"e\",\"CreatedAt\"\r\n:\t1704110400 }";
  EXPECT_EQ(ExpectValid(spaced).event_time, kNoon);
}

TEST_F(RecordParserTest, EscapedKeysMatchTheirText) {
  Fields fields = ValidFields();
  fields[0].first = "Event\\u0055UID";
  EXPECT_EQ(ExpectValid(Object(fields)).event_id, U(kEvent));
}

TEST(RecordParser, FieldNamesAreConfigurable) {
  FieldNames names;
  names.event_id = "id";
  names.user_id = "learner";
  names.event_name = "name";
  names.created_at = "ts";
  RecordParser parser(names, EventTimeParser(absl::UTCTimeZone()));
  const std::string record = Object({{"id", Quote(kEvent)},
                                     {"learner", Quote(kUser)},
                                     {"name", Quote("e")},
                                     {"ts", Quote("2024-01-01T12:00:00Z")},
                                     {"EventUUID", "42"}});  // the default name is now an ordinary field
  const Outcome o = Parse(parser, record);
  ASSERT_TRUE(o.ok) << o.error.detail;
  EXPECT_EQ(o.event.event_id, U(kEvent));
  EXPECT_EQ(o.event.user_id, U(kUser));
  EXPECT_EQ(o.event.event_time, kNoon);

  // The default names alone are missing fields now, and the detail names the configured one.
  const Outcome defaults = Parse(parser, Valid());
  ASSERT_FALSE(defaults.ok);
  EXPECT_EQ(defaults.error.reason, DeadLetterReason::kMissingField);
  EXPECT_NE(defaults.error.detail.find("id"), std::string::npos) << defaults.error.detail;

  const Outcome bad = Parse(parser, Object({{"id", Quote(kEvent)},
                                            {"learner", Quote(kUser)},
                                            {"name", Quote("e")},
                                            {"ts", Quote("2024-13-01T12:00:00Z")}}));
  ASSERT_FALSE(bad.ok);
  EXPECT_EQ(bad.error.reason, DeadLetterReason::kBadTime);
  EXPECT_NE(bad.error.detail.find("ts"), std::string::npos) << bad.error.detail;
}

TEST(RecordParser, NeverReadsPastTheRecord) {
  RecordParser parser(FieldNames{}, EventTimeParser(absl::UTCTimeZone()));
  const std::string full = Valid();
  // A padded view of all but the closing brace, in a buffer that holds the
  // brace right after it: the brace is padding, not part of the record.
  std::vector<char> buffer(full.size() + kRecordPadding, ' ');
  std::memcpy(buffer.data(), full.data(), full.size());
  Event event;
  RecordParser::Error error;
  EXPECT_FALSE(parser.Parse(std::string_view(buffer.data(), full.size() - 1), true, &event, &error));
  EXPECT_EQ(error.reason, DeadLetterReason::kNotJson);
  EXPECT_TRUE(parser.Parse(std::string_view(buffer.data(), full.size()), true, &event, &error));
  // Unpadded, after a longer record has left its bytes in the parser's scratch space.
  EXPECT_TRUE(ParseUnpadded(parser, full + "      ").ok);
  const Outcome prefix = ParseUnpadded(parser, std::string_view(full).substr(0, full.size() - 1));
  EXPECT_FALSE(prefix.ok);
  EXPECT_EQ(prefix.error.reason, DeadLetterReason::kNotJson);
  // The shortest records, at the very end of their allocation.
  EXPECT_EQ(ParseUnpadded(parser, "").error.reason, DeadLetterReason::kNotJson);
  EXPECT_EQ(ParseUnpadded(parser, "{").error.reason, DeadLetterReason::kNotJson);
  EXPECT_EQ(ParseUnpadded(parser, "\"").error.reason, DeadLetterReason::kNotJson);
  EXPECT_EQ(ParseUnpadded(parser, "1").error.reason, DeadLetterReason::kNotObject);
  EXPECT_EQ(ParseUnpadded(parser, "{}").error.reason, DeadLetterReason::kMissingField);
  EXPECT_EQ(ParseUnpadded(parser, "1e400").error.reason, DeadLetterReason::kNotObject);
  EXPECT_EQ(ParseUnpadded(parser, "\"\\").error.reason, DeadLetterReason::kNotJson);
  EXPECT_EQ(ParseUnpadded(parser, "[1e400").error.reason, DeadLetterReason::kNotJson);
}

TEST(RecordParser, OneParserServesManyRecords) {
  // Reused state must not leak from one record into the next.
  RecordParser parser(FieldNames{}, EventTimeParser(absl::UTCTimeZone()));
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(Parse(parser, Valid()).ok);
    EXPECT_EQ(Parse(parser, Without("UserUUID")).error.reason, DeadLetterReason::kMissingField);
    EXPECT_EQ(Parse(parser, With("CreatedAt", "1e400")).error.reason, DeadLetterReason::kTimeOutOfRange);
    EXPECT_EQ(Parse(parser, "[]").error.reason, DeadLetterReason::kNotObject);
    const Outcome o = Parse(parser, With("CreatedAt", "1704067200"));
    ASSERT_TRUE(o.ok);
    EXPECT_EQ(o.event.event_time, 1'704'067'200 * kMicrosPerSecond);
  }
}

}  // namespace
}  // namespace tally
