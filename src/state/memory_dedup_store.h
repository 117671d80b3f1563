#pragma once

#include <cstdint>
#include <memory>

#include "state/dedup_store.h"
#include "state/huge_page_array.h"

namespace tally {

// An in-memory DedupStore: one open-addressing table with Robin Hood linear
// probing, 24 bytes a slot (the UUID and one word packing the event time with
// the slot's probe distance), no per-entry allocation.
//
// Memory is the point of this design. Expired entries are purged in one sweep
// when the table fills (at 85% load), and the table grows only if live entries
// alone still fill more than 80% of it; growth sizes it to put the live load at
// 75% (not a fixed factor), so in a steady stream it holds at most 24 / 0.75 =
// 32 bytes per live entry. (Purging at 93% load instead saves nothing and was
// measured 25-36% slower: Robin Hood inserts shift long runs there.) It never
// shrinks: its size follows the peak live count. Robin Hood ordering keeps
// probes short at that load, for misses (new events, the common case) too.
class MemoryDedupStore final : public DedupStore {
 public:
  explicit MemoryDedupStore(size_t initial_capacity = 1024);

  bool RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) override;
  // Two cache lines: a probe at this load reads a few slots past its home
  // (and a new entry shifts the ones after it), and 24-byte slots straddle lines.
  void Prefetch(const Uuid& id) const override {
    const char* home = reinterpret_cast<const char*>(&slots_[Home(id)]);
    __builtin_prefetch(home);
    __builtin_prefetch(home + 64);
  }
  void Purge(Micros watermark) override;
  // Grows the table once to hold size() + entries at the live load it grows
  // to, unless they fit before the next purge; a restore would otherwise
  // rebuild it dozens of times (each growth is only about 13%, since it
  // sizes by the live load).
  void Reserve(size_t entries) override;
  size_t size() const override { return size_; }
  size_t MemoryBytes() const override { return capacity_ * sizeof(Slot); }

  size_t capacity() const { return capacity_; }

  // Calls fn(id, event_time) for each entry held, live or expired, in slot
  // order. `fn` must not change the store.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].meta != 0) fn(Uuid{slots_[i].hi, slots_[i].lo}, TimeOf(slots_[i].meta));
    }
  }

  // Moves the entries live at `watermark` into a table of `capacity` slots
  // (more if they need it: at most 80% full), dropping the expired ones:
  // shrinks a table whose entries went elsewhere. Holds the old and the new
  // table while it runs.
  void Resize(size_t capacity, Micros watermark);

 private:
  struct Slot {
    uint64_t hi;
    uint64_t lo;
    // 0 for an empty slot; else (probe distance + 1) << kTimeBits | event time.
    uint64_t meta;
  };
  static constexpr int kTimeBits = 52;  // event times are < 2^52 µs (year 2100)
  static constexpr uint64_t kTimeMask = (uint64_t{1} << kTimeBits) - 1;
  static constexpr uint64_t kMaxDistance = (uint64_t{1} << (64 - kTimeBits)) - 2;

  static uint64_t Distance(uint64_t meta) { return (meta >> kTimeBits) - 1; }
  static Micros TimeOf(uint64_t meta) { return static_cast<Micros>(meta & kTimeMask); }
  static uint64_t Meta(uint64_t distance, Micros t) {
    return ((distance + 1) << kTimeBits) | static_cast<uint64_t>(t);
  }

  size_t Home(const Uuid& id) const;
  size_t Next(size_t i) const { return i + 1 == capacity_ ? 0 : i + 1; }
  // Inserts an entry known to be absent, starting the probe at slot i, which is
  // `distance` steps from the entry's home. False if a probe got too long:
  // *entry is then the entry left without a slot (the one given, or one it
  // displaced), which the caller must not lose.
  bool InsertNew(Slot* entry, size_t i, uint64_t distance);
  void EraseAt(size_t i);
  // Called when the table is full: purge, then grow if live entries still crowd it.
  void MakeRoom(Micros watermark);
  // Moves the live entries, and `extra` if given, into a table of at least
  // `capacity` slots.
  void Rebuild(size_t capacity, Micros watermark, const Slot* extra = nullptr);

  HugePageArray<Slot> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  size_t purge_at_ = 0;  // size at which the next insert first makes room
};

}  // namespace tally
