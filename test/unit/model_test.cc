// The randomized model test: the engine (DailyCountProcessor over the memory
// stores) against a small model of the semantics in docs/semantics.md, written
// straight from the rules and sharing no code with the engine's dedup, window
// or watermark, over hundreds of generated streams.
//
// Where the model's facts come from. A rule like "invalid" or "event time t"
// needs a JSON and time parser; the model does not reuse the engine's
// RecordParser for it. Instead it takes each line's validity, dead-letter
// reason and event time from the generator's own account of the line
// (GeneratedLine: kind, ExpectedReason(invalid_kind), event_time), which the
// generator knows because it wrote the line, and reads the two UUIDs from the
// fixed layout of a valid generated line. So nothing here trusts the engine to
// judge itself; the parser has its own tests (record_parser_test.cc,
// event_time_test.cc), and event_generator_test.cc checks that the generator's
// times are what the parser reads. The lines the test adds itself (boundary
// cases, re-sends, re-created ids) carry the same facts, by construction.
//
// Every stream is run twice: record by record with Process, and in
// random-sized chunks mixing ProcessBatch and Process; both with Trigger at
// random points. At each trigger the rows must be exactly what update mode
// promises: the rows whose count changed, with their counts; the rows of days
// that closed, each once, with its final count; and never again after that.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/daily_count_processor.h"
#include "generate/event_generator.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

constexpr int64_t kDay = 86'400'000'000;  // microseconds; the model's own constant
constexpr int64_t kHour = 3'600'000'000;

// One input record and the facts about it the model needs.
struct Line {
  std::string bytes;  // as the engine reads it, without a newline
  bool valid = false;
  DeadLetterReason reason = DeadLetterReason::kNotJson;  // invalid only
  int64_t t = 0;                                         // valid only: event time, µs
  std::string event_id;                                  // valid only: lower case
  std::string user_id;                                   // valid only: lower case
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------------------
// The model: the rules of "Per record", one partition, nothing more.

enum class Fate { kInvalid, kLate, kDuplicate, kCounted };

using RowKey = std::pair<std::string, int64_t>;  // (learner, UTC day number)

struct ModelCounts {
  int64_t records = 0, invalid = 0, late = 0, duplicates = 0, counted = 0;
};

class SpecModel {
 public:
  explicit SpecModel(int64_t lateness) : lateness_(lateness) {}

  Fate Apply(const Line& line, int64_t position) {
    ++counts_.records;
    if (!line.valid) {  // 1. invalid
      ++counts_.invalid;
      dead_letters_.emplace_back(line.reason, position);
      return Fate::kInvalid;
    }
    const int64_t t = line.t;
    Fate fate;
    if (max_seen_ && t < *max_seen_ - lateness_) {  // 2. late: t < W
      ++counts_.late;
      dead_letters_.emplace_back(DeadLetterReason::kLate, position);
      fate = Fate::kLate;
    } else if (HasCountedCopyAtOrAboveWatermark(line.event_id)) {  // 3. duplicate
      ++counts_.duplicates;
      fate = Fate::kDuplicate;
    } else {  // 4. counted into (user, date(t))
      ++counts_.counted;
      counted_times_[line.event_id].push_back(t);
      const RowKey key{line.user_id, t / kDay};  // t >= 0: division is the floor
      ++table_[key];
      changed_.insert(key);
      fate = Fate::kCounted;
    }
    if (!max_seen_ || t > *max_seen_) max_seen_ = t;  // every valid record moves max_seen
    return fate;
  }

  // W, if there is one yet.
  std::optional<int64_t> watermark() const {
    if (!max_seen_) return std::nullopt;
    return *max_seen_ - lateness_;
  }
  // Day d is closed once W >= start of d + 1.
  bool Closed(int64_t day) const {
    const auto w = watermark();
    return w && *w >= (day + 1) * kDay;
  }
  // The rows that changed since the last call, with their counts.
  std::map<RowKey, int64_t> TakeChanged() {
    std::map<RowKey, int64_t> out;
    for (const RowKey& key : changed_) out[key] = table_.at(key);
    changed_.clear();
    return out;
  }

