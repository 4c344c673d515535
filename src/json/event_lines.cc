// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "json/event_lines.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/charconv.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "json/json.h"
#include "util/utf8.h"

namespace cairn::json {

namespace {

using Object = std::vector<std::pair<std::string, JsonValue>>;

absl::StatusOr<JsonValue> ParseObject(absl::string_view line) {
  absl::StatusOr<JsonValue> v = ParseJson(line);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("not a JSON object: ",
                                                              v.status().message()));
  if (v->type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return v;
}

const JsonValue* Find(const Object& object, absl::string_view key) {
  for (const auto& [k, v] : object) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<std::string> StringField(const Object& object, absl::string_view key,
                                        bool required) {
  const JsonValue* v = Find(object, key);
  if (v == nullptr) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("missing \"", key, "\""));
    return std::string();
  }
  if (v->type != JsonValue::Type::kString) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be a string"));
  }
  if (required && v->string.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" is empty"));
  }
  return v->string;
}

absl::Status CheckKeys(const Object& object, std::initializer_list<absl::string_view> known) {
  for (const auto& [key, value] : object) {
    bool ok = false;
    for (absl::string_view k : known) ok = ok || key == k;
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown field \"", internal::Escaped(key), "\""));
    }
  }
  return absl::OkStatus();
}

// One JSON value as a Value; `what` and `key` name it in errors.
absl::StatusOr<Value> ToValue(const JsonValue& v, absl::string_view what, absl::string_view key) {
  switch (v.type) {
    case JsonValue::Type::kString:
      return Value::String(v.string);
    case JsonValue::Type::kBool:
      return Value::Bool(v.boolean);
    case JsonValue::Type::kNumber: {
      const double d = v.number;
      if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
        return Value::Int(static_cast<int64_t>(d));
      }
      return Value::Double(d);
    }
    case JsonValue::Type::kArray: {
      std::vector<std::string> items;
      for (const JsonValue& item : v.array) {
        if (item.type != JsonValue::Type::kString) {
          return absl::InvalidArgumentError(absl::StrCat(
              what, " \"", internal::Escaped(key), "\": lists may only hold strings"));
        }
        items.push_back(item.string);
      }
      return Value::StringList(std::move(items));
    }
    case JsonValue::Type::kNull:
      return Value();
    case JsonValue::Type::kObject:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, " \"", internal::Escaped(key), "\": nested objects are not supported"));
}

