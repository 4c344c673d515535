// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// SentMessages: the messages sinks accepted during the delivery report
// window, kept for delivery reports, oldest first.
//
// The engine remembers every send (a million in a timer burst) and looks one
// up only when its report comes, so the layout is chosen for cheap inserts
// and little memory rather than for lookups:
// - records (id, sent time, what was sent) sit in send order in fixed-size
//   chunks, appended at the back and forgotten from the front, so growing
//   never moves them and a forgotten chunk's memory is reused;
// - an open-addressing index maps an id to its record's position with 8-byte
//   slots (32 bits of the id's hash, 32 bits of position), linear probing
//   and backward-shift deletion (no tombstones). A slot's home is the top
//   bits of its hash, which the slot keeps, so growing reads the old index
//   in order and writes the new one nearly in order, with no record read;
// - a new record enters the index only kIndexLag inserts later. Its slot is
//   a cache (and TLB) miss in a table of megabytes; prefetched when the
//   record is added, it has arrived by the time it is written. Until then
//   the record is "pending": Find and the other calls that need the index
//   complete it first, and whether a pending record repeats an id (and so
//   is dropped) is settled as if it had been indexed at once.
//
// Thread-safety: not thread-safe.

#ifndef CAIRN_EXEC_SENT_MESSAGES_H_
#define CAIRN_EXEC_SENT_MESSAGES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "absl/time/time.h"
#include "util/packed_time.h"

namespace cairn::internal {

// A message a sink accepted, kept for delivery reports.
struct SentMessage {
  uint32_t version = 0;
  int32_t node = -1;
  uint32_t enrollment = 0;
  uint32_t generation = 0;  // Enrollment generation while awaiting.
  bool awaiting = false;
  bool resolved = false;
};

class SentMessages {
 public:
  // The most messages held at once (about 130 GB of records): slot homes
  // come from 32 bits of hash, so the index has at most 2^32 slots, 3/4 of
  // them used at most (which also keeps positions modulo 2^32 unique).
  static constexpr size_t kMaxSize = size_t{3} << 30;

  SentMessages() = default;
  SentMessages(const SentMessages&) = delete;
  SentMessages& operator=(const SentMessages&) = delete;
  SentMessages(SentMessages&&) = default;
  SentMessages& operator=(SentMessages&&) = default;

  // Messages held. Costs a lookup per pending record (at most kIndexLag).
  size_t size() const;
  bool empty() const { return size() == 0; }

  // Remembers message `id`, sent at `sent`, after every message held. If
  // `id` is already held, the message is dropped and the one held stays.
  // Returns false (and changes nothing) only if kMaxSize messages are held.
  bool Insert(uint64_t id, absl::Time sent, const SentMessage& message);

  // The message with `id`, or null. Valid until the next non-const call.
  SentMessage* Find(uint64_t id);

  // Forgets messages from the oldest for as long as the oldest was sent
  // before `horizon`, calling forgotten(const SentMessage&) for each. (It
  // stops at the first message sent at or after `horizon`, even if a later
  // one is older: messages are held in insertion order.)
  template <typename F>
  void ForgetSentBefore(absl::Time horizon, F forgotten);

  // Forgets every message for which remove(const SentMessage&) is true, and
  // keeps the others in order. `remove` is called once per message, oldest
  // first. Costs a pass over all messages.
  template <typename F>
  void RemoveIf(F remove);

  // Calls f(uint64_t id, absl::Time sent, const SentMessage&) for every
  // message, oldest first.
  template <typename F>
  void ForEach(F f) const;

  void Clear();

  // Heap bytes held by the records' chunks and the index (not the few bytes
  // of the chunk list itself).
  size_t AllocatedBytes() const;

 private:
  struct Record {
    uint64_t id;
    int64_t sent_seconds;  // The sent time, packed (util/packed_time.h):
    uint32_t sent_ticks;   // 12 bytes, where absl::Time would take 16.
    SentMessage message;
  };
  static_assert(sizeof(Record) == 40, "one per message sent in the window: keep it small");
  // sent_ticks of a record that repeated an id held before it: it is no
  // message and is skipped until it reaches the front. (PackTime gives
  // ticks below 4e9 or kInfiniteTicks, never this.)
  static constexpr uint32_t kRepeatTicks = kInfiniteTicks - 1;
  static bool IsRepeat(const Record& r) { return r.sent_ticks == kRepeatTicks; }

  // An index entry. tag == 0 marks an empty slot.
  struct Slot {
    uint32_t tag;       // The top 32 bits of the id's hash, never 0.
    uint32_t position;  // The record's position, modulo 2^32.
  };

  // 2,048 records (80 KiB) a chunk: below glibc's mmap threshold, so
  // chunks come from the heap, and each allocation serves many sends.
  static constexpr int kChunkBits = 11;
  static constexpr uint64_t kChunkSize = uint64_t{1} << kChunkBits;
  static constexpr int kMinSlotBits = 4;
  // How many inserts later a record enters the index: a few hundred
  // nanoseconds of engine work each, enough for its prefetched slot to
  // arrive.
  static constexpr uint64_t kIndexLag = 16;

