// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// HugePageAllocator: std::allocator that asks Linux to back the large blocks
// it hands out with transparent huge pages (madvise MADV_HUGEPAGE, which the
// default THP setting "madvise" honours), for big hash tables touched at
// random: one page fault per 2 MiB instead of per 4 KiB while a growing table
// is first written, and far fewer TLB misses afterwards. Elsewhere, or when
// the kernel declines, it is plain std::allocator.
//
// Thread-safety: stateless.

#ifndef CAIRN_UTIL_HUGE_PAGE_ALLOCATOR_H_
#define CAIRN_UTIL_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace cairn::internal {

// Advises huge pages for the whole 2 MiB pages inside [p, p + bytes), when
// there are at least two of them.
inline void AdviseHugePages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  if (end > begin && end - begin >= 2 * kHugePage) {
    // Only advice: failure leaves ordinary pages.
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
#else
  (void)p;
  (void)bytes;
#endif
}

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    T* p = std::allocator<T>().allocate(n);
    AdviseHugePages(p, n * sizeof(T));
    return p;
  }
  void deallocate(T* p, size_t n) { std::allocator<T>().deallocate(p, n); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
  friend bool operator!=(const HugePageAllocator&, const HugePageAllocator&) { return false; }
};

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_HUGE_PAGE_ALLOCATOR_H_
