#include "generate/event_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tally {
namespace {

constexpr const char* kTimeFormatNames[] = {"iso", "offset", "space", "local", "epoch", "epoch-fraction", "mixed"};
constexpr const char* kUuidCaseNames[] = {"lower", "upper", "mixed"};

constexpr const char* kInvalidKindNames[kInvalidKindCount] = {
    "not_json",         "truncated_json",     "trailing_comma",     "nan",
    "not_utf8",         "json_array",         "json_string",        "missing_event_id",
    "missing_user_id",  "missing_event_name", "missing_created_at", "number_uuid",
    "null_event_name",  "boolean_created_at", "bad_event_uuid",     "bad_user_uuid",
    "empty_event_name", "month_13",           "no_such_date",       "hour_24",
    "bad_zone",         "ten_fraction_digits", "before_1970",       "from_2100",
    "oversized",
};

// The app's event names (what the seed's producer sent).
constexpr std::string_view kEventNames[] = {
    "app_opened",          "lesson_started",  "lesson_completed",     "exercise_answered",
    "vocabulary_reviewed", "story_read",      "streak_extended",      "achievement_unlocked",
    "podcast_listened",    "league_joined",   "placement_test_started",
};
constexpr uint64_t kEventNameCount = sizeof(kEventNames) / sizeof(kEventNames[0]);

constexpr const char* kFieldNames[4] = {"EventUUID", "UserUUID", "EventName", "CreatedAt"};

// Zone offsets of kOffset times, in minutes: whole, half and quarter hours.
constexpr int kOffsetMinutes[] = {330, -480, 540, -210, 345, 0, 60, -300, 600, 765, -600, 120};
constexpr uint64_t kOffsetCount = sizeof(kOffsetMinutes) / sizeof(kOffsetMinutes[0]);

// Fresh events kept for re-sending. Recent ones: a producer's retry re-sends
// what it just sent, and recent events are the ones still within the lateness.
constexpr size_t kRecentEvents = 4096;

// Longest valid line: two UUIDs, the longest name, the longest time, syntax.
constexpr size_t kMaxEventLine = 256;

constexpr Micros kMicrosPerMinute = 60 * kMicrosPerSecond;

// The precision a format carries: event times are multiples of it.
Micros Unit(TimeFormat format) {
  switch (format) {
    case TimeFormat::kIso: return 1000;
    case TimeFormat::kSpace:
    case TimeFormat::kEpoch: return kMicrosPerSecond;
    default: return 1;
  }
}

template <size_t N>
inline char* Put(char* p, const char (&text)[N]) {
  std::memcpy(p, text, N - 1);
  return p + N - 1;
}

// Writes v (0 <= v < 10^n) as exactly n digits.
inline char* PutDigits(char* p, int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

inline char* PutInt(char* p, int64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

std::string Quoted(std::string_view text) {
  return absl::StrCat("\"", absl::string_view(text.data(), text.size()), "\"");
}

// {"EventUUID":v0,"UserUUID":v1,...} from raw JSON values, leaving out field
// `skip` (-1: none), with `extra` before the closing brace.
std::string Object(const std::array<std::string, 4>& values, int skip = -1, std::string_view extra = "") {
  std::string out = "{";
  for (int i = 0; i < 4; ++i) {
    if (i == skip) continue;
    if (out.size() > 1) out.push_back(',');
    absl::StrAppend(&out, "\"", kFieldNames[i], "\":", values[i]);
  }
  absl::StrAppend(&out, absl::string_view(extra.data(), extra.size()), "}");
  return out;
}

}  // namespace

const char* TimeFormatName(TimeFormat format) { return kTimeFormatNames[static_cast<int>(format)]; }

bool ParseTimeFormat(std::string_view name, TimeFormat* out) {
  for (int i = 0; i <= kConcreteTimeFormats; ++i) {
    if (name == kTimeFormatNames[i]) {
      *out = static_cast<TimeFormat>(i);
      return true;
    }
  }
  return false;
}

const char* UuidCaseName(UuidCase uuid_case) { return kUuidCaseNames[static_cast<int>(uuid_case)]; }

bool ParseUuidCase(std::string_view name, UuidCase* out) {
  for (int i = 0; i < 3; ++i) {
    if (name == kUuidCaseNames[i]) {
      *out = static_cast<UuidCase>(i);
      return true;
    }
  }
  return false;
}

const char* InvalidKindName(InvalidKind kind) { return kInvalidKindNames[static_cast<int>(kind)]; }

DeadLetterReason ExpectedReason(InvalidKind kind) {
  using K = InvalidKind;
  using R = DeadLetterReason;
  switch (kind) {
    case K::kNotJson:
    case K::kTruncatedJson:
    case K::kTrailingComma:
    case K::kNaN: return R::kNotJson;
    case K::kNotUtf8: return R::kNotUtf8;
    case K::kJsonArray:
    case K::kJsonString: return R::kNotObject;
    case K::kMissingEventId:
    case K::kMissingUserId:
    case K::kMissingEventName:
    case K::kMissingCreatedAt: return R::kMissingField;
    case K::kNumberUuid:
    case K::kNullEventName:
    case K::kBooleanCreatedAt: return R::kWrongType;
    case K::kBadEventUuid:
    case K::kBadUserUuid: return R::kBadUuid;
    case K::kEmptyEventName: return R::kEmptyEventName;
    case K::kMonth13:
    case K::kNoSuchDate:
    case K::kHour24:
    case K::kBadZone:
    case K::kTenFractionDigits: return R::kBadTime;
    case K::kBefore1970:
    case K::kFrom2100: return R::kTimeOutOfRange;
    case K::kOversized: return R::kTooLarge;
  }
  return R::kNotJson;
}

uint64_t EventGenerator::Rng::Next() {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t EventGenerator::Rng::Below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
}

absl::StatusOr<std::unique_ptr<EventGenerator>> EventGenerator::Create(const GeneratorOptions& o) {
  auto invalid = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (o.events < 0) return invalid("--events ", o.events, ": must not be negative");
  if (o.learners < 1 || o.learners > 100'000'000) {
    return invalid("--learners ", o.learners, ": must be from 1 to 100000000");
  }
  if (o.days < 1) return invalid("--days ", o.days, ": must be at least 1");
  const std::pair<const char*, double> ratios[] = {
      {"--duplicate-ratio", o.duplicate_ratio}, {"--late-ratio", o.late_ratio}, {"--invalid-ratio", o.invalid_ratio}};
  for (const auto& [flag, ratio] : ratios) {
    if (!(ratio >= 0.0 && ratio <= 1.0)) return invalid(flag, " ", ratio, ": must be a fraction from 0 to 1");
  }
  const double n = static_cast<double>(o.events);
  const int64_t duplicates = std::llround(n * o.duplicate_ratio);
  const int64_t late = std::llround(n * o.late_ratio);
  const int64_t invalid_lines = std::llround(n * o.invalid_ratio);
  if (duplicates + late + invalid_lines > o.events) {
    return invalid("--duplicate-ratio ", o.duplicate_ratio, " + --late-ratio ", o.late_ratio, " + --invalid-ratio ",
                   o.invalid_ratio, ": must not add up to more than 1");
  }
  if (duplicates + late > 0 && duplicates + late + invalid_lines == o.events) {
    return invalid("--duplicate-ratio, --late-ratio and --invalid-ratio leave no fresh event to re-send or to be late "
                   "after; lower them");
  }
  if (o.lateness < 0) return invalid("--lateness must not be negative");
  if (o.out_of_order < 0) return invalid("--out-of-order must not be negative");
  if (o.oversized_bytes > (size_t{1} << 30)) return invalid("--oversized-bytes ", o.oversized_bytes, ": at most 1 GiB");

  const absl::CivilDay epoch(1970, 1, 1);
  if (o.start_date < epoch) return invalid("--start-date ", absl::FormatCivilTime(o.start_date), ": before 1970-01-01");
  const int64_t start_day = o.start_date - epoch;
  const int64_t end_day = absl::CivilDay(2100, 1, 1) - epoch;
  if (o.days > end_day - start_day) {
    return invalid("--start-date ", absl::FormatCivilTime(o.start_date), " + --days ", o.days,
                   ": event times must end by 2100-01-01");
  }
  // A late line is up to a day older than the watermark, which is at least
  // start - lateness.
  if (late > 0 && o.lateness > start_day * kMicrosPerDay - kMicrosPerDay) {
    return invalid("--lateness: late events would fall before 1970; use a later --start-date or a smaller lateness");
  }

  auto generator = std::make_unique<EventGenerator>(o);
  generator->remaining_[static_cast<int>(LineKind::kDuplicate)] = duplicates;
  generator->remaining_[static_cast<int>(LineKind::kLate)] = late;
  generator->remaining_[static_cast<int>(LineKind::kInvalid)] = invalid_lines;
  generator->remaining_[static_cast<int>(LineKind::kEvent)] = o.events - duplicates - late - invalid_lines;
  return generator;
}

EventGenerator::EventGenerator(const GeneratorOptions& options)
    : options_(options),
      start_((options.start_date - absl::CivilDay(1970, 1, 1)) * kMicrosPerDay),
      end_(start_ + options.days * kMicrosPerDay),
      invalid_kinds_(options.oversized_bytes > 0 ? kInvalidKindCount : kInvalidKindCount - 1),
      rng_{options.seed},
      zone_is_utc_(options.zone == absl::UTCTimeZone()) {
  // The learner pool comes from its own stream, so it is the same whatever
  // the other options are.
  Rng pool{options.seed ^ 0x6c6561726e657273ULL};
  learners_.resize(static_cast<size_t>(options.learners));
  for (auto& text : learners_) {
    const Uuid id{(pool.Next() & ~0xF000ULL) | 0x4000ULL, (pool.Next() & ~(3ULL << 62)) | (2ULL << 62)};
    FormatUuid(id, text.data());
  }
  recent_lines_.resize(kRecentEvents);
  recent_events_.resize(kRecentEvents);
}

Micros EventGenerator::Progress() const {
  const auto span = static_cast<unsigned __int128>(end_ - start_);
  return start_ + static_cast<Micros>(span * static_cast<uint64_t>(counts_.lines) /
                                      static_cast<uint64_t>(options_.events));
}

TimeFormat EventGenerator::PickFormat() {
  if (options_.time_format != TimeFormat::kMixed) return options_.time_format;
  return static_cast<TimeFormat>(rng_.Below(kConcreteTimeFormats));
}

bool EventGenerator::ToLocal(Micros t, Micros* local) const {
  if (zone_is_utc_) {
    *local = t;
    return true;
  }
  const int64_t seconds = FloorDiv(t, kMicrosPerSecond);
  const absl::Time at = absl::FromUnixSeconds(seconds);
  const absl::CivilSecond civil = options_.zone.At(at).cs;
  // In an hour that a DST change repeats, the reader takes the earlier instant;
  // the later one cannot be written as local time.
  if (absl::FromCivil(civil, options_.zone) != at) return false;
  *local = (civil - absl::CivilSecond(1970, 1, 1, 0, 0, 0)) * kMicrosPerSecond + (t - seconds * kMicrosPerSecond);
  return true;
}

char* EventGenerator::PutDate(char* p, int64_t day) {
  DateCache& entry = dates_[static_cast<uint64_t>(day) % dates_.size()];
  if (entry.day != day) {
    const absl::CivilDay civil = absl::CivilDay(1970, 1, 1) + day;
    char* q = PutDigits(entry.text, civil.year(), 4);
    *q++ = '-';
    q = PutDigits(q, civil.month(), 2);
    *q++ = '-';
    PutDigits(q, civil.day(), 2);
    entry.day = day;
  }
  std::memcpy(p, entry.text, sizeof(entry.text));
  return p + sizeof(entry.text);
}

char* EventGenerator::PutCivil(char* p, Micros local, char separator, int fraction_digits) {
  const int64_t day = FloorDiv(local, kMicrosPerDay);
  const Micros in_day = local - day * kMicrosPerDay;
  const int64_t second = in_day / kMicrosPerSecond;
  p = PutDate(p, day);
  *p++ = separator;
  p = PutDigits(p, second / 3600, 2);
  *p++ = ':';
  p = PutDigits(p, second / 60 % 60, 2);
  *p++ = ':';
  p = PutDigits(p, second % 60, 2);
  if (fraction_digits > 0) {
    *p++ = '.';
    const int64_t fraction = in_day % kMicrosPerSecond;
    p = fraction_digits == 3 ? PutDigits(p, fraction / 1000, 3) : PutDigits(p, fraction, 6);
  }
  return p;
}

char* EventGenerator::PutTime(char* p, Micros t, Micros local, TimeFormat format) {
  switch (format) {
    case TimeFormat::kIso:
      *p++ = '"';
      p = PutCivil(p, t, 'T', 3);
      return Put(p, "Z\"");
    case TimeFormat::kOffset: {
      const int minutes = kOffsetMinutes[rng_.Below(kOffsetCount)];
      const bool colon = (rng_.Next() & 1) != 0;
      *p++ = '"';
      p = PutCivil(p, t + minutes * kMicrosPerMinute, 'T', 6);
      *p++ = minutes < 0 ? '-' : '+';
      p = PutDigits(p, std::abs(minutes) / 60, 2);
      if (colon) *p++ = ':';
      p = PutDigits(p, std::abs(minutes) % 60, 2);
      *p++ = '"';
      return p;
    }
    case TimeFormat::kSpace:
      *p++ = '"';
      p = PutCivil(p, t, ' ', 0);
      return Put(p, "Z\"");
    case TimeFormat::kLocal:
      *p++ = '"';
      p = PutCivil(p, local, 'T', 6);
      *p++ = '"';
      return p;
    case TimeFormat::kEpoch:
      return PutInt(p, t / kMicrosPerSecond);
    case TimeFormat::kEpochFraction:
      p = PutInt(p, t / kMicrosPerSecond);
      *p++ = '.';
      return PutDigits(p, t % kMicrosPerSecond, 6);
    case TimeFormat::kMixed:
      break;
  }
  return p;
}

void EventGenerator::ApplyCase(char* text) {
  uint64_t upper = 0;  // bit i set: letter i upper-case
  switch (options_.uuid_case) {
    case UuidCase::kLower: return;
    case UuidCase::kUpper: upper = ~uint64_t{0}; break;
    case UuidCase::kMixed:
      switch (rng_.Below(3)) {
        case 0: return;
        case 1: upper = ~uint64_t{0}; break;
        default: upper = rng_.Next(); break;
      }
      break;
  }
  for (size_t i = 0; i < kUuidTextLength; ++i) {
    if (text[i] >= 'a' && text[i] <= 'f' && ((upper >> i) & 1) != 0) text[i] = static_cast<char>(text[i] - 'a' + 'A');
  }
}

void EventGenerator::PutEventUuid(char* text) {
  const uint64_t hi = rng_.Next();
  const uint64_t lo = rng_.Next();
  FormatUuid(Uuid{(hi & ~0xF000ULL) | 0x4000ULL, (lo & ~(3ULL << 62)) | (2ULL << 62)}, text);
  ApplyCase(text);
}

void EventGenerator::PutLearnerUuid(char* text) {
  std::memcpy(text, learners_[rng_.Below(learners_.size())].data(), kUuidTextLength);
  ApplyCase(text);
}

size_t EventGenerator::RenderEvent(char* line, Micros t, Micros local, TimeFormat format) {
  char* p = line;
  p = Put(p, "{\"EventUUID\":\"");
  PutEventUuid(p);
  p += kUuidTextLength;
  p = Put(p, "\",\"UserUUID\":\"");
  PutLearnerUuid(p);
  p += kUuidTextLength;
  p = Put(p, "\",\"EventName\":\"");
  const std::string_view name = kEventNames[rng_.Below(kEventNameCount)];
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  p = Put(p, "\",\"CreatedAt\":");
  p = PutTime(p, t, local, format);
  p = Put(p, "}\n");
  return static_cast<size_t>(p - line);
}

GeneratedLine EventGenerator::Next(std::string* out) {
  // Pick the kind so that every kind's count comes out exact: each remaining
  // line is of a kind with probability (lines of it left) / (lines left).
  uint64_t pick = rng_.Below(static_cast<uint64_t>(options_.events - counts_.lines));
  int kind = 0;
  static constexpr LineKind kOrder[] = {LineKind::kDuplicate, LineKind::kLate, LineKind::kInvalid, LineKind::kEvent};
  for (LineKind k : kOrder) {
    kind = static_cast<int>(k);
    if (pick < static_cast<uint64_t>(remaining_[kind])) break;
    pick -= static_cast<uint64_t>(remaining_[kind]);
  }
  // Nothing to re-send, or no watermark to be late to, before the first event:
  // write an event now and the other kind later.
  if ((kind == static_cast<int>(LineKind::kDuplicate) || kind == static_cast<int>(LineKind::kLate)) && !has_max_) {
    kind = static_cast<int>(LineKind::kEvent);
  }
  --remaining_[kind];

  GeneratedLine result;
  result.kind = static_cast<LineKind>(kind);
  char line[kMaxEventLine];
  switch (result.kind) {
    case LineKind::kEvent: {
      // Lag the stream's progress, reflected off the start so that times stay
      // in the span; never below the watermark, so the reader counts it.
      const Micros progress = Progress();
      const Micros lag = static_cast<Micros>(rng_.Below(static_cast<uint64_t>(options_.out_of_order) + 1));
      Micros t = progress - lag;
      if (t < start_) t = start_ + (start_ - t);
      const Micros lo = has_max_ ? std::max(start_, Watermark()) : start_;
      const Micros hi = end_ - 1;
      t = std::clamp(t, lo, hi);
      TimeFormat format = PickFormat();
      const Micros unit = Unit(format);
      Micros q = t - t % unit;
      if (q < lo) q += unit;
      if (q > hi) {  // no multiple of the unit in [lo, hi]
        format = TimeFormat::kOffset;
        q = t;
      }
      Micros local = 0;
      if (format == TimeFormat::kLocal && !ToLocal(q, &local)) format = TimeFormat::kOffset;
      const size_t n = RenderEvent(line, q, local, format);
      out->append(line, n);
      if (!has_max_ || q > max_seen_) max_seen_ = q;
      has_max_ = true;
      recent_lines_[recent_next_].assign(line, n);
      recent_events_[recent_next_] = {q, format};
      recent_next_ = (recent_next_ + 1) % kRecentEvents;
      recent_count_ = std::min(recent_count_ + 1, kRecentEvents);
      result.time_format = format;
      result.event_time = q;
      ++counts_.events;
      break;
    }
    case LineKind::kLate: {
      // 1 s to 1 day below the watermark; rounding down keeps it below.
      const Micros delta = kMicrosPerSecond + static_cast<Micros>(rng_.Below(kMicrosPerDay - kMicrosPerSecond + 1));
      const Micros t = Watermark() - delta;
      TimeFormat format = PickFormat();
      const Micros q = t - t % Unit(format);
      Micros local = 0;
      if (format == TimeFormat::kLocal && !ToLocal(q, &local)) format = TimeFormat::kOffset;
      out->append(line, RenderEvent(line, q, local, format));
      result.time_format = format;
      result.event_time = q;
      ++counts_.late;
      break;
    }
    case LineKind::kDuplicate: {
      // A recent event still at or above the watermark. The newest one always
      // is: no line after it raised the watermark above its time.
      const size_t newest = (recent_next_ + kRecentEvents - 1) % kRecentEvents;
      size_t i = newest;
      for (int attempt = 0; attempt < 4; ++attempt) {
        const size_t candidate = (recent_next_ + kRecentEvents - 1 - rng_.Below(recent_count_)) % kRecentEvents;
        if (recent_events_[candidate].time >= Watermark()) {
          i = candidate;
          break;
        }
      }
      out->append(recent_lines_[i]);
      result.time_format = recent_events_[i].format;
      result.event_time = recent_events_[i].time;
      ++counts_.duplicates;
      break;
    }
    case LineKind::kInvalid: {
      result.invalid_kind = static_cast<InvalidKind>(counts_.invalid % invalid_kinds_);
      RenderInvalid(result.invalid_kind, out);
      ++counts_.invalid_by_kind[static_cast<int>(result.invalid_kind)];
      ++counts_.invalid;
      break;
    }
  }
  ++counts_.lines;
  return result;
}

void EventGenerator::RenderInvalid(InvalidKind kind, std::string* out) {
  // An event as it would otherwise be, at the stream's progress; each kind
  // breaks exactly one thing in it, so the reader's reason is that kind's.
  char eid[kUuidTextLength];
  char uid[kUuidTextLength];
  PutEventUuid(eid);
  PutLearnerUuid(uid);
  const std::string_view name = kEventNames[rng_.Below(kEventNameCount)];
  const Micros progress = Progress();
  char iso[40];
  char* iso_end = PutCivil(iso, progress, 'T', 3);
  *iso_end++ = 'Z';
  const std::string event_id(eid, kUuidTextLength);
  const std::string user_id(uid, kUuidTextLength);
  const std::string created(iso, iso_end);
  std::array<std::string, 4> v = {Quoted(event_id), Quoted(user_id), Quoted(name), Quoted(created)};
  // Civil parts of the progress, for malformed times.
  const absl::CivilSecond civil =
      absl::CivilSecond(1970, 1, 1, 0, 0, 0) + FloorDiv(progress, kMicrosPerSecond);
  const int year = static_cast<int>(civil.year());
  auto pick = [this](auto&&... choices) {
    const std::string options[] = {std::string(choices)...};
    return options[rng_.Below(sizeof...(choices))];
  };
  auto bad_uuid = [&](const std::string& s) {
    switch (rng_.Below(8)) {
      case 0: {
        std::string no_dashes;
        for (char c : s) if (c != '-') no_dashes.push_back(c);
        return no_dashes;
      }
      case 1: {
        std::string t = s;
        size_t i = rng_.Below(kUuidTextLength);
        if (t[i] == '-') ++i;
        t[i] = 'g';
        return t;
      }
      case 2: return absl::StrCat("{", s, "}");
      case 3: return s.substr(0, kUuidTextLength - 1);
      case 4: return absl::StrCat(s, "0");
      case 5: return absl::StrCat("urn:uuid:", s);
      case 6: {
        std::string t = s;
        std::swap(t[8], t[9]);  // a dash out of place
        return t;
      }
      default: return std::string();
    }
  };

  std::string text;
  using K = InvalidKind;
  switch (kind) {
    case K::kNotJson:
      switch (rng_.Below(4)) {
        case 0:
          text = absl::StrCat("EventUUID=", event_id, " UserUUID=", user_id, " EventName=",
                              absl::string_view(name.data(), name.size()), " CreatedAt=", created);
          break;
        case 1:  // a Python dict's repr
          text = absl::StrCat("{'EventUUID': '", event_id, "', 'UserUUID': '", user_id, "', 'EventName': '",
                              absl::string_view(name.data(), name.size()), "', 'CreatedAt': '", created, "'}");
          break;
        case 2:  // unquoted keys
          text = absl::StrCat("{EventUUID:", v[0], ",UserUUID:", v[1], ",EventName:", v[2], ",CreatedAt:", v[3], "}");
          break;
        default:  // a log line
          text = absl::StrCat(created, " INFO ", absl::string_view(name.data(), name.size()), " user=", user_id);
          break;
      }
      break;
    case K::kTruncatedJson: {
      const std::string whole = Object(v);
      text = whole.substr(0, 1 + rng_.Below(whole.size() - 2));
      break;
    }
    case K::kTrailingComma: text = Object(v, -1, ","); break;
    case K::kNaN:
      v[3] = "NaN";
      text = Object(v);
      break;
    case K::kNotUtf8:
      // A stray byte, an overlong '/', a UTF-16 surrogate, a lone continuation
      // byte, a sequence cut short.
      v[2] = Quoted(absl::StrCat(absl::string_view(name.data(), name.size()),
                                 pick("\xff", "\xc0\xaf", "\xed\xa0\x80", "\x80", "\xe2\x82")));
      text = Object(v);
      break;
    case K::kJsonArray: text = absl::StrCat("[", Object(v), "]"); break;
    case K::kJsonString: {  // encoded twice, as some producers do
      text = "\"";
      for (char c : Object(v)) {
        if (c == '"') text.push_back('\\');
        text.push_back(c);
      }
      text.push_back('"');
      break;
    }
    case K::kMissingEventId: text = Object(v, 0); break;
    case K::kMissingUserId: text = Object(v, 1); break;
    case K::kMissingEventName: text = Object(v, 2); break;
    case K::kMissingCreatedAt: text = Object(v, 3); break;
    case K::kNumberUuid:
      v[rng_.Below(2)] = absl::StrCat(rng_.Below(4'000'000'000ULL));
      text = Object(v);
      break;
    case K::kNullEventName:
      v[2] = "null";
      text = Object(v);
      break;
    case K::kBooleanCreatedAt:
      v[3] = pick("true", "false");
      text = Object(v);
      break;
    case K::kBadEventUuid:
      v[0] = Quoted(bad_uuid(event_id));
      text = Object(v);
      break;
    case K::kBadUserUuid:
      v[1] = Quoted(bad_uuid(user_id));
      text = Object(v);
      break;
    case K::kEmptyEventName:
      v[2] = "\"\"";
      text = Object(v);
      break;
    case K::kMonth13:
      v[3] = Quoted(absl::StrFormat("%04d-13-%02dT%s", year, civil.day(), created.substr(11)));
      text = Object(v);
      break;
    case K::kNoSuchDate:
      v[3] = Quoted(absl::StrCat(
          pick(absl::StrFormat("%04d-02-30", year), "2023-02-29", absl::StrFormat("%04d-04-31", year)),
          created.substr(10)));
      text = Object(v);
      break;
    case K::kHour24:
      v[3] = Quoted(absl::StrCat(created.substr(0, 11), pick("24:00:00", "24:30:15"), created.substr(19)));
      text = Object(v);
      break;
    case K::kBadZone:
      v[3] = Quoted(absl::StrCat(created.substr(0, created.size() - 1),
                                 pick("+24:00", "-05:60", "+5:30", "+0530:00", " UTC", "PST", "+05")));
      text = Object(v);
      break;
    case K::kTenFractionDigits:
      v[3] = Quoted(absl::StrCat(created.substr(0, 19), ".", absl::StrFormat("%010d", rng_.Below(10'000'000'000ULL)),
                                 "Z"));
      text = Object(v);
      break;
    case K::kBefore1970:
      v[3] = pick("\"1969-12-31T23:59:59.999999Z\"", "\"1969-07-20T20:17:40Z\"", "\"1970-01-01T00:30:00+01:00\"", "-1",
                  "-0.5");
      text = Object(v);
      break;
    case K::kFrom2100:
      v[3] = pick("\"2100-01-01T00:00:00Z\"", "\"2099-12-31T23:30:00-01:00\"", "\"2150-06-01 12:00:00Z\"",
                  "4102444800", "4102444800.5");
      text = Object(v);
      break;
    case K::kOversized: {
      // A valid event with one more field, padded to the size asked for.
      const std::string base = Object(v, -1, ",\"Padding\":\"\"");
      const size_t padding = options_.oversized_bytes > base.size() ? options_.oversized_bytes - base.size() : 0;
      text = Object(v, -1, absl::StrCat(",\"Padding\":\"", std::string(padding, 'x'), "\""));
      break;
    }
  }
  out->append(text);
  out->push_back('\n');
}

absl::Status EventGenerator::WriteAll(const std::function<absl::Status(std::string_view)>& write,
                                      size_t chunk_bytes) {
  std::string chunk;
  chunk.reserve(chunk_bytes + kMaxEventLine);
  while (!done()) {
    Next(&chunk);
    if (chunk.size() >= chunk_bytes) {
      if (absl::Status s = write(chunk); !s.ok()) return s;
      chunk.clear();
    }
  }
  if (chunk.empty()) return absl::OkStatus();
  return write(chunk);
}

}  // namespace tally
