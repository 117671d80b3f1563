#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace tally {

// A zero-filled array of trivial T on anonymous memory that the kernel may
// back with transparent huge pages (madvise(MADV_HUGEPAGE): Debian's default
// THP mode is "madvise", so memory is on 4 KiB pages unless asked).
//
// Why: a hash table of hundreds of MiB probed at random slots misses the TLB
// on nearly every probe; with 2 MiB pages the page walks mostly go away (the
// dedup table: see memory_dedup_store.h). Arrays under one huge page are not
// advised.
//
// Owns its memory (RAII); move-only. Throws std::bad_alloc, as new[] does,
// when the memory cannot be had.
template <typename T>
class HugePageArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  HugePageArray() = default;
  explicit HugePageArray(size_t n) : bytes_(n * sizeof(T)) {
    if (bytes_ == 0) return;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (bytes_ >= kHugePageBytes) (void)madvise(p, bytes_, MADV_HUGEPAGE);  // a hint: THP may be off
    data_ = static_cast<T*>(p);
  }
  ~HugePageArray() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  HugePageArray(HugePageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  HugePageArray& operator=(HugePageArray&& other) noexcept {
    HugePageArray moved(std::move(other));
    std::swap(data_, moved.data_);
    std::swap(bytes_, moved.bytes_);
    return *this;
  }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  static constexpr size_t kHugePageBytes = size_t{2} << 20;

  T* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace tally
