#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/dead_letter.h"
#include "core/event_time.h"
#include "core/uuid.h"

namespace tally {

// How a valid line writes CreatedAt. Each form has its own precision, and the
// generator picks event times the form can carry exactly. An instant whose
// local time is ambiguous (the second pass of an hour that a DST change
// repeats) reads back as the earlier one, so it is written kOffset instead.
enum class TimeFormat : uint8_t {
  kIso,            // "2024-01-01T10:00:00.123Z"            milliseconds
  kOffset,         // "2024-01-01T15:30:00.123456+05:30"    microseconds; ±HH:MM or ±HHMM, same instant
  kSpace,          // "2024-01-01 10:00:00Z"                seconds
  kLocal,          // "2024-01-01T10:00:00.123456"          microseconds; local time of `zone`, no offset
  kEpoch,          // 1704103200                            seconds, a JSON integer
  kEpochFraction,  // 1704103200.123456                     microseconds, a JSON number
  kMixed,          // a random one of the above for each line
};
inline constexpr int kConcreteTimeFormats = static_cast<int>(TimeFormat::kMixed);

// "iso", "offset", "space", "local", "epoch", "epoch-fraction", "mixed".
const char* TimeFormatName(TimeFormat format);
bool ParseTimeFormat(std::string_view name, TimeFormat* out);

// Letter case of the UUIDs written. kMixed picks, per UUID written, lower,
// upper or a random case for each letter: the reader must compare UUIDs by
// value, so one learner written three ways is still one learner.
enum class UuidCase : uint8_t { kLower, kUpper, kMixed };

// "lower", "upper", "mixed".
const char* UuidCaseName(UuidCase uuid_case);
bool ParseUuidCase(std::string_view name, UuidCase* out);

// The kinds of malformed record, written in this order, round and round, so a
// stream with enough invalid lines holds every kind. kOversized only takes part
// when GeneratorOptions::oversized_bytes > 0.
enum class InvalidKind : uint8_t {
  kNotJson,             // plain text, single-quoted or unquoted keys
  kTruncatedJson,       // a valid line cut short
  kTrailingComma,       // {..., }
  kNaN,                 // "CreatedAt":NaN
  kNotUtf8,             // an invalid byte sequence inside EventName
  kJsonArray,           // [{...}]
  kJsonString,          // the event, JSON-encoded once more, as a string
  kMissingEventId,      // each field missing in turn
  kMissingUserId,
  kMissingEventName,
  kMissingCreatedAt,
  kNumberUuid,          // EventUUID or UserUUID a number
  kNullEventName,       // "EventName":null
  kBooleanCreatedAt,    // "CreatedAt":true / false
  kBadEventUuid,        // no dashes, a non-hex digit, braces, a digit short or over, urn:uuid:
  kBadUserUuid,
  kEmptyEventName,      // "EventName":""
  kMonth13,             // bad times, each in the text form otherwise
  kNoSuchDate,          // February 30, February 29 of a common year
  kHour24,
  kBadZone,             // zone hours 24, zone minutes 60, +5:30, " UTC", "PST"
  kTenFractionDigits,
  kBefore1970,          // a 1969 time, as text or as a negative number
  kFrom2100,            // 2100-01-01T00:00:00Z or later, as text or as a number
  kOversized,           // a valid event padded to oversized_bytes
};
inline constexpr int kInvalidKindCount = static_cast<int>(InvalidKind::kOversized) + 1;

// "not_json", "truncated_json", ...: for reports and test messages.
const char* InvalidKindName(InvalidKind kind);

// Why `tally run` rejects a line of this kind. For kOversized that holds when
// oversized_bytes exceeds the reader's --max-record-bytes.
DeadLetterReason ExpectedReason(InvalidKind kind);

// What each output line is, from the point of view of a reader that processes
// the lines in order with the same lateness (and, for kLocal times, the same
// time zone): counted, dropped as a duplicate, dropped as late, or invalid.
enum class LineKind : uint8_t { kEvent, kDuplicate, kLate, kInvalid };

struct GeneratorOptions {
  // Lines written in all, of every kind.
  int64_t events = 100'000;
  // Size of the fixed pool of learner (UserUUID) ids.
  int64_t learners = 1'000;
  // Event times spread over [start_date 00:00 UTC, + days).
  int64_t days = 7;
  absl::CivilDay start_date = absl::CivilDay(2024, 1, 1);
  // Fractions of the lines: re-sends of earlier counted events (verbatim, and
  // still within the lateness), fresh events already late, malformed records.
  // Each kind's count is round(events * ratio), exactly.
  double duplicate_ratio = 0.05;
  double late_ratio = 0.01;
  double invalid_ratio = 0.01;
  // The reader's lateness: late lines are 1 s to 1 day older than the
  // watermark it will have, and no other line is late.
  Micros lateness = 7 * kMicrosPerDay;
  // How far behind the stream's progress an event's time may be (uniform). A
  // time that would fall below the watermark is raised to it, so with a spread
  // over the lateness no fresh event is late either.
  Micros out_of_order = 3'600 * kMicrosPerSecond;
  // Size of each kOversized line; 0 leaves that kind out.
  size_t oversized_bytes = 0;
  TimeFormat time_format = TimeFormat::kMixed;
  // Zone of kLocal times. The reader's input time zone must be the same.
  absl::TimeZone zone = absl::UTCTimeZone();
  UuidCase uuid_case = UuidCase::kMixed;
  uint64_t seed = 1;
};

// What one line is. Times are those the reader will parse.
struct GeneratedLine {
  LineKind kind = LineKind::kEvent;
  InvalidKind invalid_kind = InvalidKind::kNotJson;  // kInvalid only
  TimeFormat time_format = TimeFormat::kIso;         // valid lines only
  Micros event_time = 0;                             // valid lines only
};

struct GeneratorCounts {
  int64_t lines = 0;
  int64_t events = 0;  // fresh events, counted by the reader
  int64_t duplicates = 0;
  int64_t late = 0;
  int64_t invalid = 0;
  std::array<int64_t, kInvalidKindCount> invalid_by_kind{};
};

// A synthetic stream of app events in the input's JSON-lines shape, with
// duplicates, late and malformed records in exact proportions: what the Spark
// job's python_producer.py was for, and the input of tests and benchmarks.
//
// Deterministic: the same options give the same bytes, on any machine (its own
// PRNG and integer arithmetic only). The stream's progress moves evenly from
// start_date to start_date + days over the lines; each fresh event lags it by
// a random amount up to out_of_order. The generator tracks the event-time
// watermark exactly as the reader will, which is what lets it promise each
// line's fate: a late line is below the watermark; a duplicate re-sends a
// counted event whose time is at or above it; a fresh event is at or above it.
//
// Not thread-safe.
class EventGenerator {
 public:
  // Fails with InvalidArgument, naming the option as its `tally generate` flag,
  // if the options cannot be honoured (a ratio outside [0, 1], ratios summing
  // over 1, times that leave [1970, 2100), ...).
  static absl::StatusOr<std::unique_ptr<EventGenerator>> Create(const GeneratorOptions& options);

