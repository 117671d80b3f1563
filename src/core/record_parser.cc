#include "core/record_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace tally {

static_assert(kRecordPadding >= simdjson::SIMDJSON_PADDING, "callers must pad for simdjson");

namespace {

const char* JsonTypeName(simdjson::dom::element_type type) {
  using T = simdjson::dom::element_type;
  switch (type) {
    case T::ARRAY: return "an array";
    case T::OBJECT: return "an object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE: return "a number";
    case T::STRING: return "a string";
    case T::BOOL: return "a boolean";
    case T::NULL_VALUE: return "null";
  }
  return "an unknown type";
}

// floor(log10(|x|)) of an RFC 8259 number x, computed on its digits (exactly,
// saturating far beyond any double); a very negative value for zero.
int64_t DecimalExponent(std::string_view number) {
  constexpr int64_t kLimit = 1'000'000'000;
  size_t i = number[0] == '-' ? 1 : 0;
  const size_t int_start = i;
  while (i < number.size() && number[i] >= '0' && number[i] <= '9') ++i;
  const int64_t int_digits = static_cast<int64_t>(i - int_start);
  int64_t magnitude = -kLimit;
  if (number[int_start] != '0') {
    magnitude = int_digits - 1;  // no leading zeros in RFC 8259
  }
  if (i < number.size() && number[i] == '.') {
    for (int64_t k = 1; ++i < number.size() && number[i] >= '0' && number[i] <= '9'; ++k) {
      if (magnitude == -kLimit && number[i] != '0') magnitude = -k;
    }
  }
  if (magnitude == -kLimit) return magnitude;  // zero
  int64_t exponent = 0;
  if (i < number.size()) {  // 'e' or 'E'
    ++i;
    const bool negative = number[i] == '-';
    if (number[i] == '-' || number[i] == '+') ++i;
    for (; i < number.size(); ++i) exponent = std::min(kLimit, exponent * 10 + (number[i] - '0'));
    if (negative) exponent = -exponent;
  }
  return magnitude + exponent;
}

// simdjson refuses numbers it cannot hold (integers beyond 64 bits, decimals
// beyond the double range) with NUMBER_ERROR. RFC 8259 lets a parser set such
// limits, but the record is still JSON: in a field tally ignores such a number
// must not make it invalid, and as CreatedAt it is simply out of range. So
// *out gets the record with each RFC 8259 number of magnitude >= 10^18 replaced
// by one simdjson holds and that is just as far out of range (+-1e300). Returns
// false if there was none: the NUMBER_ERROR stands. Other text is copied as is,
// so a record that is not JSON stays not JSON.
bool ReplaceHugeNumbers(std::string_view bytes, std::string* out) {
  auto digit = [&](size_t i) { return i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9'; };
  // End of the RFC 8259 number that starts at i, or i if none does.
  auto number_end = [&](size_t i) {
    const size_t start = i;
    if (i < bytes.size() && bytes[i] == '-') ++i;
    if (!digit(i)) return start;
    if (bytes[i] == '0') {
      ++i;
    } else {
      while (digit(i)) ++i;
    }
    if (i < bytes.size() && bytes[i] == '.' && digit(i + 1)) {
      for (++i; digit(i);) ++i;
    }
    if (i < bytes.size() && (bytes[i] == 'e' || bytes[i] == 'E')) {
      size_t j = i + 1;
      if (j < bytes.size() && (bytes[j] == '+' || bytes[j] == '-')) ++j;
      if (digit(j)) {
        for (i = j; digit(i);) ++i;
      }
    }
    return i;
  };
  out->clear();
  bool replaced = false;
  for (size_t i = 0; i < bytes.size();) {
    size_t end = i + 1;
    if (bytes[i] == '"') {  // a string: copied through its closing quote
      while (end < bytes.size() && bytes[end] != '"') end += bytes[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, bytes.size());
    } else if (const size_t number = number_end(i); number > i) {
      end = number;
      const std::string_view text = bytes.substr(i, end - i);
      if (DecimalExponent(text) >= 18) {
        out->append(text[0] == '-' ? "-1e300" : "1e300");
        replaced = true;
        i = end;
        continue;
      }
    }
    out->append(bytes.substr(i, end - i));
    i = end;
  }
  return replaced;
}

}  // namespace

struct RecordParser::Impl {
  Impl(FieldNames n, EventTimeParser t) : names(std::move(n)), time(t) {}