absl::StatusOr<Attributes> ToAttributes(const Object& object, absl::string_view what) {
  Attributes out;
  out.reserve(object.size());
  for (const auto& [key, v] : object) {
    absl::StatusOr<Value> value = ToValue(v, what, key);
    if (!value.ok()) return value.status();
    out.emplace_back(key, *std::move(value));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

absl::StatusOr<Attributes> ObjectField(const Object& object, absl::string_view key,
                                       absl::string_view what) {
  const JsonValue* v = Find(object, key);
  if (v == nullptr) return Attributes();
  if (v->type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be an object"));
  }
  return ToAttributes(v->object, what);
}

// ---- The fast path of ParseEventLine ----
//
// Reads an event line straight into an Event in one pass: no JsonValue tree,
// no key strings. It only ever accepts lines the tree-based path (ParseObject
// + EventFromJson) accepts, with the same Event. Anything else, malformed or
// merely unusual (an escaped top-level key, a leap second, a time with
// escapes), makes it give up, and the tree-based path then decides and words
// any error; so error messages and their precedence (syntax before fields)
// need no second implementation.

// Days from 1970-01-01 to the first of January of `year`, for years >= 1.
int64_t DaysToYear(int64_t year) {
  const int64_t y = year - 1;
  // Leap days in years 1..year-1, minus the 719,162 days from 0001-01-01 to
  // the epoch.
  return 365 * y + y / 4 - y / 100 + y / 400 - 719162;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads `n` decimal digits at `p`; false unless all are digits.
bool Digits(const char* p, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  *out = v;
  return true;
}

// The common form of event times, "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z", much
// faster than absl::ParseTime and giving the same absl::Time. False for
// anything else (offsets, leap seconds, year 0, more than nine fraction
// digits, out-of-range fields), which the caller hands to absl::ParseTime.
bool ParseUtcTime(absl::string_view s, absl::Time* out) {
  if (s.size() < 20) return false;
  const char* p = s.data();
  int year, month, day, hour, minute, second;
  if (!Digits(p, 4, &year) || p[4] != '-' || !Digits(p + 5, 2, &month) || p[7] != '-' ||
      !Digits(p + 8, 2, &day) || p[10] != 'T' || !Digits(p + 11, 2, &hour) || p[13] != ':' ||
      !Digits(p + 14, 2, &minute) || p[16] != ':' || !Digits(p + 17, 2, &second)) {
    return false;
  }
  static constexpr int kDaysBeforeMonth[12] = {0,   31,  59,  90,  120, 151,
                                               181, 212, 243, 273, 304, 334};
  static constexpr int kDaysInMonth[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 ||
      second > 59) {
    return false;
  }
  const bool leap = IsLeapYear(year);
  if (day > kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  size_t i = 19;
  int64_t nanos = 0;
  if (s[i] == '.') {
    ++i;
    const size_t first = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - first == 9) return false;
      nanos = nanos * 10 + (s[i] - '0');
      ++i;
    }
    if (i == first) return false;
    for (size_t n = i - first; n < 9; ++n) nanos *= 10;
  }
  if (i + 1 != s.size() || s[i] != 'Z') return false;
  const int64_t days = DaysToYear(year) + kDaysBeforeMonth[month - 1] +
                       (month > 2 && leap ? 1 : 0) + day - 1;
  *out = absl::FromUnixSeconds(days * 86400 + hour * 3600 + minute * 60 + second) +
         absl::Nanoseconds(nanos);
  return true;
}

class EventLineReader {
 public:
  explicit EventLineReader(absl::string_view line)
      : p_(line.data()), end_(line.data() + line.size()) {}

  // True, with *out filled, when the line is an event the tree-based path
  // accepts; false (and *out unspecified) otherwise.
  bool Read(Event* out) {
    SkipSpace();
    if (!Consume('{')) return false;
    absl::string_view time;
    unsigned seen = 0;
    SkipSpace();
    if (!Consume('}')) {
      while (true) {
        SkipSpace();
        absl::string_view key;
        if (!Consume('"') || !RawString(&key)) return false;
        SkipSpace();
        if (!Consume(':')) return false;
        SkipSpace();
        const unsigned field = FieldBit(key);
        if (field == 0 || (seen & field) != 0) return false;  // Unknown or duplicate.
        seen |= field;
        bool ok;
        switch (field) {
          case kId: ok = StringValue(&out->id); break;
          case kSubject: ok = StringValue(&out->subject_id); break;
          case kSubjectType: ok = StringValue(&out->subject_type); break;
          case kName: ok = StringValue(&out->name); break;
          case kTime: ok = Consume('"') && RawString(&time); break;
          default: ok = Properties(&out->properties); break;
        }
        if (!ok) return false;
        SkipSpace();
        if (Consume(',')) continue;
        if (Consume('}')) break;
        return false;
      }
    }
    SkipSpace();
    if (p_ != end_) return false;
    // Required fields, then the time: absl::ParseTime for the unusual forms.
    if ((seen & kSubject) == 0 || out->subject_id.empty() || (seen & kName) == 0 ||
        out->name.empty() || (seen & kTime) == 0) {
      return false;
    }
    if (!ParseUtcTime(time, &out->time)) {
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, time, &out->time, &error)) return false;
    }
    return true;
  }

 private:
  enum Field : unsigned {
    kId = 1,
    kSubject = 2,
    kSubjectType = 4,
    kName = 8,
    kTime = 16,
    kProperties = 32
  };

  static unsigned FieldBit(absl::string_view key) {
    if (key == "subject") return kSubject;
    if (key == "name") return kName;
    if (key == "time") return kTime;
    if (key == "properties") return kProperties;
    if (key == "id") return kId;
    if (key == "subject_type") return kSubjectType;
    return 0;
  }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool Consume(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  bool ConsumeWord(absl::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // After the opening quote: the string's bytes up to the closing quote,
  // which must hold no escape (left to the tree-based path) and no control
  // character (an error).
  bool RawString(absl::string_view* out) {
    const char* start = p_;
    while (p_ != end_ && *p_ != '"') {
      if (*p_ == '\\' || static_cast<unsigned char>(*p_) < 0x20) return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = absl::string_view(start, p_ - start);
    ++p_;
    return true;
  }

  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = JsonHexDigit(p_[i]);
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    p_ += 4;
    *out = v;
    return true;
  }

  // A JSON string, escapes decoded as the generic reader decodes them, into
  // *out (replacing its contents).
  bool StringValue(std::string* out) {
    if (!Consume('"')) return false;
    out->clear();
    while (true) {
      // The plain run up to the next quote or escape, in one append.
      const char* start = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\') {
        if (static_cast<unsigned char>(*p_) < 0x20) return false;
        ++p_;
      }
      out->append(start, p_ - start);
      if (p_ == end_) return false;
      if (*p_++ == '"') return true;
      if (p_ == end_) return false;
      const char c = *p_++;
      if (const int e = JsonSimpleEscape(c); e >= 0) {
        out->push_back(static_cast<char>(e));
        continue;
      }
      if (c != 'u') return false;
      uint32_t cp;
      if (!Hex4(&cp)) return false;
      if (IsHighSurrogate(cp)) {  // Needs a low one.
        uint32_t low;
        if (!ConsumeWord("\\u") || !Hex4(&low) || !IsLowSurrogate(low)) return false;
        cp = CombineSurrogates(cp, low);
      } else if (IsLowSurrogate(cp)) {
        return false;
      }
      AppendUtf8(cp, out);
    }
  }

  // A JSON number, as ToAttributes converts it: integral values below 2^53
  // in magnitude become ints, others doubles.
  bool Number(Value* out) {
    const char* start = p_;
    const bool negative = Consume('-');
    const char* int_start = p_;
    // Up to 15 digits: below 2^53, so exact both here and as a double.
    int64_t integer = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9' && p_ - int_start < 15) {
      integer = integer * 10 + (*p_++ - '0');
    }
    const ptrdiff_t int_digits = p_ - int_start;
    if (int_digits == 0 || (*int_start == '0' && int_digits > 1)) return false;
    if (p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E' && (*p_ < '0' || *p_ > '9'))) {
      *out = Value::Int(negative ? -integer : integer);
      return true;
    }
    return SlowNumber(start, out);
  }

  // The general number grammar from `start`, converted through a double
  // exactly as the tree-based path does.
  bool SlowNumber(const char* start, Value* out) {
    p_ = start;
    Consume('-');
    auto digits = [&] {
      const char* from = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ - from;
    };
    const char* int_start = p_;
    if (digits() == 0 || (*int_start == '0' && p_ - int_start > 1)) return false;
    if (Consume('.') && digits() == 0) return false;
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (digits() == 0) return false;
    }
    double d;
    if (absl::from_chars(start, p_, d).ec != std::errc()) return false;
    if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
      *out = Value::Int(static_cast<int64_t>(d));
    } else {
      *out = Value::Double(d);
    }
    return true;
  }

  // A property value; false for the kinds properties may not hold (objects,
  // lists of anything but strings), left to the tree-based path to report.
  bool PropertyValue(Value* out) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '"': {
        std::string s;
        if (!StringValue(&s)) return false;
        *out = Value::String(std::move(s));
        return true;
      }
      case 't':
        *out = Value::Bool(true);
        return ConsumeWord("true");
      case 'f':
        *out = Value::Bool(false);
        return ConsumeWord("false");
      case 'n':
        return ConsumeWord("null");  // *out stays null.
      case '[': {
        ++p_;
        std::vector<std::string> items;
        SkipSpace();
        if (!Consume(']')) {
          while (true) {
            SkipSpace();
            if (!StringValue(&items.emplace_back())) return false;
            SkipSpace();
            if (Consume(',')) continue;
            if (Consume(']')) break;
            return false;
          }
        }
        *out = Value::StringList(std::move(items));
        return true;
      }
      default:
        return Number(out);
    }
  }

  // The "properties" object, sorted by name as ToAttributes sorts it.
  bool Properties(Attributes* out) {
    if (!Consume('{')) return false;
    SkipSpace();
    if (!Consume('}')) {
      while (true) {
        SkipSpace();
        auto& [key, value] = out->emplace_back();
        if (!StringValue(&key)) return false;
        SkipSpace();
        if (!Consume(':')) return false;
        SkipSpace();
        if (!PropertyValue(&value)) return false;
        SkipSpace();
        if (Consume(',')) continue;
        if (Consume('}')) break;
        return false;
      }
    }
    std::sort(out->begin(), out->end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // A duplicate key is a syntax error, which the tree-based path words.
    for (size_t i = 1; i < out->size(); ++i) {
      if ((*out)[i - 1].first == (*out)[i].first) return false;
    }
    return true;
  }

  const char* p_;
  const char* const end_;
};

}  // namespace

