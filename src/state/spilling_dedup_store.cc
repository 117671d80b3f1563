#include "state/spilling_dedup_store.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/watermark.h"

namespace tally {
namespace {

constexpr Micros kHour = Micros{3600} * 1000 * 1000;
// MemoryDedupStore's bytes per slot, and its load at which an insert first
// purges (and, if live entries crowd it, grows).
constexpr size_t kSlotBytes = 24;
constexpr double kHotPurgeLoad = 0.85;
constexpr double kHotTargetLoad = 0.75;
// The hot load at which this store spills, below kHotPurgeLoad so that the
// hot table never grows on its own once growth no longer fits; and the load a
// spill leaves.
constexpr double kSpillLoad = 0.78;
constexpr double kKeepLoad = 0.25;  // fewer, larger spills: fewer table files to probe
// Entry times sampled to choose a spill's cutoff.
constexpr size_t kSample = 4096;
// The smallest hot table a store keeps, whatever its share.
constexpr size_t kMinHotCapacity = 1024;

}  // namespace

SpillingDedupStore::SpillingDedupStore(std::string path, Micros segment_width, DedupMemoryShare* share)
    : path_(std::move(path)), segment_width_(segment_width), share_(share) {
  share_->Join();
}

SpillingDedupStore::~SpillingDedupStore() {
  segments_.clear();  // closes the runs' files
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // a cache of this run: nothing to keep
  share_->Leave();
}

absl::StatusOr<std::unique_ptr<SpillingDedupStore>> SpillingDedupStore::Open(const std::string& path,
                                                                            Micros lateness,
                                                                            DedupMemoryShare* share) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (!ec) std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make the dedup spill directory ", path, ": ", ec.message()));
  }
  // Segments as wide as the lateness: at most two or three are live, so a
  // lookup probes few filters; disk holds up to twice the live state.
  const Micros width = std::max(kHour, lateness);
  std::unique_ptr<SpillingDedupStore> store(new SpillingDedupStore(path, width, share));
  store->Plan();
  return store;
}

int64_t SpillingDedupStore::SegmentOf(Micros t) const {
  // Floor division, safe for the watermark's "none" (the lowest Micros).
  return t >= 0 ? t / segment_width_ : -((-(t + 1)) / segment_width_) - 1;
}

bool SpillingDedupStore::RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) {
  // Room first: a spill moves entries from memory to disk, so the lookups
  // below must come after it.
  if (hot_.size() >= spill_at_) MakeRoom(watermark);
  if (!segments_.empty()) {
    if (segments_.begin()->first < SegmentOf(watermark)) DropExpired(watermark);
    if (ColdHolds(id, watermark)) return false;
  }
  const bool added = hot_.RecordIfNew(id, event_time, watermark);
  if (hot_.capacity() != planned_capacity_) Plan();  // the hot table grew
  return added;
}

void SpillingDedupStore::Purge(Micros watermark) {
  hot_.Purge(watermark);
  DropExpired(watermark);
}

void SpillingDedupStore::Prefetch(const Uuid& id) const {
  hot_.Prefetch(id);
  if (segments_.empty()) return;
  const uint64_t hash = BlockedBloomFilter::HashOf(id);
  for (const auto& [number, segment] : segments_) {
    for (const auto& run : segment.runs) run->Prefetch(hash);
  }
}

size_t SpillingDedupStore::run_count() const {
  size_t n = 0;
  for (const auto& [number, segment] : segments_) n += segment.runs.size();
  return n;
}

bool SpillingDedupStore::ColdHolds(const Uuid& id, Micros watermark) {
  const uint64_t hash = BlockedBloomFilter::HashOf(id);
  for (auto it = segments_.lower_bound(SegmentOf(watermark)); it != segments_.end(); ++it) {
    // Newest first: an id re-recorded after it expired has its live time in a
    // newer run.
    for (auto run = it->second.runs.rbegin(); run != it->second.runs.rend(); ++run) {
      if (!(*run)->MayContain(hash)) continue;
      auto t = (*run)->Find(id, hash);
      if (!t.ok()) {
        Fail("reading", std::string(t.status().message()), false);
        continue;
      }
      if (t->has_value() && **t >= watermark) return true;
    }
  }
  return false;
}