  const std::map<RowKey, int64_t>& table() const { return table_; }
  const ModelCounts& counts() const { return counts_; }
  const std::vector<std::pair<DeadLetterReason, int64_t>>& dead_letters() const { return dead_letters_; }

 private:
  bool HasCountedCopyAtOrAboveWatermark(const std::string& event_id) const {
    auto it = counted_times_.find(event_id);
    if (it == counted_times_.end()) return false;
    const int64_t w = *max_seen_ - lateness_;  // a counted copy implies a max_seen
    return std::any_of(it->second.begin(), it->second.end(), [&](int64_t t) { return t >= w; });
  }

  int64_t lateness_;
  std::optional<int64_t> max_seen_;
  std::map<std::string, std::vector<int64_t>> counted_times_;  // every counted copy's time, by event id
  std::map<RowKey, int64_t> table_;
  std::set<RowKey> changed_;
  ModelCounts counts_;
  std::vector<std::pair<DeadLetterReason, int64_t>> dead_letters_;
};

// ---------------------------------------------------------------------------
// Streams: the generator's lines, then (in most streams) perturbed.

// A valid line the test writes itself: the generator's layout, a six-digit
// fraction and a Z, so its time is exactly t whatever the input time zone.
Line Crafted(const std::string& event_id, const std::string& user_id, int64_t t) {
  Line line;
  line.bytes = "{\"EventUUID\":\"" + event_id + "\",\"UserUUID\":\"" + user_id +
               "\",\"EventName\":\"crafted\",\"CreatedAt\":\"" +
               absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(t), absl::UTCTimeZone()) + "\"}";
  line.valid = true;
  line.t = t;
  line.event_id = Lower(event_id);
  line.user_id = Lower(user_id);
  return line;
}

std::string RandomUuidText(std::mt19937_64& rng) {
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(rng()),
                static_cast<unsigned>(rng() & 0xFFFF), static_cast<unsigned>(rng() & 0xFFF),
                static_cast<unsigned>(0x8000 | (rng() & 0x3FFF)),
                static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFFULL));
  return text;
}

struct StreamSpec {
  GeneratorOptions options;
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  bool perturbed = false;
  std::string description;
};

struct Stream {
  StreamSpec spec;
  std::vector<Line> lines;
  std::vector<LineKind> promised;  // the generator's promise per line; unperturbed streams only
};

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << "time zone " << name << " (tzdata installed?)";
  return zone;
}

