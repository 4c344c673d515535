// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// UTF-8 checks for the engine's input boundary, and the escaping that makes
// an untrusted string safe to put in a log line or an error message.
//
// Every string that enters the engine (ids, names, attribute and property
// keys, string values) is checked once with FirstInvalidUtf8 where it
// enters: state the engine keeps is then always valid UTF-8, which is what
// protobuf's `string` fields in a snapshot require to parse back.
//
// Thread-safety: pure functions.

#ifndef CAIRN_UTIL_UTF8_H_
#define CAIRN_UTIL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace cairn::internal {

// The offset of the first byte of `s` that does not start a well-formed
// UTF-8 sequence (RFC 3629: shortest form, no surrogates, at most
// U+10FFFF), or absl::string_view::npos when all of `s` is well formed.
// A NUL byte is well formed. Runs of ASCII are checked eight bytes at a time.
size_t FirstInvalidUtf8(absl::string_view s);

// True when no byte of `s` has its high bit set: `s` is ASCII, and so
// well-formed UTF-8. Inline, eight bytes at a time and with no branch per
// byte: every event's name, subject id, type and id pass here.
inline bool IsAscii(absl::string_view s) {
  uint64_t high = 0;
  size_t i = 0;
  for (; s.size() - i >= 8; i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    high |= word;
  }
  for (; i < s.size(); ++i) high |= static_cast<uint8_t>(s[i]);
  return (high & 0x8080808080808080ULL) == 0;
}

// True when all of `s` is well-formed UTF-8.
inline bool IsValidUtf8(absl::string_view s) {
  return IsAscii(s) || FirstInvalidUtf8(s) == absl::string_view::npos;
}

// Appends `s` to *out in a form that cannot break or forge a log line nor
// drive a terminal: a backslash becomes "\\", \n \r \t become those two-
// character escapes, every other control character (C0, DEL, C1) and the
// Unicode bidirectional overrides and isolates become \u{XXXX}, and each
// byte that is not part of well-formed UTF-8 becomes \xHH. Everything else,
// including non-ASCII text such as Chinese names, is kept as it is.
void AppendEscaped(absl::string_view s, std::string* out);

// AppendEscaped into a new string.
std::string Escaped(absl::string_view s);

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_UTF8_H_
