#include "state/memory_dedup_store.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "core/watermark.h"

namespace tally {
namespace {

// Load at which the table purges expired entries before inserting.
constexpr double kPurgeLoad = 0.85;
// After a purge, the live load above which the table grows...
constexpr double kGrowLoad = 0.80;
// ...to a capacity that puts the live load here.
constexpr double kTargetLoad = 0.75;
constexpr size_t kMinCapacity = 64;

}  // namespace

MemoryDedupStore::MemoryDedupStore(size_t initial_capacity) {
  Rebuild(std::max(initial_capacity, kMinCapacity), Watermark::kNone);
}

size_t MemoryDedupStore::Home(const Uuid& id) const {
  const uint64_t h = absl::Hash<Uuid>{}(id);
  // Maps the hash onto [0, capacity) without a division (Lemire's reduction).
  return static_cast<size_t>((static_cast<unsigned __int128>(h) * capacity_) >> 64);
}

bool MemoryDedupStore::RecordIfNew(const Uuid& id, Micros event_time, Micros watermark) {
  if (size_ >= purge_at_) MakeRoom(watermark);
  for (;;) {
    size_t i = Home(id);
    uint64_t distance = 0;
    for (;; i = Next(i), ++distance) {
      Slot& s = slots_[i];
      if (s.meta == 0) break;  // absent
      if (s.hi == id.hi && s.lo == id.lo) {
        if (TimeOf(s.meta) >= watermark) return false;  // live: a duplicate
        s.meta = Meta(Distance(s.meta), event_time);    // expired: reuse
        return true;
      }
      // Robin Hood invariant: had `id` been here, it would sit before any entry
      // closer to its own home than we are to ours.
      if (Distance(s.meta) < distance) break;
    }
    Slot entry{id.hi, id.lo, Meta(0, event_time)};
    if (!InsertNew(&entry, i, distance)) {
      // A pathological probe length. `id` is now in the table or is `entry`,
      // the one left without a slot: spread the table, keeping that one too.
      Rebuild(capacity_ * 2, watermark, &entry);
      return true;
    }
    ++size_;
    return true;
  }
}

bool MemoryDedupStore::InsertNew(Slot* entry, size_t i, uint64_t distance) {
  for (;; i = Next(i), ++distance) {
    if (distance > kMaxDistance) return false;
    Slot& s = slots_[i];
    entry->meta = Meta(distance, TimeOf(entry->meta));
    if (s.meta == 0) {
      s = *entry;
      return true;
    }
    if (Distance(s.meta) < distance) {
      std::swap(s, *entry);
      distance = Distance(entry->meta);
    }
  }
}

void MemoryDedupStore::EraseAt(size_t i) {
  // Backward-shift deletion: pull the rest of the cluster one step towards home.
  for (size_t next = Next(i);; i = next, next = Next(next)) {
    Slot& n = slots_[next];
    if (n.meta == 0 || Distance(n.meta) == 0) break;
    slots_[i] = Slot{n.hi, n.lo, Meta(Distance(n.meta) - 1, TimeOf(n.meta))};
  }
  slots_[i].meta = 0;
  --size_;
}

void MemoryDedupStore::Purge(Micros watermark) {
  // An entry that EraseAt shifts into an index already passed has already been
  // seen live, so one forward sweep, re-checking the current index, suffices.
  for (size_t i = 0; i < capacity_; ++i) {
    while (slots_[i].meta != 0 && TimeOf(slots_[i].meta) < watermark) EraseAt(i);
  }
}

void MemoryDedupStore::MakeRoom(Micros watermark) {
  Purge(watermark);
  if (static_cast<double>(size_) > kGrowLoad * static_cast<double>(capacity_)) {
    Rebuild(static_cast<size_t>(static_cast<double>(size_) / kTargetLoad) + 1, watermark);
  }
  purge_at_ = std::max<size_t>(size_ + 1, static_cast<size_t>(kPurgeLoad * static_cast<double>(capacity_)));
}

void MemoryDedupStore::Resize(size_t capacity, Micros watermark) {
  Purge(watermark);
  const size_t least = static_cast<size_t>(static_cast<double>(size_) / kGrowLoad) + 1;
  Rebuild(std::max({capacity, least, kMinCapacity}), watermark);
}

void MemoryDedupStore::Reserve(size_t entries) {
  // Only if they would make room (purge, grow) before the last of them.
  if (size_ + entries < purge_at_) return;
  Rebuild(static_cast<size_t>(static_cast<double>(size_ + entries) / kTargetLoad) + 1, Watermark::kNone);
}

void MemoryDedupStore::Rebuild(size_t capacity, Micros watermark, const Slot* extra) {
  HugePageArray<Slot> old = std::move(slots_);
  const size_t old_capacity = capacity_;
  // Each attempt starts over from `old` and `extra`, which it only reads, so an
  // attempt that fails (a probe too long) loses nothing.
  auto insert = [&](Slot s) {
    if (s.meta == 0 || TimeOf(s.meta) < watermark) return true;
    ++size_;
    return InsertNew(&s, Home(Uuid{s.hi, s.lo}), 0);
  };
  for (bool done = false; !done; capacity *= 2) {
    slots_ = HugePageArray<Slot>(capacity);
    capacity_ = capacity;
    size_ = 0;
    done = extra == nullptr || insert(*extra);
    for (size_t i = 0; i < old_capacity && done; ++i) done = insert(old[i]);
  }
  purge_at_ = std::max<size_t>(size_ + 1, static_cast<size_t>(kPurgeLoad * static_cast<double>(capacity_)));
}

}  // namespace tally