StreamSpec PickSpec(uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 1);
  auto pick = [&](auto... values) {
    const std::vector<std::common_type_t<decltype(values)...>> v = {values...};
    return v[rng() % v.size()];
  };
  StreamSpec s;
  GeneratorOptions& o = s.options;
  o.seed = seed;
  o.events = rng() % 8 == 0 ? static_cast<int64_t>(rng() % 4) : static_cast<int64_t>(rng() % 2001);
  o.learners = pick(int64_t{1}, int64_t{3}, int64_t{20}, int64_t{200});
  o.days = 1 + static_cast<int64_t>(rng() % 10);
  o.duplicate_ratio = pick(0.0, 0.05, 0.2, 0.5);
  o.late_ratio = pick(0.0, 0.01, 0.1);
  o.invalid_ratio = pick(0.0, 0.02, 0.1);
  o.lateness = pick(int64_t{0}, kHour, kDay, 7 * kDay, static_cast<int64_t>(1 + rng() % (3 * kDay)));
  o.out_of_order = pick(int64_t{0}, int64_t{1'000'000}, kHour, kDay, 3 * kDay, 10 * kDay);
  o.time_format = static_cast<TimeFormat>(rng() % (kConcreteTimeFormats + 1));
  o.uuid_case = static_cast<UuidCase>(rng() % 3);
  static const char* kZones[] = {"UTC", "Asia/Calcutta", "America/New_York", "Europe/Berlin"};
  const char* zone = kZones[rng() % 4];
  o.zone = Zone(zone);
  switch (rng() % 10) {
    case 0:  // the first days of 1970: a negative watermark, event times near 0
      o.start_date = absl::CivilDay(1970, 1, 1) + static_cast<int64_t>(rng() % 12);
      break;
    case 1:  // the last days before 2100
      o.start_date = absl::CivilDay(2100, 1, 1) - o.days - static_cast<int64_t>(rng() % 3);
      break;
    default:  // any day of 2023-2025, daylight-saving changes included
      o.start_date = absl::CivilDay(2023, 1, 1) + static_cast<int64_t>(rng() % 1000);
      break;
  }
  if (rng() % 8 == 0) {
    s.max_record_bytes = 1024;
    o.oversized_bytes = 1025 + rng() % 1500;
  }
  s.perturbed = rng() % 3 != 0;
  s.description = "seed " + std::to_string(seed) + ": events " + std::to_string(o.events) + ", learners " +
                  std::to_string(o.learners) + ", start " + absl::FormatCivilTime(o.start_date) + " + " +
                  std::to_string(o.days) + " days, ratios dup/late/invalid " + std::to_string(o.duplicate_ratio) +
                  "/" + std::to_string(o.late_ratio) + "/" + std::to_string(o.invalid_ratio) + ", lateness " +
                  std::to_string(o.lateness) + " us, out of order " + std::to_string(o.out_of_order) +
                  " us, format " + TimeFormatName(o.time_format) + ", uuids " + UuidCaseName(o.uuid_case) +
                  ", zone " + zone + ", oversized " + std::to_string(o.oversized_bytes) +
                  (s.perturbed ? ", perturbed" : "");
  return s;
}

// The generator's lines, each with its facts.
bool Generate(const StreamSpec& spec, Stream* stream) {
  GeneratorOptions o = spec.options;
  auto generator = EventGenerator::Create(o);
  if (!generator.ok()) {  // e.g. ratios that leave no fresh event, late lines before 1970
    o.duplicate_ratio = o.late_ratio = 0;
    generator = EventGenerator::Create(o);
  }
  EXPECT_TRUE(generator.ok()) << generator.status();
  if (!generator.ok()) return false;
  stream->spec = spec;
  stream->spec.options = o;
  std::string text;
  while (!(*generator)->done()) {
    text.clear();
    const GeneratedLine info = (*generator)->Next(&text);
    EXPECT_EQ(text.back(), '\n');
    text.pop_back();
    Line line;
    line.bytes = text;
    line.valid = info.kind != LineKind::kInvalid;
    if (!line.valid) {
      line.reason = ExpectedReason(info.invalid_kind);
    } else {
      // {"EventUUID":"<36>","UserUUID":"<36>",...: the layout of every valid line.
      EXPECT_EQ(text.substr(0, 14), "{\"EventUUID\":\"") << text;
      EXPECT_EQ(text.substr(50, 14), "\",\"UserUUID\":\"") << text;
      line.t = info.event_time;
      line.event_id = Lower(text.substr(14, 36));
      line.user_id = Lower(text.substr(64, 36));
    }
    stream->lines.push_back(std::move(line));
    stream->promised.push_back(info.kind);
  }
  return true;
}

