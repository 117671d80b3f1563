#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "state/huge_page_array.h"
#include "state/window_store.h"

namespace tally {

// An in-memory WindowStore: one open-addressing table with linear probing,
// 32 bytes a slot (user, day, count with the changed mark, probe distance), no
// per-row allocation, on transparent huge pages once large. It doubles past
// 70% load and never shrinks.
//
// Why not a general hash map: the table is probed at random once per counted
// event, and about half the probes miss (a learner's first event of a day).
// Here a probe reads one slot's cache line (a Swiss table reads its control
// bytes and then its slot: two), and the changed rows are listed by slot
// index, so TakeChanged reads each once without hashing or probing again.
// The indices stay valid because a row never moves on insert (plain linear
// probing, not Robin Hood, which displaces rows), only when the table grows
// or EvictClosed removes rows, and both list the changed rows afresh.
class MemoryWindowStore final : public WindowStore {
 public:
  explicit MemoryWindowStore(size_t initial_capacity = 1024);

  void Increment(const Uuid& user, Day day) override;
  // Two cache lines: at this load a probe often reads the slot after its home.
  void Prefetch(const Uuid& user, Day day) const override {
    const Slot* home = &slots_[Home(user, day)];
    __builtin_prefetch(home);
    __builtin_prefetch(home + 2);
  }
  void AddRestored(const Uuid& user, Day day, int64_t n) override;
  void TakeChanged(std::vector<DailyCount>* out) override;
  void EvictClosed(Day first_open_day, std::vector<DailyCount>* out) override;
  size_t ClosedRows(Day first_open_day) const override;
  size_t size() const override { return size_; }
  size_t MemoryBytes() const override {
    return capacity_ * sizeof(Slot) + changed_.capacity() * sizeof(size_t);
  }

 private:
  struct Slot {
    uint64_t hi;
    uint64_t lo;
    // The count, and in the top bit whether it changed since TakeChanged.
    uint64_t bits;
    Day day;
    uint32_t meta;  // 0 for an empty slot; else probe distance + 1
  };
  static_assert(sizeof(Slot) == 32);
  static constexpr uint64_t kChanged = uint64_t{1} << 63;

  size_t Home(const Uuid& user, Day day) const;
  size_t Next(size_t i) const { return i + 1 == capacity_ ? 0 : i + 1; }
  // The slot of (user, day), created with a zero count if absent.
  size_t FindOrInsert(const Uuid& user, Day day);
  void EraseAt(size_t i);
  void Grow();
  // Lists every changed row afresh, after slots moved.
  void ListChanged();

  HugePageArray<Slot> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  size_t grow_at_ = 0;
  std::vector<size_t> changed_;        // slots whose row is marked changed, each once
  std::map<Day, size_t> rows_by_day_;  // a handful of open days, plus closed ones awaiting eviction
};

}  // namespace tally