absl::StatusOr<JsonValue> ParseJsonObject(absl::string_view text) { return ParseObject(text); }

absl::Status CheckJsonKeys(const JsonValue& object,
                           std::initializer_list<absl::string_view> known) {
  return CheckKeys(object.object, known);
}

absl::StatusOr<std::string> JsonStringField(const JsonValue& object, absl::string_view key,
                                            bool required) {
  return StringField(object.object, key, required);
}

absl::StatusOr<absl::Time> JsonTimeField(const JsonValue& object, absl::string_view key) {
  absl::StatusOr<std::string> s = StringField(object.object, key, true);
  if (!s.ok()) return s.status();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, *s, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" \"", internal::Escaped(*s),
                     "\" is not an RFC 3339 time: ", error));
  }
  return t;
}

absl::StatusOr<Attributes> JsonAttributesField(const JsonValue& object, absl::string_view key,
                                               absl::string_view what) {
  return ObjectField(object.object, key, what);
}

absl::StatusOr<Value> JsonValueField(const JsonValue& object, absl::string_view key) {
  const JsonValue* v = Find(object.object, key);
  if (v == nullptr) return Value();
  return ToValue(*v, "field", key);
}

absl::StatusOr<Event> EventFromJson(const JsonValue& json) {
  const Object& object = json.object;
  absl::Status keys =
      CheckKeys(object, {"id", "subject", "subject_type", "name", "time", "properties"});
  if (!keys.ok()) return keys;
  Event e;
  absl::StatusOr<std::string> s = StringField(object, "subject", true);
  if (!s.ok()) return s.status();
  e.subject_id = *std::move(s);
  if (!(s = StringField(object, "name", true)).ok()) return s.status();
  e.name = *std::move(s);
  if (!(s = StringField(object, "id", false)).ok()) return s.status();
  e.id = *std::move(s);
  if (!(s = StringField(object, "subject_type", false)).ok()) return s.status();
  e.subject_type = *std::move(s);
  absl::StatusOr<absl::Time> time = JsonTimeField(json, "time");
  if (!time.ok()) return time.status();
  e.time = *time;
  absl::StatusOr<Attributes> props = ObjectField(object, "properties", "property");
  if (!props.ok()) return props.status();
  e.properties = *std::move(props);
  return e;
}