// Reorders and adds lines, to reach what the generator avoids: records at
// exactly the watermark or one microsecond under it, re-sends of any earlier
// line (invalid, late or long expired ones too), the same id in another
// letter case, ids re-created with a newer time, copies at the exact moment
// their first copy leaves the dedup state, duplicates with a newer time (they
// move max_seen too), a watermark at exactly the start of a day or one
// microsecond short of it, and records at exactly the size limit.
void Perturb(std::mt19937_64& rng, Stream* stream) {
  std::vector<Line>& in = stream->lines;
  const double swap = std::vector<double>{0.0, 0.05, 0.3}[rng() % 3];
  for (size_t i = 1; i < in.size(); ++i) {
    if (std::uniform_real_distribution<double>(0, 1)(rng) < swap) std::swap(in[i - 1], in[i]);
  }
  const int64_t lateness = stream->spec.options.lateness;
  const int64_t end = 4'102'444'800LL * 1'000'000;  // 2100-01-01T00:00:00Z
  std::vector<Line> out;
  std::vector<size_t> valid;  // indexes into out
  std::optional<int64_t> max_seen;
  auto emit = [&](Line line) {
    if (line.valid) {
      valid.push_back(out.size());
      if (!max_seen || line.t > *max_seen) max_seen = line.t;
    }
    out.push_back(std::move(line));
  };
  auto ok_time = [&](int64_t t) { return t >= 0 && t < end; };
  const double rate = std::vector<double>{0.01, 0.05, 0.2}[rng() % 3];
  for (Line& line : in) {
    emit(std::move(line));
    if (std::uniform_real_distribution<double>(0, 1)(rng) >= rate) continue;
    const int64_t w = max_seen ? *max_seen - lateness : -1;
    const std::string user = valid.empty() ? RandomUuidText(rng) : out[valid[rng() % valid.size()]].user_id;
    switch (rng() % 10) {
      case 0:  // a verbatim re-send of any earlier line
        emit(Line(out[rng() % out.size()]));
        break;
      case 1:  // the same event id, another letter case
        if (!valid.empty()) {
          Line copy = out[valid[rng() % valid.size()]];
          for (size_t k = 14; k < 50; ++k) {
            if (rng() % 2) copy.bytes[k] = static_cast<char>(std::toupper(static_cast<unsigned char>(copy.bytes[k])));
          }
          emit(std::move(copy));
        }
        break;
      case 2:  // a new event at exactly the watermark: not late
        if (max_seen && ok_time(w)) emit(Crafted(RandomUuidText(rng), user, w));
        break;
      case 3:  // one microsecond under it: late
        if (max_seen && ok_time(w - 1)) emit(Crafted(RandomUuidText(rng), user, w - 1));
        break;
      case 4:  // an earlier event id, re-created at the newest time or at the watermark
        if (!valid.empty() && max_seen) {
          const Line& old = out[valid[rng() % valid.size()]];
          const int64_t t = rng() % 2 ? *max_seen : w;
          if (ok_time(t)) emit(Crafted(old.event_id, user, t));
        }
        break;
      case 5: {  // move W to exactly an earlier event's time t0, re-send it (t0 == W), then go one past
        if (valid.empty()) break;
        const Line old = out[valid[rng() % valid.size()]];
        const int64_t jump = old.t + lateness;
        if (!max_seen || jump < *max_seen || !ok_time(jump + 1) || jump - *max_seen > 6 * kHour) break;
        emit(Crafted(RandomUuidText(rng), user, jump));  // W = t0
        emit(Line(old));                                  // not late; a duplicate if its copy was counted
        emit(Crafted(RandomUuidText(rng), user, jump + 1));  // W = t0 + 1
        emit(Line(old));                                     // late
        break;
      }
      case 6:  // at the size limit, and one byte over it
        if (stream->spec.max_record_bytes < 4096 && !valid.empty()) {
          for (size_t size : {stream->spec.max_record_bytes, stream->spec.max_record_bytes + 1}) {
            Line big = out[valid[rng() % valid.size()]];
            if (big.bytes.size() > 512) break;  // one made big already
            big.bytes.pop_back();  // the closing brace
            const std::string pad_open = ",\"Padding\":\"";
            big.bytes += pad_open + std::string(size - big.bytes.size() - pad_open.size() - 2, 'x') + "\"}";
            EXPECT_EQ(big.bytes.size(), size);
            if (size > stream->spec.max_record_bytes) {
              big.valid = false;
              big.reason = DeadLetterReason::kTooLarge;
            }
            emit(std::move(big));
          }
        }
        break;
      case 7:  // a recent event id again with a newer time: a duplicate, which still moves max_seen
        if (!valid.empty() && max_seen) {
          const Line& recent = out[valid[valid.size() - 1 - rng() % std::min<size_t>(valid.size(), 8)]];
          const int64_t t = *max_seen + 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(lateness / 2 + 1));
          if (ok_time(t) && t - *max_seen <= kDay) emit(Crafted(recent.event_id, recent.user_id, t));
        }
        break;
      case 8: {  // W to exactly the start of the next day, or one microsecond short of it
        if (!max_seen) break;
        const int64_t next_day = (w < 0 ? 0 : w / kDay + 1) * kDay;
        const int64_t t = next_day + lateness - static_cast<int64_t>(rng() % 2);
        if (t > *max_seen && ok_time(t) && t - *max_seen <= 6 * kHour) emit(Crafted(RandomUuidText(rng), user, t));
        break;
      }
      default:  // a re-send of an old valid line: late or a duplicate, by the lateness
        if (!valid.empty()) emit(Line(out[valid[rng() % (valid.size() / 4 + 1)]]));
        break;
    }
  }
  stream->lines = std::move(out);
  stream->promised.clear();
}

