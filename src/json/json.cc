// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "json/json.h"

#include <algorithm>
#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/charconv.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/utf8.h"

namespace cairn::json {
namespace {

class Parser {
 public:
  Parser(absl::string_view text, const JsonReadOptions& options)
      : text_(text), options_(options) {}

  absl::StatusOr<JsonValue> Document() {
    JsonValue v;
    if (!Value(&v, 0)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the value");
      return Error();
    }
    return v;
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(absl::StrCat(Where(error_offset_), ": ", error_));
  }
  // Lines and columns are counted only here, on the way out with an error,
  // so that reading a well-formed document pays nothing for them.
  std::string Where(size_t offset) const {
    if (!options_.lines) return absl::StrCat("column ", offset + 1);
    const TextPosition at = PositionAt(text_, offset);
    return absl::StrCat(at.line, ":", at.column);
  }
  bool Fail(absl::string_view message) { return FailAt(pos_, message); }
  bool FailAt(size_t offset, absl::string_view message) {
    error_offset_ = offset;
    error_ = std::string(message);
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool Value(JsonValue* out, int depth) {
    if (depth > options_.max_depth) return Fail("nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end of input");
    out->offset = pos_;
    switch (text_[pos_]) {
      case '{':
        return Object(out, depth);
      case '[':
        return Array(out, depth);
      case '"':
        out->type = JsonValue::Type::kString;
        return String(&out->string);
      case 't':
        out->type = JsonValue::Type::kBool;
        out->boolean = true;
        return Literal("true");
      case 'f':
        out->type = JsonValue::Type::kBool;
        return Literal("false");
      case 'n':
        out->type = JsonValue::Type::kNull;
        return Literal("null");
      default:
        return Number(out);
    }
  }

  bool Object(JsonValue* out, int depth) {
    out->type = JsonValue::Type::kObject;
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    // This object's keys start at key_starts_[first_key]; the objects nested
    // in it push theirs above and pop them when they end.
    const size_t first_key = key_starts_.size();
    // The index of each key in out->object, once the object has too many
    // keys to compare a new one with each of them (which made an object of
    // n keys cost n^2 / 2 comparisons).
    absl::flat_hash_map<std::string, size_t> index;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a key string");
      const size_t key_start = pos_;
      std::string key;
      if (!String(&key)) return false;
      const size_t count = out->object.size();
      if (const size_t first = FindKey(out->object, index, key); first != count) {
        // protobuf's JSON parser lets the second replace the first, which
        // silently changes a journey; here it is an error wherever it is.
        // The key is the input's: escaped, it cannot forge a log line.
        const std::string message =
            absl::StrCat("duplicate key \"", internal::Escaped(key), "\" (first at ",
                         Where(key_starts_[first_key + first]), ")");
        return FailAt(key_start, message);
      }
      if (count == kMaxScannedKeys) {
        index.reserve(2 * kMaxScannedKeys);
        for (size_t i = 0; i < count; ++i) index.emplace(out->object[i].first, i);
      }
      if (count >= kMaxScannedKeys) index.emplace(key, count);
      key_starts_.push_back(key_start);
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      out->object.emplace_back(std::move(key), JsonValue());
      JsonValue& member = out->object.back().second;
      if (!Value(&member, depth + 1)) return false;
      member.offset = key_start;
      bool more;
      if (!Separator('}', &more)) return false;
      if (!more) {
        key_starts_.resize(first_key);
        return true;
      }
    }
  }

  // Objects with up to this many keys find a repeated key by comparing it
  // with each earlier one, which for the few keys of an event line is
  // cheaper than hashing; larger ones keep an index.
  static constexpr size_t kMaxScannedKeys = 16;

  // The position in `object` of `key`, or object.size() if it is new.
  // `index` is empty until the object holds kMaxScannedKeys keys, and then
  // indexes all of them.
  static size_t FindKey(const std::vector<std::pair<std::string, JsonValue>>& object,
                        const absl::flat_hash_map<std::string, size_t>& index,
                        const std::string& key) {
    if (object.size() > kMaxScannedKeys) {
      const auto it = index.find(key);
      return it == index.end() ? object.size() : it->second;
    }
    for (size_t i = 0; i < object.size(); ++i) {
      if (object[i].first == key) return i;
    }
    return object.size();
  }