bool ParseEventLineFast(absl::string_view line, Event* out) {
  return EventLineReader(line).Read(out);
}

absl::StatusOr<Event> ParseEventLine(absl::string_view line) {
  Event e;
  if (ParseEventLineFast(line, &e)) return e;
  // Malformed, or a construct the fast reader leaves alone: the tree-based
  // path gives the result and the error message.
  absl::StatusOr<JsonValue> parsed = ParseObject(line);
  if (!parsed.ok()) return parsed.status();
  return EventFromJson(*parsed);
}

namespace {

// A profile line's fields other than "time" (which the caller checks).
absl::StatusOr<ProfileLine> ProfileFromObject(const Object& object) {
  ProfileLine p;
  absl::StatusOr<std::string> s = StringField(object, "subject", true);
  if (!s.ok()) return s.status();
  p.subject_id = *std::move(s);
  if (!(s = StringField(object, "subject_type", false)).ok()) return s.status();
  p.subject_type = *std::move(s);
  absl::StatusOr<Attributes> attrs = ObjectField(object, "attributes", "attribute");
  if (!attrs.ok()) return attrs.status();
  p.attributes = *std::move(attrs);
  return p;
}

}  // namespace

absl::StatusOr<ProfileLine> ParseProfileLine(absl::string_view line) {
  absl::StatusOr<JsonValue> parsed = ParseObject(line);
  if (!parsed.ok()) return parsed.status();
  const Object& object = parsed->object;
  absl::Status keys = CheckKeys(object, {"subject", "subject_type", "attributes", "time"});
  if (!keys.ok()) return keys;
  if (Find(object, "time") != nullptr) {
    return absl::InvalidArgumentError(
        "a profile line has no \"time\": profiles are the state before the log begins; put a "
        "timed profile update in the event log instead");
  }
  return ProfileFromObject(object);
}

