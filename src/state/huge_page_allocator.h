#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace tally {

// A standard allocator whose large blocks (one huge page or more) are
// anonymous memory that the kernel may back with transparent huge pages, as
// HugePageArray's are; smaller blocks come from operator new.
//
// Why: a hash container of tens of MiB probed at random (the window store's
// Swiss table, once per counted event) misses the TLB on nearly every probe on
// 4 KiB pages; on 2 MiB pages the page walks mostly go away. Stateless: all
// instances are equal, and a block may be freed by any of them.
template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    (void)madvise(p, bytes, MADV_HUGEPAGE);  // a hint: THP may be off
    return static_cast<T*>(p);
  }

  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) {
      ::operator delete(p, bytes, std::align_val_t{alignof(T)});
    } else {
      munmap(p, bytes);
    }
  }

  template <typename U>
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator<U>&) noexcept {
    return true;
  }

 private:
  static constexpr size_t kHugePageBytes = size_t{2} << 20;
};

}  // namespace tally
