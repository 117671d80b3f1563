// The engine behind the parser: the processor over a whole generated stream, and
// its two state stores on their own.
//
//   BM_ProcessBatch       DailyCountProcessor::ProcessBatch with memory stores
//                         over 1,000,000 generated records (100,000 learners, 30
//                         days, mixed time formats, 5% duplicates, 1% late, 1%
//                         invalid), fed as the file source feeds it.
//   BM_DedupRecordIfNew   MemoryDedupStore::RecordIfNew at steady state: the
//                         watermark slides with the stream, so entries expire as
//                         fast as new ones arrive. Reports bytes_per_live_entry,
//                         the store's memory over the entries still live.
//   BM_WindowIncrement    MemoryWindowStore::Increment over a sliding set of
//                         open days, with the trigger's TakeChanged and
//                         EvictClosed amortized in.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/daily_count_processor.h"
#include "core/source_record.h"
#include "generate/event_generator.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

// splitmix64, for ids: cheap next to the cache misses the stores pay.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

// ---------------------------------------------------------------------------
// BM_ProcessBatch

// A generated stream in one buffer laid out as the file source's (newline after
// each record, kRecordPadding bytes after the last), cut into batches of about
// the file source's 1 MiB read.
struct Stream {
  std::string buffer;
  std::vector<SourceRecord> records;
  std::vector<std::span<const SourceRecord>> batches;
  int64_t bytes = 0;
  std::string error;
};

const Stream& GeneratedStream() {
  static const Stream* stream = [] {
    auto* s = new Stream;
    GeneratorOptions options;
    options.events = 1'000'000;
    options.learners = 100'000;
    options.days = 30;
    options.duplicate_ratio = 0.05;
    options.late_ratio = 0.01;
    options.invalid_ratio = 0.01;
    options.time_format = TimeFormat::kMixed;
    options.seed = 7;
    auto generator = EventGenerator::Create(options);
    if (!generator.ok()) {
      s->error = std::string(generator.status().message());
      return s;
    }
    s->buffer.reserve(static_cast<size_t>(options.events) * 160);
    std::vector<size_t> ends;
    while (!(*generator)->done()) {
      (*generator)->Next(&s->buffer);
      ends.push_back(s->buffer.size() - 1);
    }
    s->buffer.append(kRecordPadding, ' ');
    size_t begin = 0;
    int64_t line = 0;
    for (size_t end : ends) {
      s->records.push_back(SourceRecord{std::string_view(s->buffer.data() + begin, end - begin), RecordOrigin{0, ++line}});
      s->bytes += static_cast<int64_t>(end - begin + 1);
      begin = end + 1;
    }
    constexpr size_t kBatchBytes = size_t{1} << 20;
    const std::span<const SourceRecord> all(s->records);
    for (size_t first = 0, bytes = 0, i = 0; i < all.size(); ++i) {
      bytes += all[i].bytes.size() + 1;
      if (bytes >= kBatchBytes || i + 1 == all.size()) {
        s->batches.push_back(all.subspan(first, i + 1 - first));
        first = i + 1;
        bytes = 0;
      }
    }
    return s;
  }();
  return *stream;
}

void BM_ProcessBatch(benchmark::State& state) {
  const Stream& stream = GeneratedStream();
  if (!stream.error.empty()) {
    state.SkipWithError(stream.error.c_str());
    return;
  }
  // What RunPipeline does besides processing: take dead letters after every
  // poll, trigger once enough rows of closed days wait (at over a million
  // records a second the 5 s trigger interval rarely comes first).
  constexpr size_t kMaxClosedRowsPending = size_t{1} << 16;
  size_t peak_dedup_bytes = 0, peak_window_bytes = 0;
  int64_t counted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto dedup = std::make_unique<MemoryDedupStore>();
    auto windows = std::make_unique<MemoryWindowStore>();
    auto processor = std::make_unique<DailyCountProcessor>(ProcessorOptions{}, dedup.get(), windows.get());
    TriggerOutput output;
    state.ResumeTiming();

    for (const auto& batch : stream.batches) {
      processor->ProcessBatch(batch, /*padded=*/true);
      processor->dead_letters().clear();
      if (processor->ClosedRowsPending() >= kMaxClosedRowsPending) {
        peak_dedup_bytes = std::max(peak_dedup_bytes, dedup->MemoryBytes());
        peak_window_bytes = std::max(peak_window_bytes, windows->MemoryBytes());
        output.clear();
        processor->Trigger(&output);
      }
    }
    output.clear();
    processor->Trigger(&output, /*end_of_input=*/true);
    benchmark::DoNotOptimize(output.finalized.data());

    state.PauseTiming();
    counted = processor->counts().counted;
    processor.reset();
    windows.reset();
    dedup.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(stream.records.size()));
  state.SetBytesProcessed(state.iterations() * stream.bytes);
  state.counters["counted"] = benchmark::Counter(static_cast<double>(counted));
  state.counters["peak_dedup_MiB"] = benchmark::Counter(static_cast<double>(peak_dedup_bytes) / (1 << 20));
  state.counters["peak_window_MiB"] = benchmark::Counter(static_cast<double>(peak_window_bytes) / (1 << 20));
}
BENCHMARK(BM_ProcessBatch)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// BM_DedupRecordIfNew

