// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/sent_messages.h"

#include <cassert>
#include <new>
#include <utility>

namespace cairn::internal {

void SentMessages::FreeChunk::operator()(Record* chunk) const {
  // Records are trivially destructible: the chunk is raw memory.
  ::operator delete(chunk);
}

uint32_t SentMessages::Tag(uint64_t id) {
  // Ids the engine makes are already uniform hashes, but a delivery report
  // may name any id: mix (MurmurHash3's finalizer) so that no id pattern
  // piles up in one run of slots.
  id ^= id >> 33;
  id *= 0xff51afd7ed558ccdULL;
  id ^= id >> 33;
  id *= 0xc4ceb9fe1a85ec53ULL;
  id ^= id >> 33;
  const uint32_t tag = static_cast<uint32_t>(id >> 32);
  return tag == 0 ? 1 : tag;  // 0 marks an empty slot.
}

bool SentMessages::Insert(uint64_t id, absl::Time sent, const SentMessage& message) {
  if (size() >= kMaxSize) return false;
  // Keep the load at most 3/4, so that a probe run stays within a cache
  // line or two.
  if (slot_bits_ == 0 || (size() + 1) * 4 > (size_t{3} << slot_bits_)) Grow();
  const uint32_t tag = Tag(id);
  const size_t mask = Mask();
  size_t i = Home(tag);
  while (slots_[i].tag != 0) {
    if (slots_[i].tag == tag && At(PositionOf(slots_[i])).id == id) return false;
    i = (i + 1) & mask;
  }
  if (((end_ >> kChunkBits) - (begin_ >> kChunkBits)) == chunks_.size()) {
    if (spare_ == nullptr) {
      spare_.reset(static_cast<Record*>(::operator new(sizeof(Record) * kChunkSize)));
    }
    chunks_.push_back(std::move(spare_));
  }
  Record* r = new (&At(end_)) Record{id, 0, 0, message};
  SplitTime(sent, &r->sent_seconds, &r->sent_ticks);
  slots_[i] = Slot{tag, static_cast<uint32_t>(end_)};
  ++end_;
  if (size() == 1) UpdateFrontSent();
  return true;
}

SentMessage* SentMessages::Find(uint64_t id) {
  if (slot_bits_ == 0) return nullptr;
  const uint32_t tag = Tag(id);
  const size_t mask = Mask();
  for (size_t i = Home(tag); slots_[i].tag != 0; i = (i + 1) & mask) {
    if (slots_[i].tag != tag) continue;
    Record& r = At(PositionOf(slots_[i]));
    if (r.id == id) return &r.message;
  }
  return nullptr;
}

void SentMessages::Prefetch(uint64_t id) const {
#if defined(__GNUC__)
  if (slot_bits_ != 0) __builtin_prefetch(&slots_[Home(Tag(id))], /*rw=*/1);
#else
  (void)id;
#endif
}

size_t SentMessages::SlotOf(uint64_t id, uint64_t position) const {
  const uint32_t tag = Tag(id);
  const uint32_t low = static_cast<uint32_t>(position);
  const size_t mask = Mask();
  size_t i = Home(tag);
  // The record is held, so its slot is in this probe run; positions are
  // unique among held records, so no record needs reading.
  while (slots_[i].tag != tag || slots_[i].position != low) {
    assert(slots_[i].tag != 0);
    i = (i + 1) & mask;
  }
  return i;
}

void SentMessages::EraseSlot(size_t i) {
  const size_t mask = Mask();
  size_t j = i;
  while (true) {
    j = (j + 1) & mask;
    if (slots_[j].tag == 0) break;
    // Slot j may move back to the hole at i unless its home lies
    // (cyclically) after i and at or before j: then it would sit before
    // its home, where a probe never looks.
    const size_t home = Home(slots_[j].tag);
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i].tag = 0;
}

void SentMessages::Grow() {
  const int old_bits = slot_bits_;
  std::unique_ptr<Slot[]> old = std::move(slots_);
  slot_bits_ = old_bits == 0 ? kMinSlotBits : old_bits + 1;
  const size_t capacity = size_t{1} << slot_bits_;
  slots_.reset(new Slot[capacity]());
  if (old_bits == 0) return;
  // A slot's home is the top bits of its tag, so the old index read in
  // order lands nearly in order in the new one: both are streamed.
  const size_t mask = Mask();
  const size_t old_capacity = size_t{1} << old_bits;
  for (size_t k = 0; k < old_capacity; ++k) {
    if (old[k].tag == 0) continue;
    size_t i = Home(old[k].tag);
    while (slots_[i].tag != 0) i = (i + 1) & mask;
    slots_[i] = old[k];
  }
}

void SentMessages::PopFront() {
  ++begin_;
  if ((begin_ & (kChunkSize - 1)) == 0) {
    spare_ = std::move(chunks_.front());
    chunks_.pop_front();
  }
}

void SentMessages::Clear() {
  begin_ = 0;
  end_ = 0;
  chunks_.clear();
  spare_.reset();
  slots_.reset();
  slot_bits_ = 0;
  front_sent_ = absl::InfiniteFuture();
}

size_t SentMessages::AllocatedBytes() const {
  const size_t chunks = chunks_.size() + (spare_ != nullptr ? 1 : 0);
  const size_t slots = slot_bits_ == 0 ? 0 : size_t{1} << slot_bits_;
  return chunks * sizeof(Record) * kChunkSize + slots * sizeof(Slot);
}

}  // namespace cairn::internal