// ---------------------------------------------------------------------------
// Driving the engine and checking it against the model.

Fate FateOf(Verdict v) {
  switch (v) {
    case Verdict::kInvalid: return Fate::kInvalid;
    case Verdict::kLate: return Fate::kLate;
    case Verdict::kDuplicate: return Fate::kDuplicate;
    case Verdict::kCounted: return Fate::kCounted;
  }
  return Fate::kInvalid;
}

RowKey KeyOf(const DailyCount& row) { return RowKey{FormatUuid(row.user), row.day}; }

std::string Show(const RowKey& key) { return key.first + " day " + std::to_string(key.second); }

std::string ShowRows(const std::map<RowKey, int64_t>& rows) {
  std::string s;
  for (const auto& [key, count] : rows) s += "  " + Show(key) + " = " + std::to_string(count) + "\n";
  return s.empty() ? "  (none)\n" : s;
}

// The rows of one trigger output as a map; a row twice in one list is a failure.
std::map<RowKey, int64_t> AsMap(const std::vector<DailyCount>& rows, const char* what) {
  std::map<RowKey, int64_t> out;
  for (const DailyCount& row : rows) {
    EXPECT_TRUE(out.emplace(KeyOf(row), row.count).second) << what << " holds " << Show(KeyOf(row)) << " twice";
  }
  return out;
}

enum class Drive { kProcessEachRecord, kRandomChunks };

