#include "state/memory_window_store.h"

namespace tally {

void MemoryWindowStore::Increment(const Uuid& user, Day day) {
  auto [it, inserted] = rows_.try_emplace(Key{user, day});
  if (inserted) ++rows_by_day_[day];
  Row& row = it->second;
  if (!row.changed()) changed_.push_back(it->first);
  row.bits = (row.bits + 1) | Row::kChanged;
}

void MemoryWindowStore::AddRestored(const Uuid& user, Day day, int64_t n) {
  auto [it, inserted] = rows_.try_emplace(Key{user, day});
  if (inserted) ++rows_by_day_[day];
  it->second.bits += static_cast<uint64_t>(n);  // the changed bit is above any count
}

void MemoryWindowStore::TakeChanged(std::vector<DailyCount>* out) {
  for (const Key& key : changed_) {
    auto it = rows_.find(key);
    // Skip a row evicted since it changed, and a key listed twice because its
    // row was evicted and created again (the second listing finds it taken).
    if (it == rows_.end() || !it->second.changed()) continue;
    it->second.bits &= ~Row::kChanged;
    out->push_back(DailyCount{key.user, key.day, it->second.count()});
  }
  changed_.clear();
}

void MemoryWindowStore::EvictClosed(Day first_open_day, std::vector<DailyCount>* out) {
  if (rows_by_day_.empty() || rows_by_day_.begin()->first >= first_open_day) return;
  absl::erase_if(rows_, [&](const auto& entry) {
    if (entry.first.day >= first_open_day) return false;
    out->push_back(DailyCount{entry.first.user, entry.first.day, entry.second.count()});
    return true;
  });
  rows_by_day_.erase(rows_by_day_.begin(), rows_by_day_.lower_bound(first_open_day));
}

size_t MemoryWindowStore::ClosedRows(Day first_open_day) const {
  size_t n = 0;
  for (auto it = rows_by_day_.begin(); it != rows_by_day_.end() && it->first < first_open_day; ++it) {
    n += it->second;
  }
  return n;
}

size_t MemoryWindowStore::MemoryBytes() const {
  return rows_.capacity() * (sizeof(std::pair<Key, Row>) + 1) + changed_.capacity() * sizeof(Key);
}

}  // namespace tally