void SpillingDedupStore::DropExpired(Micros watermark) {
  const int64_t first_live = SegmentOf(watermark);
  bool dropped = false;
  while (!segments_.empty() && segments_.begin()->first < first_live) {
    const Segment& segment = segments_.begin()->second;
    cold_entries_ -= segment.entries;
    cold_bytes_ -= segment.bytes;
    segments_.erase(segments_.begin());  // closes its files: the disk space goes with them
    dropped = true;
  }
  if (dropped) Plan();
}

size_t SpillingDedupStore::Allowance() const {
  const uint64_t share = share_->PerStore();
  const size_t held = cold_bytes_ + merge_reserve_;
  return share > held ? static_cast<size_t>(share - held) : 0;
}

void SpillingDedupStore::Plan() {
  // A merge holds its inputs' filters and the new one, at most the size of
  // the segment's.
  merge_reserve_ = 0;
  for (const auto& [number, segment] : segments_) merge_reserve_ = std::max(merge_reserve_, segment.bytes);
  const size_t capacity = hot_.capacity();
  planned_capacity_ = capacity;
  if (!error_.ok()) {
    spill_at_ = SIZE_MAX;  // the disk failed: keep everything in memory until the job stops
    return;
  }
  // A growth (MemoryDedupStore::MakeRoom) holds the old table and the new.
  const size_t grown = static_cast<size_t>(static_cast<double>(capacity) * kHotPurgeLoad / kHotTargetLoad) + 2;
  if ((capacity + grown) * kSlotBytes <= Allowance()) {
    spill_at_ = SIZE_MAX;  // let it grow
  } else {
    spill_at_ = static_cast<size_t>(kSpillLoad * static_cast<double>(capacity));
  }
}

void SpillingDedupStore::MakeRoom(Micros watermark) {
  hot_.Purge(watermark);
  DropExpired(watermark);
  Plan();
  if (hot_.size() >= spill_at_) {
    Spill(watermark, static_cast<size_t>(kKeepLoad * static_cast<double>(hot_.capacity())));
    Plan();
  }
  // A share made smaller (more stores opened) than the table: shrink it.
  const size_t fits = Allowance() / kSlotBytes;
  if (error_.ok() && hot_.capacity() > std::max(fits, kMinHotCapacity)) {
    const size_t target = std::max(fits / 2, kMinHotCapacity);  // the old table and the new fit
    Spill(watermark, static_cast<size_t>(kKeepLoad * static_cast<double>(target)));
    if (error_.ok()) hot_.Resize(target, watermark);
    Plan();
  }
}

void SpillingDedupStore::Spill(Micros watermark, size_t keep) {
  if (hot_.size() <= keep || !error_.ok()) return;
  // The cutoff: the event time below which about (size - keep) entries lie,
  // from a sample of the live entries' times.
  const size_t stride = hot_.size() / kSample + 1;
  std::vector<Micros> sample;
  sample.reserve(kSample + 1);
  size_t seen = 0;
  hot_.ForEach([&](const Uuid&, Micros t) {
    if (t >= watermark && seen++ % stride == 0) sample.push_back(t);
  });
  if (sample.empty()) return;
  const double fraction = static_cast<double>(hot_.size() - keep) / static_cast<double>(hot_.size());
  const size_t k = std::min(sample.size() - 1, static_cast<size_t>(fraction * static_cast<double>(sample.size())));
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(k), sample.end());
  const Micros cutoff = sample[k] + 1;  // entries at sample[k] go too: a spill moves something

  std::vector<SpillEntry> chunk;
  chunk.reserve(std::min(kSpillChunk, hot_.size()));
  hot_.ForEach([&](const Uuid& id, Micros t) {
    if (t < watermark || t >= cutoff || !error_.ok()) return;
    chunk.push_back(SpillEntry{id.hi, id.lo, t});
    if (chunk.size() == kSpillChunk) WriteChunk(&chunk, watermark);
  });
  if (!chunk.empty() && error_.ok()) WriteChunk(&chunk, watermark);
  // On a failure the entries stay in memory (some may be on disk as well:
  // harmless, a live entry in both answers the same).
  if (!error_.ok()) return;
  hot_.Purge(cutoff);  // what went to disk, and the expired
}

