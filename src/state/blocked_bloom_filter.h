#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/uuid.h"

namespace tally {

// A bloom filter whose probes for one key all fall in one 64-byte block (one
// cache line): a lookup costs one memory miss, which Prefetch can start early.
// About 10 bits a key and 6 probes: about 1% false positives (measured in
// blocked_bloom_filter_test.cc). Sized once for the keys it will hold; adding
// more only raises the false-positive rate. Not thread-safe for Add.
class BlockedBloomFilter {
 public:
  static constexpr size_t kBitsPerKey = 10;

  // A filter for up to `keys` keys (at least one block).
  explicit BlockedBloomFilter(size_t keys);

  // The hash a filter is probed with, of a UUID (any bits, not only random ones).
  static uint64_t HashOf(const Uuid& id);

  void Add(uint64_t hash);
  bool MayContain(uint64_t hash) const;
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&blocks_[BlockOf(hash)]); }
  size_t MemoryBytes() const { return blocks_count_ * sizeof(Block); }

 private:
  struct alignas(64) Block {
    uint64_t words[8];
  };

  size_t BlockOf(uint64_t hash) const {
    return static_cast<size_t>((static_cast<unsigned __int128>(hash) * blocks_count_) >> 64);
  }

  size_t blocks_count_;
  std::unique_ptr<Block[]> blocks_;
};

}  // namespace tally
