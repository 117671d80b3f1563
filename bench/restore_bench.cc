// Restoring a task's durable state from its local store (issue 10's target:
// 10M retained dedup entries in at most 3 s).
//
//   BM_RestoreFromLocalStore  DurableTaskState::Load of a local store that
//                             holds N counted events, all live (100,000
//                             learners, 6 days of event time, 7 days of
//                             lateness), into empty memory stores: the RocksDB
//                             scan, decoding, the dedup inserts and the
//                             window counts derived from the events. The
//                             store is built once, outside the timing, as
//                             the pipeline builds it (a trigger per 200,000
//                             events) and flushed to SST files; its open is
//                             timed too. Reports the events restored per
//                             second and the rows derived.
//
// Restoring from the changelog alone adds reading it from Kafka into the
// local store first: `make bench` section 5 measures both end to end.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "core/event_time.h"
#include "core/watermark.h"
#include "state/durable_task_state.h"
#include "state/local_state_store.h"
#include "state/memory_dedup_store.h"
#include "state/memory_window_store.h"

namespace tally {
namespace {

constexpr Micros kLateness = 7 * kMicrosPerDay;

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Writes `events` counted events to a new store at `path`; its error, if any.
std::string BuildStore(const std::string& path, int64_t events) {
  std::filesystem::remove_all(path);
  auto store = LocalStateStore::Open(path);
  if (!store.ok()) return std::string(store.status().message());
  DurableTaskState durable(std::move(*store));
  Watermark watermark(kLateness);
  const Micros start = 19'723 * kMicrosPerDay;  // 2024-01-01
  const Micros span = 6 * kMicrosPerDay;
  RecordCounts counts;
  for (int64_t i = 0; i < events; ++i) {
    const Micros t = start + span * i / events;  // in time order, as a stream mostly is
    durable.Append(CountedEvent{Uuid{Mix(2 * i), Mix(2 * i + 1)}, Uuid{Mix(i % 100'000 + (1ULL << 40)), 7}, t});
    watermark.Observe(t);
    ++counts.counted;
    if ((i + 1) % 200'000 == 0 || i + 1 == events) {
      durable.Stage(watermark, counts);
      if (auto s = durable.Checkpoint(durable.store().checkpoint() + 1); !s.ok()) return std::string(s.message());
    }
  }
  if (auto s = durable.store().Flush(); !s.ok()) return std::string(s.message());
  return "";
}

void BM_RestoreFromLocalStore(benchmark::State& state) {
  const int64_t events = state.range(0);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tally-restore-bench-" + std::to_string(getpid()))).string();
  if (std::string error = BuildStore(path, events); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  size_t rows = 0, entries = 0;
  for (auto _ : state) {
    auto store = LocalStateStore::Open(path);
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      break;
    }
    DurableTaskState durable(std::move(*store));
    MemoryDedupStore dedup;
    MemoryWindowStore windows;
    auto meta = durable.Load(&dedup, &windows, kLateness);
    if (!meta.ok()) {
      state.SkipWithError(std::string(meta.status().message()).c_str());
      break;
    }
    rows = windows.size();
    entries = dedup.size();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["dedup_entries"] = static_cast<double>(entries);
  state.counters["store_MiB"] = static_cast<double>([&] {
    auto store = LocalStateStore::Open(path);
    return store.ok() ? (*store)->DiskBytes() : 0;
  }()) / (1 << 20);
  std::filesystem::remove_all(path);
}
BENCHMARK(BM_RestoreFromLocalStore)->ArgName("events")->Arg(10'000'000)->Iterations(2)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace tally
