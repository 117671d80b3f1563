#include "generate/event_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/daily_count_processor.h"
#include "core/record_parser.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

struct Line {
  std::string text;  // without the newline
  GeneratedLine info;
};

std::vector<Line> Generate(const GeneratorOptions& options) {
  auto generator = EventGenerator::Create(options);
  EXPECT_TRUE(generator.ok()) << generator.status();
  std::vector<Line> lines;
  if (!generator.ok()) return lines;
  while (!(*generator)->done()) {
    Line line;
    line.info = (*generator)->Next(&line.text);
    EXPECT_FALSE(line.text.empty());
    EXPECT_EQ(line.text.back(), '\n');
    EXPECT_EQ(line.text.find('\n'), line.text.size() - 1) << "one line per call";
    line.text.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string WriteAll(const GeneratorOptions& options, size_t chunk_bytes = 1 << 20) {
  auto generator = EventGenerator::Create(options);
  EXPECT_TRUE(generator.ok()) << generator.status();
  std::string out;
  if (!generator.ok()) return out;
  absl::Status s = (*generator)->WriteAll(
      [&](std::string_view chunk) {
        out.append(chunk);
        return absl::OkStatus();
      },
      chunk_bytes);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// The raw JSON value of CreatedAt in a valid line: the line's tail.
std::string CreatedAt(const std::string& line) {
  const std::string key = "\"CreatedAt\":";
  const size_t at = line.find(key);
  if (at == std::string::npos || line.back() != '}') return "";
  return line.substr(at + key.size(), line.size() - 1 - at - key.size());
}

GeneratorOptions Small() {
  GeneratorOptions o;
  o.events = 20'000;
  o.learners = 200;
  o.days = 5;
  o.duplicate_ratio = 0.1;
  o.late_ratio = 0.05;
  o.invalid_ratio = 0.05;
  return o;
}

TEST(EventGenerator, SameSeedSameBytesOtherSeedOtherBytes) {
  GeneratorOptions o = Small();
  const std::string a = WriteAll(o);
  EXPECT_EQ(a, WriteAll(o));
  EXPECT_EQ(a, WriteAll(o, 1000)) << "chunking does not change the stream";
  std::string joined;
  for (const Line& line : Generate(o)) joined += line.text + "\n";
  EXPECT_EQ(a, joined);
  o.seed = 2;
  const std::string b = WriteAll(o);
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, 200), b.substr(0, 200));
}

TEST(EventGenerator, CountsOfEachKindAreExact) {
  GeneratorOptions o;
  o.events = 100'000;
  o.duplicate_ratio = 0.05;
  o.late_ratio = 0.01;
  o.invalid_ratio = 0.013;
  auto generator = EventGenerator::Create(o);
  ASSERT_TRUE(generator.ok());
  int64_t by_kind[4] = {0, 0, 0, 0};
  std::string sink;
  while (!(*generator)->done()) {
    ++by_kind[static_cast<int>((*generator)->Next(&sink).kind)];
    sink.clear();
  }
  const GeneratorCounts& c = (*generator)->counts();
  EXPECT_EQ(c.lines, 100'000);
  EXPECT_EQ(c.duplicates, 5'000);
  EXPECT_EQ(c.late, 1'000);
  EXPECT_EQ(c.invalid, 1'300);
  EXPECT_EQ(c.events, 100'000 - 5'000 - 1'000 - 1'300);
  EXPECT_EQ(by_kind[static_cast<int>(LineKind::kEvent)], c.events);
  EXPECT_EQ(by_kind[static_cast<int>(LineKind::kDuplicate)], c.duplicates);
  EXPECT_EQ(by_kind[static_cast<int>(LineKind::kLate)], c.late);
  EXPECT_EQ(by_kind[static_cast<int>(LineKind::kInvalid)], c.invalid);
  // The invalid kinds take turns: 1,300 over 24 kinds is 54 or 55 each; no oversized.
  for (int k = 0; k < kInvalidKindCount - 1; ++k) {
    EXPECT_GE(c.invalid_by_kind[k], 54) << InvalidKindName(static_cast<InvalidKind>(k));
    EXPECT_LE(c.invalid_by_kind[k], 55) << InvalidKindName(static_cast<InvalidKind>(k));
  }
  EXPECT_EQ(c.invalid_by_kind[static_cast<int>(InvalidKind::kOversized)], 0);
}

TEST(EventGenerator, KindsAreSpreadOverTheStream) {
  // Not all duplicates at the end: each tenth of the stream holds some of each kind.
  const std::vector<Line> lines = Generate(Small());
  for (size_t part = 0; part < 10; ++part) {
    int64_t by_kind[4] = {0, 0, 0, 0};
    for (size_t i = part * lines.size() / 10; i < (part + 1) * lines.size() / 10; ++i) {
      ++by_kind[static_cast<int>(lines[i].info.kind)];
    }
    for (int k = 0; k < 4; ++k) EXPECT_GT(by_kind[k], 0) << "part " << part << " kind " << k;
  }
}

// Every valid line parses, to the time the generator says, inside the span.
void ExpectValidLinesParse(const GeneratorOptions& o) {
  auto generator = EventGenerator::Create(o);
  ASSERT_TRUE(generator.ok());
  const Micros start = (*generator)->start_time();
  const Micros end = (*generator)->end_time();
  EXPECT_EQ(start, (o.start_date - absl::CivilDay(1970, 1, 1)) * kMicrosPerDay);
  EXPECT_EQ(end, start + o.days * kMicrosPerDay);
  RecordParser parser(FieldNames{}, EventTimeParser(o.zone));
  Event event;
  RecordParser::Error error;
  int64_t formats[kConcreteTimeFormats] = {};
  for (const Line& line : Generate(o)) {
    if (line.info.kind == LineKind::kInvalid) continue;
    ASSERT_TRUE(parser.Parse(line.text, false, &event, &error)) << line.text << ": " << error.detail;
    EXPECT_EQ(event.event_time, line.info.event_time) << line.text;
    if (line.info.kind == LineKind::kLate) {
      EXPECT_GE(event.event_time, start - o.lateness - kMicrosPerDay) << line.text;
    } else {
      EXPECT_GE(event.event_time, start) << line.text;
    }
    EXPECT_LT(event.event_time, end) << line.text;
    ASSERT_NE(line.info.time_format, TimeFormat::kMixed);
    ++formats[static_cast<int>(line.info.time_format)];
    // The form of CreatedAt is the one the line says.
    const std::string created = CreatedAt(line.text);
    switch (line.info.time_format) {
      case TimeFormat::kIso:
        EXPECT_EQ(created.size(), 26u) << created;  // "2024-01-01T10:00:00.123Z"
        EXPECT_EQ(created.substr(created.size() - 2), "Z\"") << created;
        EXPECT_EQ(created[11], 'T') << created;
        break;
      case TimeFormat::kOffset:
        EXPECT_TRUE(created.size() == 34u || created.size() == 33u) << created;
        EXPECT_NE(created.find_first_of("+-", 20), std::string::npos) << created;
        break;
      case TimeFormat::kSpace:
        EXPECT_EQ(created.size(), 22u) << created;  // "2024-01-01 10:00:00Z"
        EXPECT_EQ(created[11], ' ') << created;
        break;
      case TimeFormat::kLocal:
        EXPECT_EQ(created.size(), 28u) << created;  // "2024-01-01T10:00:00.123456", no zone
        EXPECT_EQ(created.find_first_of("Z+", 1), std::string::npos) << created;
        break;
      case TimeFormat::kEpoch:
        EXPECT_EQ(created.find_first_not_of("0123456789"), std::string::npos) << created;
        break;
      case TimeFormat::kEpochFraction:
        EXPECT_EQ(created.find('.'), created.size() - 7) << created;
        break;
      case TimeFormat::kMixed:
        break;
    }
  }
  if (o.time_format == TimeFormat::kMixed) {
    for (int f = 0; f < kConcreteTimeFormats; ++f) {
      EXPECT_GT(formats[f], 0) << TimeFormatName(static_cast<TimeFormat>(f));
    }
  } else {
    // Only a local time that cannot be written (a repeated hour) falls back.
    EXPECT_GT(formats[static_cast<int>(o.time_format)], 0);
  }
}

TEST(EventGenerator, ValidLinesParseToTheirTimeInEveryFormat) {
  for (int f = 0; f <= kConcreteTimeFormats; ++f) {
    SCOPED_TRACE(TimeFormatName(static_cast<TimeFormat>(f)));
    GeneratorOptions o = Small();
    o.time_format = static_cast<TimeFormat>(f);
    ExpectValidLinesParse(o);
  }
}

TEST(EventGenerator, LocalTimesReadBackInTheirZoneAcrossDstChanges) {
  for (const char* name : {"America/New_York", "Asia/Calcutta", "Australia/Lord_Howe"}) {
    SCOPED_TRACE(name);
    GeneratorOptions o = Small();
    ASSERT_TRUE(absl::LoadTimeZone(name, &o.zone));
    o.start_date = absl::CivilDay(2024, 3, 28);  // spans the spring change in the US and autumn's in Australia
    o.days = 14;
    o.time_format = TimeFormat::kLocal;
    ExpectValidLinesParse(o);
    o.start_date = absl::CivilDay(2024, 10, 30);
    ExpectValidLinesParse(o);
    o.time_format = TimeFormat::kMixed;
    ExpectValidLinesParse(o);
  }
}

TEST(EventGenerator, LocalTimesNeedTheReaderInTheSameZone) {
  GeneratorOptions o = Small();
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Calcutta", &o.zone));
  o.time_format = TimeFormat::kLocal;
  RecordParser utc(FieldNames{}, EventTimeParser(absl::UTCTimeZone()));
  Event event;
  RecordParser::Error error;
  for (const Line& line : Generate(o)) {
    if (line.info.kind != LineKind::kEvent) continue;
    ASSERT_TRUE(utc.Parse(line.text, false, &event, &error));
    EXPECT_EQ(event.event_time - line.info.event_time, (5 * 60 + 30) * 60 * kMicrosPerSecond) << line.text;
  }
}

TEST(EventGenerator, ValidLinesParseInEveryUuidCase) {
  for (UuidCase c : {UuidCase::kLower, UuidCase::kUpper, UuidCase::kMixed}) {
    SCOPED_TRACE(UuidCaseName(c));
    GeneratorOptions o = Small();
    o.uuid_case = c;
    ExpectValidLinesParse(o);
    bool lower = false, upper = false;
    for (const Line& line : Generate(o)) {
      if (line.info.kind == LineKind::kInvalid) continue;
      // {"EventUUID":"<36>","UserUUID":"<36>",...
      ASSERT_EQ(line.text.compare(0, 14, "{\"EventUUID\":\""), 0) << line.text;
      ASSERT_EQ(line.text.compare(50, 14, "\",\"UserUUID\":\""), 0) << line.text;
      const std::string uuids = line.text.substr(14, 36) + line.text.substr(64, 36);
      lower |= uuids.find_first_of("abcdef") != std::string::npos;
      upper |= uuids.find_first_of("ABCDEF") != std::string::npos;
    }
    EXPECT_EQ(lower, c != UuidCase::kUpper);
    EXPECT_EQ(upper, c != UuidCase::kLower);
  }
}

TEST(EventGenerator, EventsComeFromTheLearnerPool) {
  GeneratorOptions o = Small();
  o.learners = 37;
  RecordParser parser(FieldNames{}, EventTimeParser(o.zone));
  Event event;
  RecordParser::Error error;
  std::set<Uuid> learners, events;
  int64_t fresh = 0;
  for (const Line& line : Generate(o)) {
    if (line.info.kind == LineKind::kInvalid || !parser.Parse(line.text, false, &event, &error)) continue;
    learners.insert(event.user_id);
    if (line.info.kind != LineKind::kDuplicate) {
      events.insert(event.event_id);
      ++fresh;
      // v4: version nibble 4, variant bits 10.
      EXPECT_EQ((event.event_id.hi >> 12) & 0xF, 4u);
      EXPECT_EQ(event.event_id.lo >> 62, 2u);
    }
  }
  EXPECT_EQ(learners.size(), 37u) << "every learner of the pool, and no other";
  EXPECT_EQ(static_cast<int64_t>(events.size()), fresh) << "event ids are unique but for duplicates";
}

TEST(EventGenerator, FreshEventsLagTheStreamByUpToTheOutOfOrderSpread) {
  GeneratorOptions o = Small();
  o.out_of_order = 2 * 3600 * kMicrosPerSecond;
  Micros max_seen = 0;
  int64_t behind = 0;
  for (const Line& line : Generate(o)) {
    if (line.info.kind != LineKind::kEvent) continue;
    const Micros t = line.info.event_time;
    // Rounding to a format's precision may take up to a second more.
    EXPECT_GE(t, max_seen - o.out_of_order - kMicrosPerSecond);
    if (t < max_seen) ++behind;
    max_seen = std::max(max_seen, t);
  }
  EXPECT_GT(behind, 1000) << "out of order";
  auto generator = EventGenerator::Create(o);
  EXPECT_GT(max_seen, (*generator)->end_time() - o.out_of_order - kMicrosPerDay / 10) << "spread over all the days";
}

TEST(EventGenerator, DuplicatesAreVerbatimResendsOfEarlierEvents) {
  std::set<std::string> sent;
  int64_t duplicates = 0;
  for (const Line& line : Generate(Small())) {
    if (line.info.kind == LineKind::kEvent) {
      EXPECT_TRUE(sent.insert(line.text).second);
    } else if (line.info.kind == LineKind::kDuplicate) {
      EXPECT_TRUE(sent.count(line.text)) << line.text;
      ++duplicates;
    }
  }
  EXPECT_EQ(duplicates, 2'000);
}

TEST(EventGenerator, InvalidLinesAreRejectedForTheirKindsReason) {
  GeneratorOptions o = Small();
  o.events = 5'000;
  o.duplicate_ratio = 0;
  o.late_ratio = 0;
  o.invalid_ratio = 0.5;
  o.oversized_bytes = 3'000;
  RecordParser parser(FieldNames{}, EventTimeParser(o.zone), /*max_record_bytes=*/2'048);
  Event event;
  RecordParser::Error error;
  int64_t by_kind[kInvalidKindCount] = {};
  for (const Line& line : Generate(o)) {
    if (line.info.kind != LineKind::kInvalid) continue;
    const InvalidKind kind = line.info.invalid_kind;
    ++by_kind[static_cast<int>(kind)];
    ASSERT_FALSE(parser.Parse(line.text, false, &event, &error)) << InvalidKindName(kind) << ": " << line.text;
    EXPECT_EQ(ReasonName(error.reason), std::string(ReasonName(ExpectedReason(kind))))
        << InvalidKindName(kind) << ": " << line.text << ": " << error.detail;
    if (kind == InvalidKind::kOversized) {
      EXPECT_EQ(line.text.size(), 3'000u);
      // Only its size is wrong.
      RecordParser roomy(FieldNames{}, EventTimeParser(o.zone), 4'096);
      EXPECT_TRUE(roomy.Parse(line.text, false, &event, &error)) << error.detail;
    }
    if (kind == InvalidKind::kMissingCreatedAt) {
      EXPECT_EQ(error.detail, "missing field CreatedAt");
    }
  }
  for (int k = 0; k < kInvalidKindCount; ++k) {
    EXPECT_GE(by_kind[k], 2'500 / kInvalidKindCount) << InvalidKindName(static_cast<InvalidKind>(k));
  }
}

// The generator's promise, checked by the job's own step function: each line's
// verdict is its kind.
void ExpectProcessorAgrees(const GeneratorOptions& o) {
  ProcessorOptions options;
  options.lateness = o.lateness;
  options.input_zone = o.zone;
  MemoryDedupStore dedup;
  MemoryWindowStore windows;
  DailyCountProcessor processor(options, &dedup, &windows);
  const std::vector<Line> lines = Generate(o);
  int64_t position = 0;
  for (const Line& line : lines) {
    const Verdict verdict = processor.Process(line.text, false, RecordOrigin{0, ++position});
    switch (line.info.kind) {
      case LineKind::kEvent: ASSERT_EQ(verdict, Verdict::kCounted) << position << ": " << line.text; break;
      case LineKind::kDuplicate: ASSERT_EQ(verdict, Verdict::kDuplicate) << position << ": " << line.text; break;
      case LineKind::kLate: ASSERT_EQ(verdict, Verdict::kLate) << position << ": " << line.text; break;
      case LineKind::kInvalid: ASSERT_EQ(verdict, Verdict::kInvalid) << position << ": " << line.text; break;
    }
  }
  const RecordCounts& c = processor.counts();
  EXPECT_EQ(c.records, o.events);
  EXPECT_EQ(c.duplicates, std::llround(static_cast<double>(o.events) * o.duplicate_ratio));
  EXPECT_EQ(c.late, std::llround(static_cast<double>(o.events) * o.late_ratio));
  EXPECT_EQ(c.invalid, std::llround(static_cast<double>(o.events) * o.invalid_ratio));
}

TEST(EventGenerator, LateLinesAreLateAndDuplicatesDuplicatesToTheProcessor) {
  ExpectProcessorAgrees(Small());
}

TEST(EventGenerator, ProcessorAgreesInEveryTimeFormat) {
  for (int f = 0; f < kConcreteTimeFormats; ++f) {
    SCOPED_TRACE(TimeFormatName(static_cast<TimeFormat>(f)));
    GeneratorOptions o = Small();
    o.time_format = static_cast<TimeFormat>(f);
    ExpectProcessorAgrees(o);
  }
}

TEST(EventGenerator, ProcessorAgreesWhenTheSpreadExceedsTheLateness) {
  GeneratorOptions o = Small();
  o.lateness = 3600 * kMicrosPerSecond;
  o.out_of_order = 3 * 3600 * kMicrosPerSecond;
  ExpectProcessorAgrees(o);
  o.lateness = 0;  // every counted event is at or above the newest time
  ExpectProcessorAgrees(o);
  o.lateness = 1500;  // below every format's precision but microseconds
  ExpectProcessorAgrees(o);
}

TEST(EventGenerator, ProcessorAgreesOnALongDenseStream) {
  GeneratorOptions o;
  o.events = 200'000;
  o.learners = 1;
  o.days = 30;
  o.lateness = 2 * kMicrosPerDay;
  o.duplicate_ratio = 0.2;
  o.late_ratio = 0.1;
  o.invalid_ratio = 0.1;
  o.seed = 99;
  ExpectProcessorAgrees(o);
}

TEST(EventGenerator, ProcessorAgreesWithLocalTimesInTheirZone) {
  GeneratorOptions o = Small();
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &o.zone));
  o.start_date = absl::CivilDay(2024, 10, 20);
  o.days = 14;  // the October change repeats an hour
  o.lateness = 3600 * kMicrosPerSecond;
  ExpectProcessorAgrees(o);
}

TEST(EventGenerator, ZeroEventsIsAnEmptyStream) {
  GeneratorOptions o;
  o.events = 0;
  EXPECT_EQ(WriteAll(o), "");
}

TEST(EventGenerator, OnlyInvalidLinesNeedNoEvent) {
  GeneratorOptions o;
  o.events = 100;
  o.duplicate_ratio = 0;
  o.late_ratio = 0;
  o.invalid_ratio = 1;
  for (const Line& line : Generate(o)) EXPECT_EQ(line.info.kind, LineKind::kInvalid);
}

TEST(EventGenerator, RefusesOptionsItCannotHonour) {
  auto refused = [](const GeneratorOptions& o, const std::string& flag) {
    auto g = EventGenerator::Create(o);
    EXPECT_FALSE(g.ok()) << flag;
    if (g.ok()) return;
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(g.status().message().find(flag), absl::string_view::npos) << g.status();
  };
  GeneratorOptions o;
  o.events = -1;
  refused(o, "--events");
  o = {};
  o.learners = 0;
  refused(o, "--learners");
  o = {};
  o.days = 0;
  refused(o, "--days");
  o = {};
  o.duplicate_ratio = 1.5;
  refused(o, "--duplicate-ratio 1.5");
  o = {};
  o.late_ratio = -0.1;
  refused(o, "--late-ratio");
  o = {};
  o.invalid_ratio = std::nan("");
  refused(o, "--invalid-ratio");
  o = {};
  o.duplicate_ratio = 0.5;
  o.late_ratio = 0.3;
  o.invalid_ratio = 0.3;
  refused(o, "--duplicate-ratio");
  o = {};
  o.duplicate_ratio = 0.5;
  o.invalid_ratio = 0.5;  // nothing to re-send
  refused(o, "--duplicate-ratio");
  o = {};
  o.start_date = absl::CivilDay(2099, 12, 1);
  o.days = 60;
  refused(o, "--days");
  o = {};
  o.start_date = absl::CivilDay(1969, 12, 1);
  refused(o, "--start-date");
  o = {};
  o.start_date = absl::CivilDay(1970, 1, 5);  // late lines would be before 1970
  refused(o, "--lateness");
  o.late_ratio = 0;
  EXPECT_TRUE(EventGenerator::Create(o).ok());
}

TEST(EventGenerator, NamesRoundTrip) {
  for (int f = 0; f <= kConcreteTimeFormats; ++f) {
    TimeFormat parsed;
    ASSERT_TRUE(ParseTimeFormat(TimeFormatName(static_cast<TimeFormat>(f)), &parsed));
    EXPECT_EQ(static_cast<int>(parsed), f);
  }
  TimeFormat format;
  EXPECT_FALSE(ParseTimeFormat("ISO", &format));
  for (UuidCase c : {UuidCase::kLower, UuidCase::kUpper, UuidCase::kMixed}) {
    UuidCase parsed;
    ASSERT_TRUE(ParseUuidCase(UuidCaseName(c), &parsed));
    EXPECT_EQ(parsed, c);
  }
  std::set<std::string> names;
  for (int k = 0; k < kInvalidKindCount; ++k) names.insert(InvalidKindName(static_cast<InvalidKind>(k)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kInvalidKindCount));
}

}  // namespace
}  // namespace tally