  struct FreeChunk {
    void operator()(Record* chunk) const;
  };
  using Chunk = std::unique_ptr<Record, FreeChunk>;

  static uint32_t Tag(uint64_t id);
  static absl::Time SentTime(const Record& r) {
    return UnpackTime(r.sent_seconds, r.sent_ticks);
  }
  size_t Home(uint32_t tag) const { return tag >> (32 - slot_bits_); }
  size_t Mask() const { return (size_t{1} << slot_bits_) - 1; }

  Record& At(uint64_t position) {
    return chunks_[(position >> kChunkBits) - (begin_ >> kChunkBits)]
        .get()[position & (kChunkSize - 1)];
  }
  const Record& At(uint64_t position) const {
    return chunks_[(position >> kChunkBits) - (begin_ >> kChunkBits)]
        .get()[position & (kChunkSize - 1)];
  }
  // The full position of a record from its slot's 32 bits.
  uint64_t PositionOf(const Slot& slot) const {
    return begin_ + static_cast<uint32_t>(slot.position - static_cast<uint32_t>(begin_));
  }

  // The index slot of the record at `position` (which must be indexed).
  size_t SlotOf(uint64_t id, uint64_t position) const;
  // The index slot of the indexed record with `id`, or kNoSlot; pending
  // records are not looked at.
  static constexpr size_t kNoSlot = SIZE_MAX;
  size_t FindSlot(uint64_t id) const;
  // Whether the pending record at `position` repeats an id held before it:
  // what indexing it would find out, answered without indexing.
  bool PendingRepeats(uint64_t position) const;
  // Indexes the oldest pending record, or marks it a repeat.
  void IndexNext();
  // Indexes every pending record.
  void IndexAll();
  // Before the indexed record with `id` is forgotten: pending records with
  // the same id were inserted while it was held, so they are repeats.
  void MarkPendingRepeats(uint64_t id);
  // Drops repeats at the front, then notes the front's sent time.
  void SettleFront();
  // Empties slot i and shifts the rest of its probe run back.
  void EraseSlot(size_t i);
  // Doubles the index (or creates it).
  void Grow();
  // Drops the oldest record, and its chunk once that is empty.
  void PopFront();

  // Records [begin_, end_) in chunks_: chunks_[0] holds position begin_
  // (rounded down to its chunk), and chunks_ holds exactly the chunks that
  // positions up to end_ - 1 fall in (none when a chunk boundary is reached
  // with nothing held).
  uint64_t begin_ = 0;
  uint64_t end_ = 0;
  // Records before this position are indexed (or marked repeats); those
  // from it to end_ are pending. Never before begin_.
  uint64_t indexed_end_ = 0;
  size_t repeats_ = 0;  // Records marked repeats, not yet dropped.
  size_t indexed_ = 0;  // Used index slots.
  std::deque<Chunk> chunks_;
  // The last chunk emptied, kept for the next one needed: a window that
  // slides steadily then allocates nothing.
  Chunk spare_;
  std::unique_ptr<Slot[]> slots_;
  int slot_bits_ = 0;  // The index has 2^slot_bits_ slots; 0: no index yet.
  // The oldest record's sent time (InfiniteFuture when none), so that the
  // check made before every send compares two absl::Times. The oldest
  // record is never a repeat: repeats there are dropped at once, and a
  // pending one there cannot be (nothing held is older).
  absl::Time front_sent_ = absl::InfiniteFuture();
};

template <typename F>
void SentMessages::ForgetSentBefore(absl::Time horizon, F forgotten) {
  while (front_sent_ < horizon) {
    if (begin_ == indexed_end_) IndexNext();  // Found to be no repeat.
    const Record& r = At(begin_);
    EraseSlot(SlotOf(r.id, begin_));
    MarkPendingRepeats(r.id);
    forgotten(static_cast<const SentMessage&>(r.message));
    PopFront();
    SettleFront();
  }
}

template <typename F>
void SentMessages::RemoveIf(F remove) {
  IndexAll();
  uint64_t kept = begin_;
  for (uint64_t p = begin_; p != end_; ++p) {
    Record& r = At(p);
    if (IsRepeat(r)) continue;
    const size_t slot = SlotOf(r.id, p);
    if (remove(static_cast<const SentMessage&>(r.message))) {
      EraseSlot(slot);
      continue;
    }
    if (kept != p) {
      slots_[slot].position = static_cast<uint32_t>(kept);
      At(kept) = r;
    }
    ++kept;
  }
  end_ = kept;
  indexed_end_ = kept;
  repeats_ = 0;
  const uint64_t chunks_needed = ((end_ + kChunkSize - 1) >> kChunkBits) - (begin_ >> kChunkBits);
  while (chunks_.size() > chunks_needed) chunks_.pop_back();
  SettleFront();
}

template <typename F>
void SentMessages::ForEach(F f) const {
  for (uint64_t p = begin_; p != end_; ++p) {
    const Record& r = At(p);
    if (IsRepeat(r) || (p >= indexed_end_ && PendingRepeats(p))) continue;
    f(r.id, SentTime(r), r.message);
  }
}

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_SENT_MESSAGES_H_
