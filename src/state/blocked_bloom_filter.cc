#include "state/blocked_bloom_filter.h"

#include <algorithm>

namespace tally {
namespace {

constexpr int kProbes = 6;
constexpr int kBitsPerProbe = 9;  // a bit of the 512 in a block

uint64_t Mix(uint64_t x) {
  // The finalizer of MurmurHash3: every input bit reaches every output bit.
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// The in-block bits come from a second hash, independent of the block's.
uint64_t BitsOf(uint64_t hash) { return Mix(hash ^ 0x9e3779b97f4a7c15ull); }

}  // namespace

BlockedBloomFilter::BlockedBloomFilter(size_t keys)
    : blocks_count_(std::max<size_t>(1, (keys * kBitsPerKey + 511) / 512)),
      blocks_(std::make_unique<Block[]>(blocks_count_)) {}

uint64_t BlockedBloomFilter::HashOf(const Uuid& id) { return Mix(id.hi ^ Mix(id.lo)); }

void BlockedBloomFilter::Add(uint64_t hash) {
  Block& block = blocks_[BlockOf(hash)];
  uint64_t bits = BitsOf(hash);
  for (int i = 0; i < kProbes; ++i, bits >>= kBitsPerProbe) {
    const unsigned bit = static_cast<unsigned>(bits & 511);
    block.words[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool BlockedBloomFilter::MayContain(uint64_t hash) const {
  const Block& block = blocks_[BlockOf(hash)];
  uint64_t bits = BitsOf(hash);
  for (int i = 0; i < kProbes; ++i, bits >>= kBitsPerProbe) {
    const unsigned bit = static_cast<unsigned>(bits & 511);
    if ((block.words[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

}  // namespace tally
