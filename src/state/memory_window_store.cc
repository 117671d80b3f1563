#include "state/memory_window_store.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace tally {
namespace {

// The table doubles past this load: linear probes stay short below it.
constexpr double kMaxLoad = 0.7;
constexpr size_t kMinCapacity = 64;
// TakeChanged prefetches this many listed slots ahead.
constexpr size_t kLookahead = 8;

}  // namespace

MemoryWindowStore::MemoryWindowStore(size_t initial_capacity)
    : slots_(std::max(initial_capacity, kMinCapacity)), capacity_(std::max(initial_capacity, kMinCapacity)) {
  grow_at_ = static_cast<size_t>(kMaxLoad * static_cast<double>(capacity_));
}

size_t MemoryWindowStore::Home(const Uuid& user, Day day) const {
  const uint64_t h = absl::Hash<std::pair<Uuid, Day>>{}(std::pair<Uuid, Day>(user, day));
  // Maps the hash onto [0, capacity) without a division (Lemire's reduction).
  return static_cast<size_t>((static_cast<unsigned __int128>(h) * capacity_) >> 64);
}

size_t MemoryWindowStore::FindOrInsert(const Uuid& user, Day day) {
  size_t i = Home(user, day);
  uint32_t distance = 0;
  for (; slots_[i].meta != 0; i = Next(i), ++distance) {
    const Slot& s = slots_[i];
    if (s.hi == user.hi && s.lo == user.lo && s.day == day) return i;
  }
  if (size_ >= grow_at_) {
    Grow();
    return FindOrInsert(user, day);  // absent still: placed in the grown table
  }
  ++size_;
  ++rows_by_day_[day];
  slots_[i] = Slot{user.hi, user.lo, 0, day, distance + 1};
  return i;
}

void MemoryWindowStore::Increment(const Uuid& user, Day day) {
  const size_t i = FindOrInsert(user, day);
  Slot& s = slots_[i];
  if ((s.bits & kChanged) == 0) changed_.push_back(i);
  s.bits = (s.bits + 1) | kChanged;
}

void MemoryWindowStore::AddRestored(const Uuid& user, Day day, int64_t n) {
  slots_[FindOrInsert(user, day)].bits += static_cast<uint64_t>(n);  // the changed bit is above any count
}

void MemoryWindowStore::TakeChanged(std::vector<DailyCount>* out) {
  const size_t n = changed_.size();
  for (size_t k = 0; k < n; ++k) {
    if (k + kLookahead < n) __builtin_prefetch(&slots_[changed_[k + kLookahead]]);
    Slot& s = slots_[changed_[k]];
    s.bits &= ~kChanged;
    out->push_back(DailyCount{Uuid{s.hi, s.lo}, s.day, static_cast<int64_t>(s.bits)});
  }
  changed_.clear();
}

void MemoryWindowStore::EraseAt(size_t i) {
  // Linear probing's deletion: a later row of the cluster moves into the hole
  // if the hole lies on its probe path (between its home and it), which
  // leaves a hole where it was, until the cluster ends.
  size_t gap = 1;  // steps from the hole to j
  for (size_t j = Next(i);; j = Next(j), ++gap) {
    const Slot& s = slots_[j];
    if (s.meta == 0) break;
    if (s.meta - 1 >= gap) {
      slots_[i] = s;
      slots_[i].meta = static_cast<uint32_t>(s.meta - gap);
      i = j;
      gap = 0;
    }
  }
  slots_[i].meta = 0;
  --size_;
}

void MemoryWindowStore::EvictClosed(Day first_open_day, std::vector<DailyCount>* out) {
  if (rows_by_day_.empty() || rows_by_day_.begin()->first >= first_open_day) return;
  // EraseAt moves rows only into holes at or after i, except a row of a
  // cluster that wraps around the table's end, already seen (open) at the
  // start: one forward sweep, re-checking the current index, hands each
  // closed row over once.
  for (size_t i = 0; i < capacity_; ++i) {
    while (slots_[i].meta != 0 && slots_[i].day < first_open_day) {
      const Slot& s = slots_[i];
      out->push_back(DailyCount{Uuid{s.hi, s.lo}, s.day, static_cast<int64_t>(s.bits & ~kChanged)});
      EraseAt(i);
    }
  }
  rows_by_day_.erase(rows_by_day_.begin(), rows_by_day_.lower_bound(first_open_day));
  if (!changed_.empty()) ListChanged();  // slots moved
}

void MemoryWindowStore::Grow() {
  HugePageArray<Slot> old = std::exchange(slots_, HugePageArray<Slot>(capacity_ * 2));
  const size_t old_capacity = std::exchange(capacity_, capacity_ * 2);
  grow_at_ = static_cast<size_t>(kMaxLoad * static_cast<double>(capacity_));
  for (size_t k = 0; k < old_capacity; ++k) {
    if (old[k].meta == 0) continue;
    size_t i = Home(Uuid{old[k].hi, old[k].lo}, old[k].day);
    uint32_t distance = 0;
    for (; slots_[i].meta != 0; i = Next(i)) ++distance;
    slots_[i] = old[k];
    slots_[i].meta = distance + 1;
  }
  if (!changed_.empty()) ListChanged();
}

void MemoryWindowStore::ListChanged() {
  changed_.clear();
  for (size_t i = 0; i < capacity_; ++i) {
    if (slots_[i].meta != 0 && (slots_[i].bits & kChanged) != 0) changed_.push_back(i);
  }
}

size_t MemoryWindowStore::ClosedRows(Day first_open_day) const {
  size_t n = 0;
  for (auto it = rows_by_day_.begin(); it != rows_by_day_.end() && it->first < first_open_day; ++it) {
    n += it->second;
  }
  return n;
}

}  // namespace tally