  // Use Create, which checks the options first.
  explicit EventGenerator(const GeneratorOptions& options);
  EventGenerator(const EventGenerator&) = delete;
  EventGenerator& operator=(const EventGenerator&) = delete;

  // True once all options.events lines were produced.
  bool done() const { return counts_.lines == options_.events; }

  // Appends the next line, ending in '\n', to *out and says what it is.
  // Call only while !done().
  GeneratedLine Next(std::string* out);

  // Produces every remaining line, handing them to `write` in chunks of about
  // `chunk_bytes` (whole lines). Stops at, and returns, the first error.
  absl::Status WriteAll(const std::function<absl::Status(std::string_view)>& write,
                        size_t chunk_bytes = size_t{1} << 20);

  const GeneratorCounts& counts() const { return counts_; }
  const GeneratorOptions& options() const { return options_; }

  // Fresh events and duplicates have times in [start_time(), end_time()); late
  // lines down to start_time() - lateness - 1 day.
  Micros start_time() const { return start_; }
  Micros end_time() const { return end_; }

 private:
  // splitmix64: small, fast and the same everywhere, unlike absl::BitGen.
  struct Rng {
    uint64_t state;
    uint64_t Next();
    // Uniform in [0, n), n > 0 (Lemire's multiply-shift; its bias is < n / 2^64).
    uint64_t Below(uint64_t n);
  };

  struct RecentEvent {
    Micros time;
    TimeFormat format;
  };
  // "YYYY-MM-DD" of a day number.
  struct DateCache {
    int64_t day = -1'000'000;
    char text[10];
  };

  // Where the stream is: start_ at the first line, moving evenly to end_.
  Micros Progress() const;
  Micros Watermark() const { return max_seen_ - options_.lateness; }
  TimeFormat PickFormat();
  // Local time of `t` in the zone, as micros of a UTC clock showing it; false
  // if that local time does not read back as `t`.
  bool ToLocal(Micros t, Micros* local) const;
  // Writes a valid event line with CreatedAt `t` (`local` for kLocal), newline
  // included, into `line` (kMaxEventLine bytes); returns its length.
  size_t RenderEvent(char* line, Micros t, Micros local, TimeFormat format);
  void RenderInvalid(InvalidKind kind, std::string* out);
  // A fresh random v4 UUID / a learner's UUID, in the configured case.
  void PutEventUuid(char* text);
  void PutLearnerUuid(char* text);
  void ApplyCase(char* text);
  char* PutTime(char* p, Micros t, Micros local, TimeFormat format);
  // "YYYY-MM-DD" + separator + "HH:MM:SS" [+ "." + 3 or 6 digits].
  char* PutCivil(char* p, Micros local, char separator, int fraction_digits);
  char* PutDate(char* p, int64_t day);

  GeneratorOptions options_;
  Micros start_;
  Micros end_;
  int64_t remaining_[4] = {0, 0, 0, 0};  // lines still to write, by LineKind
  int invalid_kinds_;                    // kinds in the cycle
  Rng rng_;
  bool zone_is_utc_;
  bool has_max_ = false;
  Micros max_seen_ = 0;  // the reader's max event time, once has_max_
  GeneratorCounts counts_;

  std::vector<std::array<char, kUuidTextLength>> learners_;  // lower-case text

  // The last fresh events written, for duplicates: a ring of whole lines.
  std::vector<std::string> recent_lines_;
  std::vector<RecentEvent> recent_events_;
  size_t recent_count_ = 0;
  size_t recent_next_ = 0;

  std::array<DateCache, 64> dates_;
};

}  // namespace tally