  bool Array(JsonValue* out, int depth) {
    out->type = JsonValue::Type::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      out->array.emplace_back();
      if (!Value(&out->array.back(), depth + 1)) return false;
      bool more;
      if (!Separator(']', &more)) return false;
      if (!more) return true;
    }
  }

  // What follows a member of an object or an element of an array: a ',',
  // which must not be the last thing before `close` (*more = true), or
  // `close` (*more = false).
  bool Separator(char close, bool* more) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ',') {
      const size_t comma = pos_++;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == close) return FailAt(comma, "trailing comma");
      *more = true;
      return true;
    }
    if (pos_ < text_.size() && text_[pos_] == close) {
      ++pos_;
      *more = false;
      return true;
    }
    return Fail(absl::StrCat("expected ',' or '", absl::string_view(&close, 1), "'"));
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > text_.size()) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = JsonHexDigit(text_[pos_ + i]);
      if (d < 0) return Fail("invalid \\u escape");
      v = v * 16 + d;
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  bool String(std::string* out) {
    ++pos_;  // '"'
    while (true) {
      // Copy the plain run up to the next quote or escape in one go.
      size_t end = pos_;
      while (end < text_.size() && text_[end] != '"' && text_[end] != '\\') {
        if (static_cast<unsigned char>(text_[end]) < 0x20) {
          pos_ = end;
          return Fail("control character in string");
        }
        ++end;
      }
      out->append(text_.data() + pos_, end - pos_);
      pos_ = end;
      if (pos_ >= text_.size()) return Fail("unterminated string");
      if (text_[pos_] == '"') {
        ++pos_;
        return true;
      }
      ++pos_;  // '\\'
      if (pos_ >= text_.size()) return Fail("unterminated string");
      const char c = text_[pos_++];
      if (const int e = JsonSimpleEscape(c); e >= 0) {
        out->push_back(static_cast<char>(e));
        continue;
      }
      if (c != 'u') return Fail("invalid escape");
      uint32_t cp;
      if (!Hex4(&cp)) return false;
      if (IsHighSurrogate(cp)) {  // Needs a low one.
        uint32_t low;
        if (text_.substr(pos_, 2) != "\\u") return Fail("unpaired surrogate");
        pos_ += 2;
        if (!Hex4(&low) || !IsLowSurrogate(low)) return Fail("unpaired surrogate");
        cp = CombineSurrogates(cp, low);
      } else if (IsLowSurrogate(cp)) {
        return Fail("unpaired surrogate");
      }
      AppendUtf8(cp, out);
    }
  }

  bool Number(JsonValue* out) {
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    const size_t int_start = pos_;
    if (digits() == 0) {
      pos_ = start;
      return Fail("unexpected character");
    }
    if (text_[int_start] == '0' && pos_ - int_start > 1) {
      pos_ = int_start;
      return Fail("leading zero");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return Fail("digits expected after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Fail("digits expected in exponent");
    }
    out->type = JsonValue::Type::kNumber;
    const auto result =
        absl::from_chars(text_.data() + start, text_.data() + pos_, out->number);
    if (result.ec != std::errc()) return Fail("number out of range");
    return true;
  }

  absl::string_view text_;
  const JsonReadOptions options_;
  size_t pos_ = 0;
  // Where each key of the objects being read starts, innermost last; for
  // the "first at" of a duplicate key.
  std::vector<size_t> key_starts_;
  size_t error_offset_ = 0;
  std::string error_;
};

}  // namespace

TextPosition PositionAt(absl::string_view text, size_t offset) {
  const absl::string_view before = text.substr(0, offset);
  const size_t line_end = before.rfind('\n');  // of the line before
  TextPosition at;
  at.line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
  at.column = static_cast<int>(line_end == absl::string_view::npos ? before.size() + 1
                                                                   : before.size() - line_end);
  return at;
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text, const JsonReadOptions& options) {
  return Parser(text, options).Document();
}

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

int JsonHexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int JsonSimpleEscape(char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return -1;
  }
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace cairn::json
