#include "state/durable_task_state.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace tally {

namespace codec = state_codec;

namespace {

// Sorts `v` by `less`, stably, and keeps the last of each run of equal
// elements: the latest change of each key.
template <typename T, typename Less>
void KeepLastOfEachKey(std::vector<T>& v, Less less) {
  std::stable_sort(v.begin(), v.end(), less);
  auto last = v.begin();
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it + 1 != v.end() && !less(*it, *(it + 1))) continue;  // a later change of the key follows
    if (last != it) *last = std::move(*it);
    ++last;
  }
  v.erase(last, v.end());
}

}  // namespace

absl::StatusOr<codec::Meta> DurableTaskState::Load(DedupStore* dedup, WindowStore* windows, Micros lateness) {
  auto malformed = [this](const char* what) {
    return absl::DataLossError(absl::StrCat("state store ", store_->path(), ": malformed ", what));
  };
  codec::Meta meta;
  bool bad = false;
  if (auto s = store_->Scan(codec::kMetaKey,
                            [&](std::string_view key, std::string_view value) {
                              if (key != codec::kMetaKey) return;
                              auto m = codec::DecodeMeta(value);
                              if (m) meta = *m; else bad = true;
                            });
      !s.ok()) {
    return s;
  }
  if (bad) return malformed("meta record");
  next_chunk_seq_ = meta.next_chunk_seq;

  if (auto s = store_->Scan(std::string_view(&codec::kWindowPrefix, 1),
                            [&](std::string_view key, std::string_view value) {
                              DailyCount row;
                              if (codec::DecodeWindow(key, value, &row)) {
                                windows->Put(row.user, row.day, row.count);
                              } else {
                                bad = true;
                              }
                            });
      !s.ok()) {
    return s;
  }
  if (bad) return malformed("window row");

  const Micros w = meta.has_watermark ? meta.max_seen - lateness : Watermark::kNone;
  if (auto s = store_->Scan(std::string_view(&codec::kDedupPrefix, 1),
                            [&](std::string_view key, std::string_view value) {
                              auto chunk = codec::DecodeDedupChunkKey(key);
                              if (!chunk) {
                                bad = true;
                                return;
                              }
                              chunks_by_bucket_[chunk->bucket].emplace_back(key);
                              bad |= !codec::ForEachDedupEntry(value, [&](const codec::DedupEntry& e) {
                                if (e.time >= w) dedup->RecordIfNew(e.id, e.time, w);
                              });
                            });
      !s.ok()) {
    return s;
  }
  if (bad) return malformed("dedup chunk");
  return meta;
}

void DurableTaskState::Stage(std::span<const DailyCount> updates, std::span<const DailyCount> finalized,
                             const Watermark& watermark, const RecordCounts& counts) {
  // Records staged by an earlier Stage whose commit has not checkpointed
  // yet (the runtime never does that, but the contract allows it) may hold
  // window rows: then all records sort as strings together, below.
  const bool earlier_staged = !staged_.empty();
  if (!dedup_log_.empty()) {
    // One chunk sequence number per trigger; chunks of one bucket within it
    // are numbered from 0.
    // By time: that groups them by bucket (BucketOf is monotonic), with a
    // cheaper comparison than the bucket's division.
    std::sort(dedup_log_.begin(), dedup_log_.end(),
              [](const codec::DedupEntry& a, const codec::DedupEntry& b) { return a.time < b.time; });
    for (size_t begin = 0, end; begin < dedup_log_.size(); begin = end) {
      const int64_t bucket = codec::BucketOf(dedup_log_[begin].time);
      for (end = begin + 1; end < dedup_log_.size() && codec::BucketOf(dedup_log_[end].time) == bucket; ++end) {
      }
      uint32_t chunk = 0;
      for (size_t c = begin; c < end; c += codec::kMaxChunkEntries, ++chunk) {
        StateRecord& r = staged_.emplace_back();
        r.key = codec::EncodeDedupChunkKey({bucket, next_chunk_seq_, chunk});
        const size_t n = std::min(codec::kMaxChunkEntries, end - c);
        r.value.reserve(n * codec::kDedupEntryBytes);
        for (size_t i = c; i < c + n; ++i) codec::AppendDedupEntry(dedup_log_[i], &r.value);
        chunks_by_bucket_[bucket].push_back(r.key);
      }
    }
    ++next_chunk_seq_;
    dedup_log_.clear();
  }
  if (watermark.has_value()) {
    while (!chunks_by_bucket_.empty() && codec::BucketEnd(chunks_by_bucket_.begin()->first) <= watermark.value()) {
      for (std::string& key : chunks_by_bucket_.begin()->second) staged_.push_back(StateRecord{std::move(key), "", true});
      chunks_by_bucket_.erase(chunks_by_bucket_.begin());
    }
  }
  codec::Meta meta;
  meta.has_watermark = watermark.has_value();
  meta.max_seen = watermark.has_value() ? watermark.max_seen() : 0;
  meta.counts = counts;
  meta.next_chunk_seq = next_chunk_seq_;
  staged_.push_back(StateRecord{codec::kMetaKey, codec::EncodeMeta(meta), false});

  // In key order, the last change of each key only: a row updated and then
  // finalized in one trigger is just deleted, and RocksDB's memtable takes
  // keys in order several times faster than in hash order (measured: its
  // skip list was a third of the job's CPU before). The few dedup chunk and
  // meta records sort as strings; the window rows, nearly all the records,
  // sort as (user, day), the order of their keys (state_codec.h), which
  // compares integers rather than 21-byte strings (measured: the string sort
  // was three quarters of this function). Every dedup and meta key ('D',
  // 'M') sorts before every window key ('W'), so they go first.
  static_assert(codec::kDedupPrefix < codec::kMetaKey[0] && codec::kMetaKey[0] < codec::kWindowPrefix);
  auto by_string = [](const StateRecord& a, const StateRecord& b) { return a.key < b.key; };
  KeepLastOfEachKey(staged_, by_string);
  row_changes_.clear();
  row_changes_.reserve(updates.size() + finalized.size());
  for (const DailyCount& row : updates) row_changes_.push_back({row, false});
  for (const DailyCount& row : finalized) row_changes_.push_back({row, true});
  KeepLastOfEachKey(row_changes_, [](const RowChange& a, const RowChange& b) {
    return std::tie(a.row.user, a.row.day) < std::tie(b.row.user, b.row.day);
  });
  staged_.reserve(staged_.size() + row_changes_.size());
  for (const RowChange& change : row_changes_) {
    StateRecord& r = staged_.emplace_back();
    r.key = codec::WindowKey(change.row.user, change.row.day);
    r.tombstone = change.tombstone;
    if (!change.tombstone) r.value = codec::EncodeCount(change.row.count);
  }
  if (earlier_staged) KeepLastOfEachKey(staged_, by_string);
}

absl::Status DurableTaskState::Checkpoint(int64_t checkpoint) {
  absl::Status s = store_->Apply(staged_, checkpoint);
  staged_.clear();
  return s;
}

}  // namespace tally
