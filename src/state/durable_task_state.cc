#include "state/durable_task_state.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tally {

namespace codec = state_codec;

namespace {

// Sorts `v` by key, stably, and keeps the last record of each key: the
// latest change of it.
void KeepLastOfEachKey(std::vector<StateRecord>& v) {
  auto less = [](const StateRecord& a, const StateRecord& b) { return a.key < b.key; };
  std::stable_sort(v.begin(), v.end(), less);
  auto last = v.begin();
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it + 1 != v.end() && !less(*it, *(it + 1))) continue;  // a later change of the key follows
    if (last != it) *last = std::move(*it);
    ++last;
  }
  v.erase(last, v.end());
}

// The first day whose rows are open at `w` (kNone: every day).
Day FirstOpenDay(Micros w) {
  return w == Watermark::kNone ? std::numeric_limits<Day>::min() : DayOf(w);
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

  // Every chunk of an open day: its live entries go to the dedup store, and
  // each entry counts one into its row. Chunks of closed days (their
  // tombstones go with the next commit) restore nothing.
  const Micros w = meta.has_watermark ? meta.max_seen - lateness : Watermark::kNone;
  const Day first_open = FirstOpenDay(w);
  dedup->Reserve(static_cast<size_t>(std::max<int64_t>(0, meta.retained_events)));
  std::vector<CountedEvent> events;  // one chunk's, decoded: the loop below prefetches ahead
  if (auto s = store_->Scan(
          std::string_view(&codec::kDedupPrefix, 1),
          [&](std::string_view key, std::string_view value) {
            auto chunk = codec::DecodeDedupChunkKey(key);
            if (!chunk) {
              bad = true;
              return;
            }
            DayChunks& held = chunks_by_day_[chunk->day];
            held.keys.emplace_back(key);
            held.events += static_cast<int64_t>(value.size() / codec::kCountedEventBytes);
            retained_events_ += static_cast<int64_t>(value.size() / codec::kCountedEventBytes);
            if (chunk->day < first_open) return;
            events.clear();
            bad |= !codec::ForEachCountedEvent(value, [&](const CountedEvent& e) { events.push_back(e); });
            constexpr size_t kAhead = 8;
            for (size_t i = 0; i < events.size(); ++i) {
              if (i + kAhead < events.size()) {
                const CountedEvent& next = events[i + kAhead];
                if (next.time >= w) dedup->Prefetch(next.id);
                windows->Prefetch(next.user, chunk->day);
              }
              const CountedEvent& e = events[i];
              if (DayOf(e.time) != chunk->day) {
                bad = true;
                return;
              }
              if (e.time >= w) dedup->RecordIfNew(e.id, e.time, w);
              windows->AddRestored(e.user, chunk->day, 1);
            }
          });
      !s.ok()) {
    return s;
  }
  if (bad) return malformed("chunk of counted events");
  return meta;
}

void DurableTaskState::Stage(const Watermark& watermark, const RecordCounts& counts) {
  const Day first_open = FirstOpenDay(watermark.value());
  // Records staged by an earlier Stage whose commit has not checkpointed yet
  // (the runtime never does that, but the contract allows it).
  const bool earlier_staged = !staged_.empty();
  if (!log_.empty()) {
    // Each event goes straight into its day's open chunk: no sort, no record
    // per event. One chunk sequence number per trigger; the chunks of one
    // day within it are numbered from 0. Events come in about time order,
    // so the day is mostly the previous event's.
    struct OpenChunk {
      std::string value;
      uint32_t next = 0;
    };
    std::map<Day, OpenChunk> open;
    auto emit = [&](Day day, OpenChunk& chunk) {
      StateRecord& r = staged_.emplace_back();
      r.key = codec::EncodeDedupChunkKey({day, next_chunk_seq_, chunk.next++});
      r.value = std::move(chunk.value);
      chunk.value.clear();
      DayChunks& held = chunks_by_day_[day];
      held.keys.push_back(r.key);
      held.events += static_cast<int64_t>(r.value.size() / codec::kCountedEventBytes);
      retained_events_ += static_cast<int64_t>(r.value.size() / codec::kCountedEventBytes);
    };
    Day day = 0;
    OpenChunk* chunk = nullptr;
    for (const CountedEvent& e : log_) {
      const Day d = DayOf(e.time);
      // A day closed by this very trigger: its rows are evicted now, so
      // its events would only be deleted again.
      if (d < first_open) continue;
      if (chunk == nullptr || d != day) {
        day = d;
        chunk = &open[d];
      }
      codec::AppendCountedEvent(e, &chunk->value);
      if (chunk->value.size() == codec::kMaxChunkEntries * codec::kCountedEventBytes) emit(day, *chunk);
    }
    for (auto& [d, c] : open) {
      if (!c.value.empty()) emit(d, c);
    }
    ++next_chunk_seq_;
    log_.clear();
  }
  while (!chunks_by_day_.empty() && chunks_by_day_.begin()->first < first_open) {
    DayChunks& held = chunks_by_day_.begin()->second;
    for (std::string& key : held.keys) staged_.push_back(StateRecord{std::move(key), "", true});
    retained_events_ -= held.events;
    chunks_by_day_.erase(chunks_by_day_.begin());
  }
  codec::Meta meta;
  meta.has_watermark = watermark.has_value();
  meta.max_seen = watermark.has_value() ? watermark.max_seen() : 0;
  meta.counts = counts;
  meta.next_chunk_seq = next_chunk_seq_;
  meta.retained_events = retained_events_;
  staged_.push_back(StateRecord{codec::kMetaKey, codec::EncodeMeta(meta), false});
  // In key order (RocksDB's memtable takes keys in order fastest), the last
  // change of each key only. A trigger stages a few records per open day.
  if (earlier_staged || staged_.size() > 1) KeepLastOfEachKey(staged_);
}

absl::Status DurableTaskState::Checkpoint(int64_t checkpoint) {
  absl::Status s = store_->Apply(staged_, checkpoint);
  staged_.clear();
  return s;
}

}  // namespace tally