// Runs the engine over the stream, triggering at random points, and checks
// every trigger, the final table, the counts and the dead letters.
void RunAndCompare(const Stream& stream, Drive drive, uint64_t seed) {
  SCOPED_TRACE(drive == Drive::kProcessEachRecord ? "Process on each record" : "random chunks");
  std::mt19937_64 rng(seed);
  const GeneratorOptions& o = stream.spec.options;
  ProcessorOptions options;
  options.lateness = o.lateness;
  options.input_zone = o.zone;
  options.max_record_bytes = stream.spec.max_record_bytes;
  MemoryDedupStore dedup(rng() % 2 ? 1 : 1024);  // small: grows and purges in the run
  MemoryWindowStore windows;
  DailyCountProcessor engine(options, &dedup, &windows);
  SpecModel model(o.lateness);

  // Records either stand alone or sit in one buffer with garbage in the padding
  // after each (padded: the parser may read it, but must not take it in).
  const bool padded = rng() % 2 == 0;
  std::string arena;
  std::vector<SourceRecord> records;
  const int32_t partition = static_cast<int32_t>(rng() % 4);
  {
    std::vector<size_t> offsets;
    for (const Line& line : stream.lines) {
      offsets.push_back(arena.size());
      arena += line.bytes;
      if (padded) {
        for (size_t k = 0; k < kRecordPadding; ++k) arena.push_back("}],\": 0x"[rng() % 8]);
      }
    }
    for (size_t i = 0; i < stream.lines.size(); ++i) {
      const std::string_view bytes = padded ? std::string_view(arena).substr(offsets[i], stream.lines[i].bytes.size())
                                            : std::string_view(stream.lines[i].bytes);
      records.push_back(SourceRecord{bytes, RecordOrigin{partition, static_cast<int64_t>(i) + 1}});
    }
  }

  std::map<RowKey, int64_t> last_update;  // the engine's latest written count of each row
  std::map<RowKey, int64_t> finalized;    // rows finalized so far, with their final count
  int triggers = 0;
  auto trigger = [&](bool end_of_input) {
    ++triggers;
    TriggerOutput out;
    engine.Trigger(&out, end_of_input);
    const std::string where = "trigger " + std::to_string(triggers) + " after " +
                              std::to_string(model.counts().records) + " records" +
                              (end_of_input ? " (end of input)" : "");
    // Update mode: exactly the rows that changed, with their current counts.
    const std::map<RowKey, int64_t> updates = AsMap(out.updates, "updates");
    const std::map<RowKey, int64_t> expected_updates = model.TakeChanged();
    ASSERT_EQ(updates, expected_updates) << where << "\nupdates:\n"
                                         << ShowRows(updates) << "expected:\n"
                                         << ShowRows(expected_updates);
    for (const auto& [key, count] : updates) {
      ASSERT_FALSE(finalized.count(key)) << where << ": finalized row " << Show(key) << " updated again";
      auto it = last_update.find(key);
      if (it != last_update.end()) {
        ASSERT_GT(count, it->second) << where << ": row " << Show(key) << " went back to an older value";
      }
      last_update[key] = count;
    }
    // Finalized: the rows of days that closed (at the end, every row), each
    // once, with a final count it was already written with.
    const std::map<RowKey, int64_t> final_rows = AsMap(out.finalized, "finalized");
    std::map<RowKey, int64_t> expected_final;
    for (const auto& [key, count] : model.table()) {
      if ((end_of_input || model.Closed(key.second)) && !finalized.count(key)) expected_final[key] = count;
    }
    ASSERT_EQ(final_rows, expected_final) << where << "\nfinalized:\n"
                                          << ShowRows(final_rows) << "expected:\n"
                                          << ShowRows(expected_final);
    for (const auto& [key, count] : final_rows) {
      ASSERT_EQ(last_update.count(key), 1u) << where << ": " << Show(key) << " finalized, never updated";
      ASSERT_EQ(last_update[key], count) << where << ": " << Show(key) << " finalized with another count";
      finalized[key] = count;
    }
    const RecordCounts& c = engine.counts();
    const ModelCounts& m = model.counts();
    ASSERT_EQ(c.records, m.records) << where;
    ASSERT_EQ(c.invalid, m.invalid) << where;
    ASSERT_EQ(c.late, m.late) << where;
    ASSERT_EQ(c.duplicates, m.duplicates) << where;
    ASSERT_EQ(c.counted, m.counted) << where;
  };

  const double trigger_rate = std::vector<double>{0.0, 0.002, 0.02, 0.2}[rng() % 4];
  auto maybe_trigger = [&] {
    if (std::uniform_real_distribution<double>(0, 1)(rng) < trigger_rate) trigger(false);
  };
  size_t i = 0;
  while (i < records.size()) {
    if (drive == Drive::kProcessEachRecord) {
      const Verdict v = engine.Process(records[i].bytes, padded, records[i].origin);
      const Fate expected = model.Apply(stream.lines[i], records[i].origin.position);
      ASSERT_EQ(static_cast<int>(FateOf(v)), static_cast<int>(expected))
          << "record " << records[i].origin.position << ": " << stream.lines[i].bytes
          << "\n(0 invalid, 1 late, 2 duplicate, 3 counted)";
      ++i;
    } else {
      const size_t n = std::min<size_t>(records.size() - i, rng() % 41);  // 0 to 40; the lookahead is 8
      if (rng() % 5 != 0) {
        engine.ProcessBatch(std::span<const SourceRecord>(records).subspan(i, n), padded);
      } else {
        for (size_t k = i; k < i + n; ++k) engine.Process(records[k].bytes, padded, records[k].origin);
      }
      for (size_t k = i; k < i + n; ++k) model.Apply(stream.lines[k], records[k].origin.position);
      i += n;
    }
    maybe_trigger();
    if (testing::Test::HasFatalFailure()) return;
  }
  trigger(true);
  if (testing::Test::HasFatalFailure()) return;

  // The final table: every row finalized exactly once, with the model's count,
  // which is also the row's last update.
  EXPECT_EQ(finalized, model.table()) << "final table\nengine:\n"
                                      << ShowRows(finalized) << "model:\n"
                                      << ShowRows(model.table());
  EXPECT_EQ(last_update, model.table()) << "last updates";
  const ModelCounts& m = model.counts();
  EXPECT_EQ(m.records, m.invalid + m.late + m.duplicates + m.counted);
  EXPECT_EQ(m.records, static_cast<int64_t>(stream.lines.size()));

  // Dead letters: one per invalid or late record, in order, with its reason,
  // origin and exact bytes (of a too_large one, its first kTooLargeKeptBytes).
  const std::vector<DeadLetter>& letters = engine.dead_letters();
  const auto& expected = model.dead_letters();
  ASSERT_EQ(letters.size(), expected.size());
  for (size_t k = 0; k < letters.size(); ++k) {
    const int64_t position = expected[k].second;
    const Line& line = stream.lines[static_cast<size_t>(position - 1)];
    ASSERT_EQ(letters[k].origin.position, position) << "dead letter " << k;
    EXPECT_EQ(letters[k].origin.partition, partition);
    EXPECT_EQ(ReasonName(letters[k].reason), std::string(ReasonName(expected[k].first)))
        << "dead letter " << k << " (record " << position << "): " << line.bytes << "\n" << letters[k].detail;
    const std::string kept = expected[k].first == DeadLetterReason::kTooLarge
                                 ? line.bytes.substr(0, kTooLargeKeptBytes)
                                 : line.bytes;
    EXPECT_EQ(letters[k].bytes, kept) << "dead letter " << k;
  }
}

