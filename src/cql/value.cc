#include "cql/value.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace tally::cql {
namespace {

constexpr uint32_t kDateEpoch = 1u << 31;

void StoreBigEndian(uint64_t v, int bytes, char* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t LoadBigEndian(absl::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

absl::Status WrongSize(const char* type, size_t want, size_t got) {
  return absl::InvalidArgumentError(absl::StrCat("a ", type, " value has ", want, " bytes, not ", got));
}

}  // namespace

Value Value::Unset() {
  Value v;
  v.length_ = -2;
  return v;
}

void Value::Assign(const char* data, size_t n) {
  length_ = static_cast<int32_t>(n);
  if (n <= kInline) {
    if (n) std::memcpy(inline_.data(), data, n);
    large_.clear();
  } else {
    large_.assign(data, n);
  }
}

Value Value::Serialized(absl::string_view bytes) {
  Value v;
  v.Assign(bytes.data(), bytes.size());
  return v;
}

Value Value::FromUuid(const Uuid& u) {
  char b[16];
  StoreBigEndian(u.hi, 8, b);
  StoreBigEndian(u.lo, 8, b + 8);
  Value v;
  v.Assign(b, 16);
  return v;
}

Value Value::FromDate(Day day) {
  char b[4];
  StoreBigEndian(static_cast<uint32_t>(day) + kDateEpoch, 4, b);  // wraps as the spec's unsigned form wants
  Value v;
  v.Assign(b, 4);
  return v;
}

Value Value::FromBigint(int64_t x) {
  char b[8];
  StoreBigEndian(static_cast<uint64_t>(x), 8, b);
  Value v;
  v.Assign(b, 8);
  return v;
}

Value Value::FromInt(int32_t x) {
  char b[4];
  StoreBigEndian(static_cast<uint32_t>(x), 4, b);
  Value v;
  v.Assign(b, 4);
  return v;
}

Value Value::FromBoolean(bool x) {
  const char b = x ? 1 : 0;
  Value v;
  v.Assign(&b, 1);
  return v;
}

Value Value::FromTimestamp(int64_t millis) { return FromBigint(millis); }

Value Value::FromText(absl::string_view utf8) { return Serialized(utf8); }

absl::string_view Value::bytes() const {
  if (length_ <= 0) return {};
  if (static_cast<size_t>(length_) <= kInline) return absl::string_view(inline_.data(), static_cast<size_t>(length_));
  return large_;
}

void Value::EncodeTo(WireWriter* w) const {
  if (length_ < 0) return w->PutInt(length_);
  w->PutValue(bytes());
}

absl::StatusOr<Uuid> DecodeUuid(absl::string_view b) {
  if (b.size() != 16) return WrongSize("uuid", 16, b.size());
  return Uuid{LoadBigEndian(b.substr(0, 8)), LoadBigEndian(b.substr(8, 8))};
}

absl::StatusOr<Day> DecodeDate(absl::string_view b) {
  if (b.size() != 4) return WrongSize("date", 4, b.size());
  return static_cast<Day>(static_cast<uint32_t>(LoadBigEndian(b)) - kDateEpoch);
}

absl::StatusOr<int64_t> DecodeBigint(absl::string_view b) {
  if (b.size() != 8) return WrongSize("bigint", 8, b.size());
  return static_cast<int64_t>(LoadBigEndian(b));
}

absl::StatusOr<int32_t> DecodeInt(absl::string_view b) {
  if (b.size() != 4) return WrongSize("int", 4, b.size());
  return static_cast<int32_t>(static_cast<uint32_t>(LoadBigEndian(b)));
}

absl::StatusOr<bool> DecodeBoolean(absl::string_view b) {
  if (b.size() != 1) return WrongSize("boolean", 1, b.size());
  return b[0] != 0;
}

absl::StatusOr<int64_t> DecodeTimestamp(absl::string_view b) {
  if (b.size() != 8) return WrongSize("timestamp", 8, b.size());
  return static_cast<int64_t>(LoadBigEndian(b));
}

}  // namespace tally::cql