namespace {

// An erasure or merge line's subject, type and time, into *out.
absl::Status SubjectLineInto(const JsonValue& parsed, LogLine* out) {
  absl::StatusOr<std::string> subject = JsonStringField(parsed, "subject", true);
  if (!subject.ok()) return subject.status();
  absl::StatusOr<std::string> type = JsonStringField(parsed, "subject_type", false);
  if (!type.ok()) return type.status();
  absl::StatusOr<absl::Time> time = JsonTimeField(parsed, "time");
  if (!time.ok()) return time.status();
  out->profile.subject_id = *std::move(subject);
  out->profile.subject_type = *std::move(type);
  out->profile.attributes.clear();
  out->time = *time;
  out->is_profile = false;
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseLogLine(absl::string_view line, LogLine* out) {
  out->is_erasure = false;
  out->is_merge = false;
  if (ParseEventLineFast(line, &out->event)) {
    out->is_profile = false;
    out->time = out->event.time;
    return absl::OkStatus();
  }
  absl::StatusOr<JsonValue> parsed = ParseObject(line);
  if (!parsed.ok()) return parsed.status();
  const Object& object = parsed->object;
  if (Find(object, "merge_from") != nullptr) {
    absl::Status keys = CheckKeys(object, {"subject", "subject_type", "time", "merge_from"});
    if (!keys.ok()) return keys;
    absl::StatusOr<std::string> from = JsonStringField(*parsed, "merge_from", true);
    if (!from.ok()) return from.status();
    out->merge_from = *std::move(from);
    out->is_merge = true;
    return SubjectLineInto(*parsed, out);
  }
  if (const JsonValue* forget = Find(object, "forget")) {
    absl::Status keys = CheckKeys(object, {"subject", "subject_type", "time", "forget"});
    if (!keys.ok()) return keys;
    if (forget->type != JsonValue::Type::kBool || !forget->boolean) {
      return absl::InvalidArgumentError("\"forget\" must be true (an erasure line)");
    }
    out->is_erasure = true;
    return SubjectLineInto(*parsed, out);
  }
  if (Find(object, "attributes") == nullptr) {
    absl::StatusOr<Event> e = EventFromJson(*parsed);
    if (!e.ok()) return e.status();
    out->event = *std::move(e);
    out->is_profile = false;
    out->time = out->event.time;
    return absl::OkStatus();
  }
  absl::Status keys = CheckKeys(object, {"subject", "subject_type", "time", "attributes"});
  if (!keys.ok()) return keys;
  absl::StatusOr<absl::Time> time = JsonTimeField(*parsed, "time");
  if (!time.ok()) return time.status();
  absl::StatusOr<ProfileLine> p = ProfileFromObject(object);
  if (!p.ok()) return p.status();
  out->profile = *std::move(p);
  out->time = *time;
  out->is_profile = true;
  return absl::OkStatus();
}

std::string FormatEventTime(absl::Time t) {
  // %E4Y: years before 1000 keep four digits, as RFC 3339 requires.
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace cairn::json