// Stream time advances by one tick per new event and the lateness is `live`
// ticks, so once the stream is longer than the lateness exactly live + 1
// entries are live at any moment (times in [now - lateness, now]) and the rest
// have expired. One record in 20 re-sends a live event (a duplicate, which
// RecordIfNew refuses), the rest are new.
void BM_DedupRecordIfNew(benchmark::State& state) {
  const int64_t live = state.range(0);
  constexpr Micros kTick = 1000;  // 1 ms of event time per new event
  const Micros lateness = live * kTick;
  MemoryDedupStore store;
  Rng rng{42};
  Micros now = Micros{1'704'067'200} * kMicrosPerSecond;  // 2024-01-01
  int64_t new_events = 0;

  // A ring of the last ids, for duplicates.
  constexpr size_t kRecent = 4096;
  std::vector<Uuid> recent(kRecent);
  std::vector<Micros> recent_time(kRecent);

  auto insert_new = [&] {
    const Uuid id{rng.Next(), rng.Next()};
    now += kTick;
    const bool fresh = store.RecordIfNew(id, now, now - lateness);
    recent[static_cast<size_t>(new_events) % kRecent] = id;
    recent_time[static_cast<size_t>(new_events) % kRecent] = now;
    ++new_events;
    return fresh;
  };

  // Warm up to steady state: the stream is twice the lateness long, so the
  // table has filled, purged and settled at its final size.
  for (int64_t i = 0; i < 2 * live; ++i) insert_new();

  uint64_t k = 0;
  int64_t refused = 0;
  for (auto _ : state) {
    if (++k % 20 == 0) {
      const size_t back = 1 + static_cast<size_t>(rng.Next() % (kRecent - 1));
      const size_t at = static_cast<size_t>(new_events - static_cast<int64_t>(back)) % kRecent;
      const bool fresh = store.RecordIfNew(recent[at], recent_time[at], now - lateness);
      refused += fresh ? 0 : 1;
    } else {
      benchmark::DoNotOptimize(insert_new());
    }
  }
  // Live entries now: the new events with time >= now - lateness.
  const int64_t live_now = std::min<int64_t>(new_events, live + 1);
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_live_entry"] =
      benchmark::Counter(static_cast<double>(store.MemoryBytes()) / static_cast<double>(live_now));
  state.counters["live_entries"] = benchmark::Counter(static_cast<double>(live_now));
  state.counters["held_entries"] = benchmark::Counter(static_cast<double>(store.size()));
  state.counters["store_MiB"] = benchmark::Counter(static_cast<double>(store.MemoryBytes()) / (1 << 20));
  state.counters["duplicates_refused"] = benchmark::Counter(static_cast<double>(refused));
}
// Live entries: a small partition, and the order of the end-to-end benchmark
// (about 1.2M for 5M events over 30 days with a 7-day lateness). The iteration
// count is fixed, not found by the library's repeated trial runs: each trial
// would pay the warm-up again, and a run must span several purge sweeps (one
// every ~0.2 x live inserts) to charge their cost fairly.
BENCHMARK(BM_DedupRecordIfNew)->ArgName("live")->Arg(1 << 16)->Iterations(1 << 20);
BENCHMARK(BM_DedupRecordIfNew)->ArgName("live")->Arg(1 << 20)->Iterations(1 << 21);

// ---------------------------------------------------------------------------
// BM_WindowIncrement

// `events_per_day` increments a day, each for a random one of `learners`; when
// the day changes, the trigger's work: TakeChanged, then EvictClosed of the
// days more than a week old (a 7-day lateness keeps 8 days open).
void BM_WindowIncrement(benchmark::State& state) {
  const int64_t learners = state.range(0);
  const int64_t events_per_day = state.range(1);
  constexpr Day kOpenDays = 8;
  MemoryWindowStore store;
  Rng rng{7};
  std::vector<Uuid> users(static_cast<size_t>(learners));
  for (auto& u : users) u = Uuid{rng.Next(), rng.Next()};
  std::vector<DailyCount> out;
  Day day = 19'723;  // 2024-01-01
  int64_t today = 0;

  auto step = [&] {
    store.Increment(users[rng.Next() % static_cast<uint64_t>(learners)], day);
    if (++today == events_per_day) {
      today = 0;
      ++day;
      out.clear();
      store.TakeChanged(&out);
      store.EvictClosed(day - kOpenDays + 1, &out);
    }
  };
  // Warm up: every open day holds its rows.
  for (int64_t i = 0; i < kOpenDays * events_per_day; ++i) step();

  for (auto _ : state) step();
  state.SetItemsProcessed(state.iterations());
  state.counters["rows"] = benchmark::Counter(static_cast<double>(store.size()));
  state.counters["bytes_per_row"] =
      benchmark::Counter(static_cast<double>(store.MemoryBytes()) / static_cast<double>(store.size()));
}
// Fixed iteration counts, four days' worth each, for the same reasons as above.
BENCHMARK(BM_WindowIncrement)->ArgNames({"learners", "events_per_day"})->Args({10'000, 125'000})->Iterations(500'000);
BENCHMARK(BM_WindowIncrement)->ArgNames({"learners", "events_per_day"})->Args({100'000, 33'333})->Iterations(133'332);
BENCHMARK(BM_WindowIncrement)->ArgNames({"learners", "events_per_day"})->Args({1'000'000, 250'000})->Iterations(1'000'000);

}  // namespace
}  // namespace tally
