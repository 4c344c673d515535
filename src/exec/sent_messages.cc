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

size_t SentMessages::size() const {
  size_t pending_repeats = 0;
  for (uint64_t p = indexed_end_; p != end_; ++p) pending_repeats += PendingRepeats(p);
  return static_cast<size_t>(end_ - begin_) - repeats_ - pending_repeats;
}

bool SentMessages::Insert(uint64_t id, absl::Time sent, const SentMessage& message) {
  if (end_ - begin_ >= kMaxSize) return false;
  if (((end_ >> kChunkBits) - (begin_ >> kChunkBits)) == chunks_.size()) {
    if (spare_ == nullptr) {
      spare_.reset(static_cast<Record*>(::operator new(sizeof(Record) * kChunkSize)));
    }
    chunks_.push_back(std::move(spare_));
  }
  Record* r = new (&At(end_)) Record{id, 0, 0, message};
  PackTime(sent, &r->sent_seconds, &r->sent_ticks);
#if defined(__GNUC__)
  if (slot_bits_ != 0) __builtin_prefetch(&slots_[Home(Tag(id))], /*rw=*/1);
#endif
  if (end_++ == begin_) SettleFront();
  while (end_ - indexed_end_ > kIndexLag) IndexNext();
  return true;
}

void SentMessages::IndexNext() {
  const uint64_t p = indexed_end_++;
  Record& r = At(p);
  if (IsRepeat(r)) return;
  // Keep the load at most 3/4, so that a probe run stays within a cache
  // line or two.
  if (slot_bits_ == 0 || (indexed_ + 1) * 4 > (size_t{3} << slot_bits_)) Grow();
  const uint32_t tag = Tag(r.id);
  const size_t mask = Mask();
  size_t i = Home(tag);
  while (slots_[i].tag != 0) {
    if (slots_[i].tag == tag && At(PositionOf(slots_[i])).id == r.id) {
      r.sent_ticks = kRepeatTicks;
      ++repeats_;
      return;
    }
    i = (i + 1) & mask;
  }
  slots_[i] = Slot{tag, static_cast<uint32_t>(p)};
  ++indexed_;
}

void SentMessages::IndexAll() {
  while (indexed_end_ != end_) IndexNext();
  SettleFront();
}

void SentMessages::MarkPendingRepeats(uint64_t id) {
  for (uint64_t p = indexed_end_; p != end_; ++p) {
    Record& r = At(p);
    if (r.id == id && !IsRepeat(r)) {
      r.sent_ticks = kRepeatTicks;
      ++repeats_;
    }
  }
}

bool SentMessages::PendingRepeats(uint64_t position) const {
  const Record& r = At(position);
  if (IsRepeat(r)) return false;  // Already counted in repeats_.
  if (FindSlot(r.id) != kNoSlot) return true;
  for (uint64_t p = indexed_end_; p != position; ++p) {
    const Record& earlier = At(p);
    if (earlier.id == r.id && !IsRepeat(earlier)) return true;
  }
  return false;
}

void SentMessages::SettleFront() {
  while (begin_ != end_ && IsRepeat(At(begin_))) {
    --repeats_;
    PopFront();
  }
  if (indexed_end_ < begin_) indexed_end_ = begin_;
  front_sent_ = begin_ == end_ ? absl::InfiniteFuture() : SentTime(At(begin_));
}

size_t SentMessages::FindSlot(uint64_t id) const {
  if (slot_bits_ == 0) return kNoSlot;
  const uint32_t tag = Tag(id);
  const size_t mask = Mask();
  for (size_t i = Home(tag); slots_[i].tag != 0; i = (i + 1) & mask) {
    if (slots_[i].tag == tag && At(PositionOf(slots_[i])).id == id) return i;
  }
  return kNoSlot;
}

SentMessage* SentMessages::Find(uint64_t id) {
  IndexAll();
  const size_t i = FindSlot(id);
  return i == kNoSlot ? nullptr : &At(PositionOf(slots_[i])).message;
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
  --indexed_;
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
  indexed_end_ = 0;
  repeats_ = 0;
  indexed_ = 0;
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