  FieldNames names;
  EventTimeParser time;
  simdjson::dom::parser parser;
  std::vector<char> scratch;  // padded copy of records that arrive unpadded
  std::string rewritten;      // a record with huge numbers replaced (rare)
};

RecordParser::RecordParser(FieldNames names, EventTimeParser time_parser, size_t max_record_bytes)
    : impl_(std::make_unique<Impl>(std::move(names), time_parser)),
      max_record_bytes_(max_record_bytes) {}

RecordParser::~RecordParser() = default;

std::string RecordParser::TooLargeDetail(uint64_t size) const {
  return absl::StrCat("record is ", size, " bytes, over the limit of ", max_record_bytes_, " (--max-record-bytes)",
                      size > kTooLargeKeptBytes ? absl::StrCat("; its first ", kTooLargeKeptBytes, " bytes are kept")
                                                : std::string());
}

bool RecordParser::Parse(std::string_view bytes, bool padded, Event* event, Error* error) {
  auto fail = [error](DeadLetterReason reason, std::string detail) {
    error->reason = reason;
    error->detail = std::move(detail);
    return false;
  };
  if (bytes.size() > max_record_bytes_) return fail(DeadLetterReason::kTooLarge, TooLargeDetail(bytes.size()));
  Impl& m = *impl_;
  const char* data = bytes.data();
  if (!padded) {
    m.scratch.resize(bytes.size() + simdjson::SIMDJSON_PADDING);
    if (!bytes.empty()) std::memcpy(m.scratch.data(), bytes.data(), bytes.size());
    data = m.scratch.data();
  }

  simdjson::dom::element root;
  auto err = m.parser.parse(data, bytes.size(), false).get(root);
  if (err == simdjson::NUMBER_ERROR && ReplaceHugeNumbers(bytes, &m.rewritten)) {
    m.scratch.resize(m.rewritten.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(m.scratch.data(), m.rewritten.data(), m.rewritten.size());
    err = m.parser.parse(m.scratch.data(), m.rewritten.size(), false).get(root);
  }
  if (err) {
    if (err == simdjson::UTF8_ERROR) return fail(DeadLetterReason::kNotUtf8, "record is not valid UTF-8");
    return fail(DeadLetterReason::kNotJson,
                absl::StrCat("record is not JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    return fail(DeadLetterReason::kNotObject,
                absl::StrCat("record is ", JsonTypeName(root.type()), ", not a JSON object"));
  }

  // One pass over the fields; a repeated name overwrites (last one wins).
  simdjson::dom::element fields[4];
  bool present[4] = {false, false, false, false};
  const std::string* names[4] = {&m.names.event_id, &m.names.user_id, &m.names.event_name,
                                 &m.names.created_at};
  for (simdjson::dom::key_value_pair field : object) {
    for (int i = 0; i < 4; ++i) {
      if (field.key == *names[i]) {
        fields[i] = field.value;
        present[i] = true;
        break;
      }
    }
  }
  for (int i = 0; i < 4; ++i) {
    if (!present[i]) return fail(DeadLetterReason::kMissingField, absl::StrCat("missing field ", *names[i]));
  }

  // Strings first: both UUIDs and the event name.
  std::string_view text[3];
  for (int i = 0; i < 3; ++i) {
    if (fields[i].get_string().get(text[i])) {
      return fail(DeadLetterReason::kWrongType, absl::StrCat("field ", *names[i], " must be a string, not ",
                                                             JsonTypeName(fields[i].type())));
    }
  }
  if (!ParseUuid(text[0], &event->event_id)) {
    return fail(DeadLetterReason::kBadUuid,
                absl::StrCat("field ", *names[0], " is not a UUID (8-4-4-4-12 hex digits)"));
  }
  if (!ParseUuid(text[1], &event->user_id)) {
    return fail(DeadLetterReason::kBadUuid,
                absl::StrCat("field ", *names[1], " is not a UUID (8-4-4-4-12 hex digits)"));
  }
  if (text[2].empty()) {
    return fail(DeadLetterReason::kEmptyEventName, absl::StrCat("field ", *names[2], " is empty"));
  }

  const simdjson::dom::element& created = fields[3];
  TimeResult time;
  switch (created.type()) {
    case simdjson::dom::element_type::STRING:
      time = m.time.ParseText(created.get_string().value_unsafe(), &event->event_time);
      break;
    case simdjson::dom::element_type::INT64:
      time = m.time.FromSeconds(created.get_int64().value_unsafe(), &event->event_time);
      break;
    case simdjson::dom::element_type::UINT64:  // above INT64_MAX: far past 2100
      time = {TimeError::kOutOfRange, "event time is outside [1970-01-01T00:00:00Z, 2100-01-01T00:00:00Z)"};
      break;
    case simdjson::dom::element_type::DOUBLE:
      time = m.time.FromSeconds(created.get_double().value_unsafe(), &event->event_time);
      break;
    default:
      return fail(DeadLetterReason::kWrongType, absl::StrCat("field ", *names[3], " must be a string or a number, not ",
                                                             JsonTypeName(created.type())));
  }
  if (time.error != TimeError::kOk) {
    return fail(time.error == TimeError::kOutOfRange ? DeadLetterReason::kTimeOutOfRange
                                                     : DeadLetterReason::kBadTime,
                absl::StrCat("field ", *names[3], ": ", time.why));
  }
  return true;
}

}  // namespace tally
