#include "core/uuid.h"

#include <array>

namespace tally {
namespace {

constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}
constexpr std::array<int8_t, 256> kHex = MakeHexTable();

// Reads `digits` hex digits starting at p into the low bits of *acc.
inline bool ReadHex(const char* p, int digits, uint64_t* acc) {
  uint64_t v = *acc;
  int bad = 0;
  for (int i = 0; i < digits; ++i) {
    int8_t d = kHex[static_cast<uint8_t>(p[i])];
    bad |= d;  // any -1 sets the sign bit
    v = (v << 4) | static_cast<uint64_t>(d & 0xF);
  }
  *acc = v;
  return bad >= 0;
}

}  // namespace

bool ParseUuid(std::string_view text, Uuid* out) {
  if (text.size() != kUuidTextLength) return false;
  const char* p = text.data();
  if (p[8] != '-' || p[13] != '-' || p[18] != '-' || p[23] != '-') return false;
  uint64_t hi = 0, lo = 0;
  bool ok = ReadHex(p, 8, &hi) & ReadHex(p + 9, 4, &hi) & ReadHex(p + 14, 4, &hi) &
            ReadHex(p + 19, 4, &lo) & ReadHex(p + 24, 12, &lo);
  if (!ok) return false;
  out->hi = hi;
  out->lo = lo;
  return true;
}

void FormatUuid(const Uuid& id, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  auto put = [&](uint64_t word, int first_nibble, int count, char* dst) {
    for (int i = 0; i < count; ++i) {
      int shift = 4 * (15 - (first_nibble + i));
      dst[i] = kDigits[(word >> shift) & 0xF];
    }
  };
  put(id.hi, 0, 8, out);
  out[8] = '-';
  put(id.hi, 8, 4, out + 9);
  out[13] = '-';
  put(id.hi, 12, 4, out + 14);
  out[18] = '-';
  put(id.lo, 0, 4, out + 19);
  out[23] = '-';
  put(id.lo, 4, 12, out + 24);
}

std::string FormatUuid(const Uuid& id) {
  std::string s(kUuidTextLength, '\0');
  FormatUuid(id, s.data());
  return s;
}

}  // namespace tally
