// RecordParser::Parse on realistic records: one benchmark per CreatedAt form the
// seed's producers wrote, each on records read in place (`padded`, as the file
// source delivers them) and on records the parser must first copy (`unpadded`,
// as a source that cannot promise readable bytes after a record would).
//
// The records come from EventGenerator (valid events only, mixed-case UUIDs as
// in the default stream) and are made before the timed loop; the loop cycles
// over them. Reports items/s (records) and bytes/s (record bytes, no newline).

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/event_time.h"
#include "core/record_parser.h"
#include "generate/event_generator.h"

namespace tally {
namespace {

// Records per pool: about 1.4 MB of text, so the pool is read from L3 as a
// source's freshly filled buffer would be, not from L1.
constexpr int64_t kPoolRecords = 8192;

// The seed job's zone for CreatedAt strings without an offset.
absl::TimeZone Calcutta() {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone("Asia/Calcutta", &zone)) return absl::UTCTimeZone();
  return zone;
}

// Valid event lines in one buffer, each followed by its newline, with
// kRecordPadding readable bytes after the last one: the layout of the file
// source's buffer. `records` views each line without its newline.
struct RecordPool {
  std::string buffer;
  std::vector<std::string_view> records;
  int64_t bytes = 0;
  std::string error;  // why the pool could not be made; empty if it was
};

RecordPool MakePool(TimeFormat format, absl::TimeZone zone) {
  RecordPool pool;
  GeneratorOptions options;
  options.events = kPoolRecords;
  options.learners = 1000;
  options.days = 7;
  options.duplicate_ratio = 0;
  options.late_ratio = 0;
  options.invalid_ratio = 0;
  options.time_format = format;
  options.zone = zone;
  auto generator = EventGenerator::Create(options);
  if (!generator.ok()) {
    pool.error = std::string(generator.status().message());
    return pool;
  }
  std::vector<size_t> ends;
  while (!(*generator)->done()) {
    (*generator)->Next(&pool.buffer);
    ends.push_back(pool.buffer.size() - 1);  // the newline
  }
  pool.buffer.append(kRecordPadding, ' ');
  size_t begin = 0;
  for (size_t end : ends) {
    pool.records.emplace_back(pool.buffer.data() + begin, end - begin);
    pool.bytes += static_cast<int64_t>(end - begin);
    begin = end + 1;
  }
  return pool;
}

void BM_Parse(benchmark::State& state, TimeFormat format, bool padded) {
  const absl::TimeZone zone = format == TimeFormat::kLocal ? Calcutta() : absl::UTCTimeZone();
  const RecordPool pool = MakePool(format, zone);
  if (!pool.error.empty()) {
    state.SkipWithError(pool.error.c_str());
    return;
  }
  RecordParser parser(FieldNames{}, EventTimeParser(zone));
  Event event;
  RecordParser::Error error;
  // Every record must parse: a benchmark of the error path would mislead.
  for (std::string_view r : pool.records) {
    if (!parser.Parse(r, padded, &event, &error)) {
      state.SkipWithError(("generated record rejected: " + error.detail).c_str());
      return;
    }
  }

  const size_t n = pool.records.size();
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string_view r = pool.records[i];
    bool ok = parser.Parse(r, padded, &event, &error);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(event);
    bytes += static_cast<int64_t>(r.size());
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
  state.counters["record_bytes"] =
      benchmark::Counter(static_cast<double>(pool.bytes) / static_cast<double>(n));
}

// "2024-01-01T10:00:00.123Z"
BENCHMARK_CAPTURE(BM_Parse, iso_z/padded, TimeFormat::kIso, true);
BENCHMARK_CAPTURE(BM_Parse, iso_z/unpadded, TimeFormat::kIso, false);
// "2024-01-01T15:30:00.123456+05:30"
BENCHMARK_CAPTURE(BM_Parse, offset/padded, TimeFormat::kOffset, true);
BENCHMARK_CAPTURE(BM_Parse, offset/unpadded, TimeFormat::kOffset, false);
// "2024-01-01T10:00:00.123456", local time in Asia/Calcutta
BENCHMARK_CAPTURE(BM_Parse, local_calcutta/padded, TimeFormat::kLocal, true);
BENCHMARK_CAPTURE(BM_Parse, local_calcutta/unpadded, TimeFormat::kLocal, false);
// 1704103200
BENCHMARK_CAPTURE(BM_Parse, epoch/padded, TimeFormat::kEpoch, true);
BENCHMARK_CAPTURE(BM_Parse, epoch/unpadded, TimeFormat::kEpoch, false);
// A random form per record (all six), as in `make bench`'s end-to-end stream.
BENCHMARK_CAPTURE(BM_Parse, mixed/padded, TimeFormat::kMixed, true);
BENCHMARK_CAPTURE(BM_Parse, mixed/unpadded, TimeFormat::kMixed, false);

}  // namespace
}  // namespace tally