void SpillingDedupStore::WriteChunk(std::vector<SpillEntry>* chunk, Micros watermark) {
  // Each segment's part, sorted by id, is one run. A chunk spans few
  // segments: split it by segment first (SegmentOf divides), then sort each part.
  std::vector<int64_t> numbers;
  for (const SpillEntry& e : *chunk) {
    const int64_t n = SegmentOf(e.time);
    if (!numbers.empty() && numbers.back() == n) continue;
    if (std::find(numbers.begin(), numbers.end(), n) == numbers.end()) numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());
  auto rest = chunk->begin();
  std::vector<std::pair<size_t, size_t>> parts;  // [begin, end) of each segment's part
  for (const int64_t n : numbers) {
    auto end = std::partition(rest, chunk->end(), [&](const SpillEntry& e) { return SegmentOf(e.time) == n; });
    parts.emplace_back(rest - chunk->begin(), end - chunk->begin());
    std::sort(rest, end);
    rest = end;
  }
  for (size_t i = 0; i < parts.size() && error_.ok(); ++i) {
    const int64_t number = numbers[i];
    const auto [begin, end] = parts[i];
    auto run = SpillRun::Write(path_, std::span<const SpillEntry>(chunk->data() + begin, end - begin));
    if (!run.ok()) {
      Fail("writing to", std::string(run.status().message()), absl::IsResourceExhausted(run.status()));
      break;
    }
    Segment& segment = segments_[number];
    segment.entries += (*run)->entries();
    segment.bytes += (*run)->MemoryBytes();
    cold_entries_ += (*run)->entries();
    cold_bytes_ += (*run)->MemoryBytes();
    segment.runs.push_back(std::move(*run));
    Compact(&segment, watermark);
  }
  chunk->clear();
}

void SpillingDedupStore::Compact(Segment* segment, Micros watermark) {
  auto& runs = segment->runs;
  while (runs.size() >= 2 && error_.ok() &&
         runs[runs.size() - 2]->entries() <= kMergeRatio * runs.back()->entries()) {
    const SpillRun& older = *runs[runs.size() - 2];
    const SpillRun& newer = *runs.back();
    auto merged = SpillRun::Merge(path_, older, newer, watermark);
    if (!merged.ok()) {
      // The two runs stay as they are: the store is still right.
      Fail("merging runs in", std::string(merged.status().message()), absl::IsResourceExhausted(merged.status()));
      return;
    }
    const size_t entries_before = older.entries() + newer.entries();
    const size_t bytes_before = older.MemoryBytes() + newer.MemoryBytes();
    runs.pop_back();
    runs.back() = std::move(*merged);
    segment->entries = segment->entries - entries_before + runs.back()->entries();
    segment->bytes = segment->bytes - bytes_before + runs.back()->MemoryBytes();
    cold_entries_ = cold_entries_ - entries_before + runs.back()->entries();
    cold_bytes_ = cold_bytes_ - bytes_before + runs.back()->MemoryBytes();
  }
}

void SpillingDedupStore::Fail(const std::string& doing, const std::string& message, bool no_space) {
  if (!error_.ok()) return;
  if (no_space || message.find("No space left") != std::string::npos) {
    error_ = absl::ResourceExhaustedError(absl::StrCat(
        "the local disk is full: spilling dedup state to ", path_, " failed (", message,
        "). The job stops; its committed state is intact. Free space on that disk (or give --state-memory more "
        "room) and start the job again"));
    return;
  }
  error_ = absl::InternalError(absl::StrCat("dedup spill store ", path_, ": ", doing, " it failed: ", message));
}

}  // namespace tally
