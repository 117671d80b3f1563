#pragma once

#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "state/window_store.h"

namespace tally {

// An in-memory WindowStore over an open-addressing hash map.
class MemoryWindowStore final : public WindowStore {
 public:
  void Increment(const Uuid& user, Day day) override;
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
  struct Row {
    int64_t count = 0;
    bool changed = false;
  };

  absl::flat_hash_map<Key, Row> rows_;
  std::vector<Key> changed_;           // keys whose Row::changed is set
  std::map<Day, size_t> rows_by_day_;  // a handful of open days, plus closed ones awaiting eviction
};

}  // namespace tally
