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
//
// Thread-safety: none.

#ifndef CAIRN_EXEC_CHUNKED_VECTOR_H_
#define CAIRN_EXEC_CHUNKED_VECTOR_H_

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

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

  // Destroys every element and frees every chunk.
  void clear() {
    for (size_t i = 0; i < size_; ++i) Slot(i).~T();
    size_ = 0;
    chunks_.clear();
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
  // Raw storage: elements are constructed one at a time as they are added.
  struct Chunk {
    alignas(T) unsigned char bytes[sizeof(T) * kChunkSize];
  };

  T& Slot(size_t i) {
    return *std::launder(reinterpret_cast<T*>(Address(i)));
  }
  unsigned char* Address(size_t i) {
    return chunks_[i >> kChunkBits]->bytes + sizeof(T) * (i & (kChunkSize - 1));
  }

  // Where element size_ goes, adding a chunk when needed. (Not zeroed: a
  // chunk's pages are touched only as elements are added.)
  void* NextSlot() {
    if ((size_ >> kChunkBits) == chunks_.size()) chunks_.push_back(std::unique_ptr<Chunk>(new Chunk));
    return Address(size_);
  }

  std::vector<std::unique_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_CHUNKED_VECTOR_H_
