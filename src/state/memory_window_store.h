#pragma once

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "state/huge_page_allocator.h"
#include "state/window_store.h"

namespace tally {

// An in-memory WindowStore over an open-addressing hash map (abseil's Swiss table).
class MemoryWindowStore final : public WindowStore {
 public:
  void Increment(const Uuid& user, Day day) override;
  void Prefetch(const Uuid& user, Day day) const override { rows_.prefetch(Key{user, day}); }
  void AddRestored(const Uuid& user, Day day, int64_t n) override;
  void TakeChanged(std::vector<DailyCount>* out) override;
  void EvictClosed(Day first_open_day, std::vector<DailyCount>* out) override;
  size_t ClosedRows(Day first_open_day) const override;
  size_t size() const override { return rows_.size(); }
  size_t MemoryBytes() const override;

 private:
  struct Key {
    Uuid user;
    Day day;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.user, k.day);
    }
  };
  // The count, and in the top bit whether it changed since TakeChanged: a slot
  // is 32 bytes (key 24, row 8), which matters for a table that is probed once
  // per counted event and mostly misses the cache.
  struct Row {
    static constexpr uint64_t kChanged = uint64_t{1} << 63;
    uint64_t bits = 0;
    int64_t count() const { return static_cast<int64_t>(bits & ~kChanged); }
    bool changed() const { return (bits & kChanged) != 0; }
  };

  // On huge pages when large: probed at random once per counted event.
  absl::flat_hash_map<Key, Row, absl::Hash<Key>, std::equal_to<Key>, HugePageAllocator<std::pair<const Key, Row>>> rows_;
  std::vector<Key> changed_;           // keys whose Row::changed is set
  std::map<Day, size_t> rows_by_day_;  // a handful of open days, plus closed ones awaiting eviction
};

}  // namespace tally
