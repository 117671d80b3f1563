#include "state/spilling_dedup_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

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

void EncodeKey(const Uuid& id, char out[16]) {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(id.hi >> (56 - 8 * i));
    out[8 + i] = static_cast<char>(id.lo >> (56 - 8 * i));
  }
}

rocksdb::Options SpillOptions(std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_background_jobs = 1;
  options.max_open_files = -1;
  // Spills flush what they write at once (Spill): the memtable holds one
  // chunk at most, and never flushes on its own first.
  options.write_buffer_size = 64 << 20;
  options.arena_block_size = 1 << 20;
  // Writes come in bulk and are flushed before anyone reads: an unsorted
  // vector sorted once at the flush, not a skiplist sorted per insert
  // (which took most of a spill's CPU).
  options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  options.allow_concurrent_memtable_write = false;
  options.compression = rocksdb::kNoCompression;  // random UUIDs do not compress
  options.avoid_flush_during_shutdown = true;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  // Filters and indexes stay with their table readers (counted in
  // MemoryBytes), never evicted: a miss must not read the disk for them.
  table.cache_index_and_filter_blocks = false;
  table.block_size = 16 << 10;
  table.block_cache = std::move(cache);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

SpillingDedupStore::SpillingDedupStore(std::string path, Micros segment_width, DedupMemoryShare* share)
    : path_(std::move(path)), segment_width_(segment_width), share_(share) {
  share_->Join();
}

SpillingDedupStore::~SpillingDedupStore() {
  if (db_) {
    for (auto& [number, segment] : segments_) db_->DestroyColumnFamilyHandle(segment.cf);
    db_->Close();
  }
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // a cache of this run: nothing to keep
  share_->Leave();
}

absl::StatusOr<std::unique_ptr<SpillingDedupStore>> SpillingDedupStore::Open(const std::string& path,
                                                                            Micros lateness,
                                                                            DedupMemoryShare* share,
                                                                            std::shared_ptr<rocksdb::Cache> cache) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (!ec) std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make the dedup spill directory ", path, ": ", ec.message()));
  }
  // Segments as wide as the lateness: at most two or three are live, so a
  // lookup probes few filters (half as wide was measured a little slower);
  // disk holds up to twice the live state.
  const Micros width = std::max(kHour, lateness);
  std::unique_ptr<SpillingDedupStore> store(new SpillingDedupStore(path, width, share));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(SpillOptions(std::move(cache)), path, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open the dedup spill store ", path, ": ", s.ToString()));
  }
  store->db_.reset(db);
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

bool SpillingDedupStore::ColdHolds(const Uuid& id, Micros watermark) {
  char key[16];
  EncodeKey(id, key);
  rocksdb::ReadOptions read;
  read.verify_checksums = false;
  rocksdb::PinnableSlice value;
  for (auto it = segments_.lower_bound(SegmentOf(watermark)); it != segments_.end(); ++it) {
    value.Reset();
    const rocksdb::Status s = db_->Get(read, it->second.cf, rocksdb::Slice(key, sizeof key), &value);
    if (s.IsNotFound()) continue;
    if (!s.ok() || value.size() != sizeof(Micros)) {
      Fail("reading", s.ok() ? "a value of the wrong size" : s.ToString(), false);
      continue;
    }
    Micros t;
    std::memcpy(&t, value.data(), sizeof t);
    if (t >= watermark) return true;
  }
  return false;
}

void SpillingDedupStore::DropExpired(Micros watermark) {
  const int64_t first_live = SegmentOf(watermark);
  while (!segments_.empty() && segments_.begin()->first < first_live) {
    Segment& segment = segments_.begin()->second;
    const rocksdb::Status s = db_->DropColumnFamily(segment.cf);
    if (!s.ok()) Fail("dropping an expired segment of", s.ToString(), s.IsNoSpace());
    db_->DestroyColumnFamilyHandle(segment.cf);
    cold_entries_ -= segment.entries;
    segments_.erase(segments_.begin());
  }
}

size_t SpillingDedupStore::Allowance() const {
  const uint64_t share = share_->PerStore();
  return share > rocks_bytes_ ? static_cast<size_t>(share - rocks_bytes_) : 0;
}

void SpillingDedupStore::Plan() {
  uint64_t readers = 0, memtables = 0;
  db_->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem", &readers);
  db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &memtables);
  rocks_bytes_ = static_cast<size_t>(readers + memtables);
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

absl::StatusOr<SpillingDedupStore::Segment*> SpillingDedupStore::SegmentFor(Micros t) {
  const int64_t number = SegmentOf(t);
  auto it = segments_.find(number);
  if (it != segments_.end()) return &it->second;
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  const rocksdb::Status s =
      db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(db_->GetOptions()), absl::StrCat("segment-", number), &cf);
  if (!s.ok()) {
    Fail("adding a segment to", s.ToString(), s.IsNoSpace());
    return absl::InternalError("no segment");
  }
  return &segments_.emplace(number, Segment{cf, 0}).first->second;
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

  rocksdb::WriteOptions write;
  write.disableWAL = true;
  rocksdb::WriteBatch batch;
  std::vector<rocksdb::ColumnFamilyHandle*> touched;
  std::vector<std::pair<Segment*, size_t>> written;  // entries per segment, counted once all is on disk
  size_t in_batch = 0;
  auto flush = [&]() {
    rocksdb::Status s = db_->Write(write, &batch);
    if (s.ok()) s = db_->Flush(rocksdb::FlushOptions(), touched);
    if (!s.ok()) Fail("writing to", s.ToString(), s.IsNoSpace());
    batch.Clear();
    touched.clear();
    in_batch = 0;
  };
  hot_.ForEach([&](const Uuid& id, Micros t) {
    if (t < watermark || t >= cutoff || !error_.ok()) return;
    auto segment = SegmentFor(t);
    if (!segment.ok()) return;
    char key[16];
    EncodeKey(id, key);
    if (auto s = batch.Put((*segment)->cf, rocksdb::Slice(key, sizeof key),
                           rocksdb::Slice(reinterpret_cast<const char*>(&t), sizeof t));
        !s.ok()) {
      Fail("batching for", s.ToString(), false);
      return;
    }
    if (std::find(touched.begin(), touched.end(), (*segment)->cf) == touched.end()) touched.push_back((*segment)->cf);
    auto counted = std::find_if(written.begin(), written.end(), [&](const auto& w) { return w.first == *segment; });
    if (counted == written.end()) counted = written.insert(written.end(), {*segment, 0});
    ++counted->second;
    if (++in_batch == kSpillChunk) flush();
  });
  if (in_batch > 0 && error_.ok()) flush();
  // On a failure the entries stay in memory (some may be on disk as well:
  // harmless, a live entry in both answers the same).
  if (!error_.ok()) return;
  for (auto& [segment, n] : written) {
    segment->entries += n;
    cold_entries_ += n;
  }
  hot_.Purge(cutoff);  // what went to disk, and the expired
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
