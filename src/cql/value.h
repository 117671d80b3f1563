#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/event_time.h"
#include "core/uuid.h"
#include "cql/wire.h"

namespace tally::cql {

// One bound value of a QUERY, EXECUTE or BATCH: null, unset (leave the column
// as it is), or bytes in the serialization of its CQL type (spec section 6).
// Values of up to 16 bytes (uuid, bigint, date, int, boolean, timestamp) are
// held inline, so building a row of them allocates nothing. A value type.
class Value {
 public:
  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Unset();
  // Bytes already in the serialization of the column's type.
  static Value Serialized(absl::string_view bytes);

  static Value FromUuid(const Uuid& u);          // uuid, timeuuid: 16 bytes
  static Value FromDate(Day day);                // date: uint32 days, 2^31 = 1970-01-01
  static Value FromBigint(int64_t v);            // bigint, counter: 8 bytes
  static Value FromInt(int32_t v);               // int: 4 bytes
  static Value FromBoolean(bool v);              // boolean: 1 byte
  static Value FromTimestamp(int64_t millis);    // timestamp: ms since the epoch
  static Value FromText(absl::string_view utf8); // text, varchar, ascii
  static Value FromBlob(absl::string_view bytes) { return Serialized(bytes); }

  bool is_null() const { return length_ == -1; }
  bool is_unset() const { return length_ == -2; }
  // The [value] length: -1 null, -2 unset, else the byte count.
  int32_t wire_length() const { return length_; }
  // The serialized bytes; empty for null and unset.
  absl::string_view bytes() const;

  // Appends the [value] form.
  void EncodeTo(WireWriter* w) const;

  friend bool operator==(const Value& a, const Value& b) {
    return a.length_ == b.length_ && a.bytes() == b.bytes();
  }

 private:
  static constexpr size_t kInline = 16;
  void Assign(const char* data, size_t n);

  int32_t length_ = -1;
  std::array<char, kInline> inline_{};
  std::string large_;  // when length_ > kInline
};

// Decoders of cell bytes as returned in rows (spec section 6). Each fails with
// InvalidArgument when the byte count does not fit the type.
absl::StatusOr<Uuid> DecodeUuid(absl::string_view bytes);
absl::StatusOr<Day> DecodeDate(absl::string_view bytes);
absl::StatusOr<int64_t> DecodeBigint(absl::string_view bytes);
absl::StatusOr<int32_t> DecodeInt(absl::string_view bytes);
absl::StatusOr<bool> DecodeBoolean(absl::string_view bytes);
absl::StatusOr<int64_t> DecodeTimestamp(absl::string_view bytes);  // ms since the epoch

}  // namespace tally::cql