// What the streams exercised, over all of them: a test whose streams never
// reached a case would pass without checking it.
struct Coverage {
  int64_t streams = 0, records = 0, invalid = 0, late = 0, duplicates = 0, counted = 0, perturbed = 0;
};

void CheckStream(uint64_t seed, Coverage* coverage) {
  const StreamSpec spec = PickSpec(seed);
  SCOPED_TRACE(spec.description);
  Stream stream;
  if (!Generate(spec, &stream)) return;
  if (spec.perturbed) {
    std::mt19937_64 rng(seed ^ 0xABCDEF);
    Perturb(rng, &stream);
  }
  // The model against the generator's promise, on streams as generated: two
  // independent accounts of the same rules must agree line by line.
  if (!stream.promised.empty()) {
    SpecModel model(stream.spec.options.lateness);
    for (size_t i = 0; i < stream.lines.size(); ++i) {
      static constexpr Fate kPromise[] = {Fate::kCounted, Fate::kDuplicate, Fate::kLate, Fate::kInvalid};
      const Fate fate = model.Apply(stream.lines[i], static_cast<int64_t>(i) + 1);
      ASSERT_EQ(static_cast<int>(fate), static_cast<int>(kPromise[static_cast<int>(stream.promised[i])]))
          << "line " << i + 1 << " " << stream.lines[i].bytes << ": model and generator disagree";
    }
  }
  RunAndCompare(stream, Drive::kProcessEachRecord, seed * 3 + 1);
  if (testing::Test::HasFatalFailure()) return;
  RunAndCompare(stream, Drive::kRandomChunks, seed * 3 + 2);

  SpecModel model(stream.spec.options.lateness);
  for (size_t i = 0; i < stream.lines.size(); ++i) model.Apply(stream.lines[i], static_cast<int64_t>(i) + 1);
  ++coverage->streams;
  coverage->perturbed += spec.perturbed ? 1 : 0;
  coverage->records += model.counts().records;
  coverage->invalid += model.counts().invalid;
  coverage->late += model.counts().late;
  coverage->duplicates += model.counts().duplicates;
  coverage->counted += model.counts().counted;
}

