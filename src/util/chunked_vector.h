// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ChunkedVector<T>: an append-only array in fixed-size chunks.
//
// The engine keeps one record per subject it has seen, millions of them in
// a game server. In a std::vector they would be moved all at once each time
// the array doubles (hundreds of megabytes copied while an input waits), and
// a quarter of the capacity is unused on average (a third just after a
// doubling). Here the array grows a chunk at a time: elements never move,
// so references to them stay valid, and at most one chunk is partly empty.
// The first chunk's worth comes in blocks that double from 16 elements, so
// that an engine that sees a few subjects (a test, a fuzz execution, a
// small shard) does not set aside a whole chunk (800 KB of SubjectState)
// for them; past that, every block is a chunk.
//
// Thread-safety: none.

#ifndef CAIRN_UTIL_CHUNKED_VECTOR_H_
#define CAIRN_UTIL_CHUNKED_VECTOR_H_

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/numeric/bits.h"

namespace cairn::internal {

template <typename T, size_t kChunkBits = 12>
class ChunkedVector {
 public:
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;

  ChunkedVector() = default;
  ChunkedVector(const ChunkedVector&) = delete;
  ChunkedVector& operator=(const ChunkedVector&) = delete;
  ~ChunkedVector() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& operator[](size_t i) { return Slot(i); }
  const T& operator[](size_t i) const {
    return const_cast<ChunkedVector*>(this)->Slot(i);
  }

  // Appends a value-initialised element; returns it.
  T& emplace_back() {
    T* t = new (NextSlot()) T();
    ++size_;
    return *t;
  }
  T& push_back(T&& value) {
    T* t = new (NextSlot()) T(std::move(value));
    ++size_;
    return *t;
  }

  // Destroys every element and frees every block.
  void clear() {
    for (size_t i = 0; i < size_; ++i) Slot(i).~T();
    size_ = 0;
    std::allocator<T> allocator;
    for (size_t b = 0; b < blocks_.size(); ++b) allocator.deallocate(blocks_[b], BlockSize(b));
    blocks_.clear();
  }

  template <typename Self, typename Ref>
  class Iterator {
   public:
    Iterator(Self* v, size_t i) : v_(v), i_(i) {}
    Ref operator*() const { return (*v_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    Self* v_;
    size_t i_;
  };
  using iterator = Iterator<ChunkedVector, T&>;
  using const_iterator = Iterator<const ChunkedVector, const T&>;
  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

 private:
  // Elements [0, kChunkSize) are in blocks 0 to kSmallBlocks - 1: block 0
  // holds the first kFirstSize, block b > 0 holds [kFirstSize << (b - 1),
  // kFirstSize << b). Past kChunkSize every block holds one chunk.
  static constexpr size_t kFirstBits = kChunkBits < 4 ? kChunkBits : 4;
  static constexpr size_t kFirstSize = size_t{1} << kFirstBits;
  static constexpr size_t kSmallBlocks = kChunkBits - kFirstBits + 1;

  static size_t BlockSize(size_t block) {
    if (block == 0) return kFirstSize;
    return block < kSmallBlocks ? kFirstSize << (block - 1) : kChunkSize;
  }

  // Which block element i is in, and where in it. Short enough to inline
  // where it is used: past the first chunk (where a large array's elements
  // almost all are) a shift and a mask; the doubling blocks below it out of
  // line.
  static void Locate(size_t i, size_t* block, size_t* offset) {
    if (ABSL_PREDICT_TRUE(i >= kChunkSize)) {
      *block = (i >> kChunkBits) + kSmallBlocks - 1;
      *offset = i & (kChunkSize - 1);
      return;
    }
    LocateInFirstChunk(i, block, offset);
  }
  ABSL_ATTRIBUTE_NOINLINE static void LocateInFirstChunk(size_t i, size_t* block,
                                                         size_t* offset) {
    if (i < kFirstSize) {
      *block = 0;
      *offset = i;
    } else {
      const size_t top = static_cast<size_t>(absl::bit_width(i)) - 1;  // log2(block start)
      *block = top - kFirstBits + 1;
      *offset = i - (size_t{1} << top);
    }
  }

  T& Slot(size_t i) {
    size_t block, offset;
    Locate(i, &block, &offset);
    return *std::launder(blocks_[block] + offset);
  }

  // Where element size_ goes, adding a block when needed. (Raw storage:
  // elements are constructed one at a time as they are added, so a block's
  // pages are touched only as elements are added.)
  void* NextSlot() {
    size_t block, offset;
    Locate(size_, &block, &offset);
    if (block == blocks_.size()) blocks_.push_back(std::allocator<T>().allocate(BlockSize(block)));
    return blocks_[block] + offset;
  }

  std::vector<T*> blocks_;
  size_t size_ = 0;
};

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_CHUNKED_VECTOR_H_
