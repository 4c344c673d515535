// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The UTF-8 check every string entering the engine passes, and the escaping
// of untrusted strings in logs and error messages.

#include "util/utf8.h"

#include <string>

#include "catch2/catch.hpp"

namespace cairn::internal {
namespace {

constexpr size_t kValid = absl::string_view::npos;

TEST_CASE("FirstInvalidUtf8 accepts ASCII, NUL and every well-formed length") {
  CHECK(FirstInvalidUtf8("") == kValid);
  CHECK(FirstInvalidUtf8("add_to_cart") == kValid);
  CHECK(FirstInvalidUtf8(std::string("a\0b", 3)) == kValid);
  CHECK(FirstInvalidUtf8("caf\xC3\xA9") == kValid);                  // é, 2 bytes
  CHECK(FirstInvalidUtf8("\xE5\xBC\xA0\xE4\xB8\x89") == kValid);     // 张三, 3 bytes
  CHECK(FirstInvalidUtf8("\xF0\x9F\x8E\x81 gift") == kValid);        // U+1F381, 4 bytes
  CHECK(FirstInvalidUtf8("\xF4\x8F\xBF\xBF") == kValid);             // U+10FFFF
  CHECK(FirstInvalidUtf8("\xED\x9F\xBF") == kValid);                 // U+D7FF
  CHECK(FirstInvalidUtf8("\xEE\x80\x80") == kValid);                 // U+E000
}

TEST_CASE("FirstInvalidUtf8 names the first bad byte") {
  CHECK(FirstInvalidUtf8("Jos\xE9") == 3);                  // Latin-1 é
  CHECK(FirstInvalidUtf8("abcdefghij\xFF") == 10);          // past the 8-byte fast path
  CHECK(FirstInvalidUtf8("\x80") == 0);                     // lone continuation byte
  CHECK(FirstInvalidUtf8("\xC0\xAF") == 0);                 // overlong '/'
  CHECK(FirstInvalidUtf8("\xC1\xBF") == 0);                 // overlong
  CHECK(FirstInvalidUtf8("\xE0\x80\xAF") == 0);             // overlong 3-byte
  CHECK(FirstInvalidUtf8("\xF0\x80\x80\xAF") == 0);         // overlong 4-byte
  CHECK(FirstInvalidUtf8("x\xED\xA0\x80") == 1);            // surrogate U+D800
  CHECK(FirstInvalidUtf8("\xF4\x90\x80\x80") == 0);         // above U+10FFFF
  CHECK(FirstInvalidUtf8("\xF5\x80\x80\x80") == 0);
  CHECK(FirstInvalidUtf8("ok\xE5\xBC") == 2);               // truncated at the end
  CHECK(FirstInvalidUtf8("\xE5\x41\xA0") == 0);             // ASCII inside a sequence
  CHECK_FALSE(IsValidUtf8("\xFE"));
  CHECK(IsValidUtf8("\xE5\xBC\xA0"));
}

TEST_CASE("IsAscii finds a high byte at any offset of any length and IsValidUtf8 agrees") {
  // Every length up to three words and every offset: the word loop, the
  // tail and the edge between them.
  for (size_t n = 0; n <= 24; ++n) {
    const std::string ascii(n, 'u');
    CHECK(IsAscii(ascii));
    CHECK(IsValidUtf8(ascii));
    for (size_t at = 0; at < n; ++at) {
      INFO("length " << n << ", high byte at " << at);
      std::string bad = ascii;
      bad[at] = '\xFF';
      CHECK_FALSE(IsAscii(bad));
      CHECK_FALSE(IsValidUtf8(bad));
      std::string other = ascii;
      other[at] = '\x80';  // Only the top bit set: not ASCII, not UTF-8 alone.
      CHECK_FALSE(IsAscii(other));
      CHECK_FALSE(IsValidUtf8(other));
    }
  }
  CHECK(IsAscii(std::string("a\0\x7F", 3)));       // NUL and DEL are ASCII.
  CHECK_FALSE(IsAscii("\xE5\xBC\xA0"));            // Valid UTF-8, not ASCII:
  CHECK(IsValidUtf8("\xE5\xBC\xA0"));              // the full check decides.
}

TEST_CASE("Escaped keeps readable text and neutralises what could forge a line") {
  CHECK(Escaped("plain id-42") == "plain id-42");
  CHECK(Escaped("\xE5\xBC\xA0\xE4\xB8\x89") == "\xE5\xBC\xA0\xE4\xB8\x89");  // Chinese kept
  CHECK(Escaped("a\nrestored the checkpoint (FORGED)") ==
        "a\\nrestored the checkpoint (FORGED)");
  CHECK(Escaped("\x1B[31mred\x1B[0m") == "\\u{001B}[31mred\\u{001B}[0m");
  CHECK(Escaped("tab\there\r") == "tab\\there\\r");
  CHECK(Escaped("back\\slash") == "back\\\\slash");
  CHECK(Escaped(std::string("nul\0x", 5)) == "nul\\u{0000}x");
  CHECK(Escaped("\x7F") == "\\u{007F}");
  CHECK(Escaped("\xC2\x85") == "\\u{0085}");                 // C1 NEL
  CHECK(Escaped("\xE2\x80\xAE" "evil") == "\\u{202E}evil");  // right-to-left override
  CHECK(Escaped("Jos\xE9") == "Jos\\xE9");
  CHECK(Escaped("\xED\xA0\x80") == "\\xED\\xA0\\x80");
  // The escaped form is itself valid UTF-8 with no control characters.
  const std::string hostile = "\xFF\n\x1B\xC3\x28\xE2\x80\xAE\x00";
  const std::string escaped = Escaped(hostile);
  CHECK(IsValidUtf8(escaped));
  for (char c : escaped) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

}  // namespace
}  // namespace cairn::internal
