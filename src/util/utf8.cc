// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "util/utf8.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace cairn::internal {
namespace {

// Decodes the well-formed sequence at s[i], storing its code point in *cp.
// Returns its length (1..4), or 0 when s[i] does not start one. The ranges
// are RFC 3629's table: they exclude overlong forms, surrogates and code
// points above U+10FFFF.
size_t DecodeAt(absl::string_view s, size_t i, uint32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // The allowed range of the second byte.
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  uint32_t v = b0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) v = (v << 6) | (byte(k) & 0x3F);
  *cp = v;
  return len;
}

// Code points that reorder or hide the text around them on a terminal or
// in a viewer: the bidirectional embeddings, overrides and isolates.
bool IsBidiControl(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

// Appends `v` in upper-case hex, at least `digits` digits. (By hand: with
// str_format, parsing the format for every byte of a run of invalid bytes
// was most of the cost of escaping it.)
void AppendHex(uint32_t v, int digits, std::string* out) {
  char reversed[8];
  int n = 0;
  do {
    reversed[n++] = "0123456789ABCDEF"[v & 0xF];
    v >>= 4;
  } while (v != 0 || n < digits);
  while (n > 0) out->push_back(reversed[--n]);
}

}  // namespace

size_t FirstInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Skip ASCII eight bytes at a time: most ids and names are ASCII.
    while (s.size() - i >= 8) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= s.size()) break;
    uint32_t cp;
    const size_t len = DecodeAt(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return absl::string_view::npos;
}

void AppendEscaped(absl::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    const size_t len = DecodeAt(s, i, &cp);
    if (len == 0) {
      out->append("\\x");
      AppendHex(static_cast<uint8_t>(s[i]), 2, out);
      ++i;
      continue;
    }
    if (cp == '\\') {
      out->append("\\\\");
    } else if (cp == '\n') {
      out->append("\\n");
    } else if (cp == '\r') {
      out->append("\\r");
    } else if (cp == '\t') {
      out->append("\\t");
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || IsBidiControl(cp)) {
      out->append("\\u{");
      AppendHex(cp, 4, out);
      out->push_back('}');
    } else {
      out->append(s.data() + i, len);
    }
    i += len;
  }
}

std::string Escaped(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(s, &out);
  return out;
}

}  // namespace cairn::internal