// The model itself, on a stream small enough to work out by hand from the rules.
TEST(Model, FollowsTheRulesOnAHandWorkedStream) {
  const int64_t lateness = kHour;
  const int64_t t0 = 19'723 * kDay + 10 * kHour;  // 2024-01-01T10:00Z
  const std::string a = "00000000-0000-4000-8000-00000000000a";
  const std::string u = "10000000-0000-4000-8000-000000000001";
  Line bad;
  bad.reason = DeadLetterReason::kNotJson;
  SpecModel m(lateness);
  EXPECT_EQ(m.Apply(bad, 1), Fate::kInvalid);
  EXPECT_FALSE(m.watermark()) << "invalid records do not move max_seen";
  EXPECT_EQ(m.Apply(Crafted(a, u, t0), 2), Fate::kCounted);
  EXPECT_EQ(m.Apply(Crafted(a, u, t0), 3), Fate::kDuplicate);
  EXPECT_EQ(m.Apply(Crafted("00000000-0000-4000-8000-00000000000b", u, t0 + lateness), 4), Fate::kCounted);
  EXPECT_EQ(*m.watermark(), t0);
  EXPECT_EQ(m.Apply(Crafted(a, u, t0), 5), Fate::kDuplicate) << "t == W: not late; the copy at t0 >= W";
  EXPECT_EQ(m.Apply(Crafted("00000000-0000-4000-8000-00000000000c", u, t0 + lateness + 1), 6), Fate::kCounted);
  EXPECT_EQ(m.Apply(Crafted(a, u, t0), 7), Fate::kLate);
  EXPECT_EQ(m.Apply(Crafted(a, u, t0 + 1), 8), Fate::kCounted) << "re-created at W: its old copy expired";
  EXPECT_EQ(m.Apply(Crafted(a, u, t0 + 1), 9), Fate::kDuplicate);
  EXPECT_FALSE(m.Closed(19'723));
  EXPECT_EQ(m.Apply(Crafted("00000000-0000-4000-8000-00000000000d", u, 19'724 * kDay + lateness), 10),
            Fate::kCounted);
  EXPECT_TRUE(m.Closed(19'723)) << "W == start of the next day closes the day";
  EXPECT_EQ(m.table(), (std::map<RowKey, int64_t>{{{u, 19'723}, 4}, {{u, 19'724}, 1}}));
  EXPECT_EQ(m.dead_letters(), (std::vector<std::pair<DeadLetterReason, int64_t>>{
                                  {DeadLetterReason::kNotJson, 1}, {DeadLetterReason::kLate, 7}}));
}

TEST(Model, EngineMatchesTheModelOnGeneratedStreams) {
  const auto start = std::chrono::steady_clock::now();
  Coverage coverage;
  const uint64_t kStreams = 400;
  for (uint64_t seed = 1; seed <= kStreams; ++seed) {
    CheckStream(seed, &coverage);
    if (HasFailure()) {
      ADD_FAILURE() << "stopped at the first failing stream, seed " << seed << " (see its description above)";
      return;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ model    ] " << coverage.streams << " streams (" << coverage.perturbed << " perturbed), each run "
            << "twice: " << coverage.records << " records, " << coverage.invalid << " invalid, " << coverage.late
            << " late, " << coverage.duplicates << " duplicates, " << coverage.counted << " counted; " << seconds
            << " s\n";
  EXPECT_EQ(coverage.streams, static_cast<int64_t>(kStreams));
  EXPECT_GT(coverage.perturbed, 0);
  EXPECT_GT(coverage.invalid, 0);
  EXPECT_GT(coverage.late, 0);
  EXPECT_GT(coverage.duplicates, 0);
  EXPECT_GT(coverage.counted, 0);
}

}  // namespace
}  // namespace tally
