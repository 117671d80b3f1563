#include "cql/wire.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tally::cql {
namespace {

constexpr size_t kMaxShort = std::numeric_limits<uint16_t>::max();
constexpr size_t kMaxInt = std::numeric_limits<int32_t>::max();

inline void StoreBigEndian(uint64_t v, int bytes, char* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

inline uint64_t LoadBigEndian(const char* in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace

// --- WireWriter ---

void WireWriter::PutShort(uint16_t v) {
  char b[2];
  StoreBigEndian(v, 2, b);
  out_->append(b, 2);
}

void WireWriter::PutInt(int32_t v) {
  char b[4];
  StoreBigEndian(static_cast<uint32_t>(v), 4, b);
  out_->append(b, 4);
}

void WireWriter::PutLong(int64_t v) {
  char b[8];
  StoreBigEndian(static_cast<uint64_t>(v), 8, b);
  out_->append(b, 8);
}

void WireWriter::Fail(absl::string_view what, size_t n) {
  if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat("cannot encode ", what, " of size ", n));
}

void WireWriter::PutString(absl::string_view s) {
  if (s.size() > kMaxShort) return Fail("[string]", s.size());
  PutShort(static_cast<uint16_t>(s.size()));
  PutRaw(s);
}

void WireWriter::PutLongString(absl::string_view s) {
  if (s.size() > kMaxInt) return Fail("[long string]", s.size());
  PutInt(static_cast<int32_t>(s.size()));
  PutRaw(s);
}

void WireWriter::PutUuid(const Uuid& u) {
  char b[16];
  StoreBigEndian(u.hi, 8, b);
  StoreBigEndian(u.lo, 8, b + 8);
  out_->append(b, 16);
}

void WireWriter::PutStringList(const std::vector<std::string>& list) {
  if (list.size() > kMaxShort) return Fail("[string list]", list.size());
  PutShort(static_cast<uint16_t>(list.size()));
  for (const std::string& s : list) PutString(s);
}

void WireWriter::PutBytes(std::optional<absl::string_view> b) {
  if (!b.has_value()) return PutInt(-1);
  if (b->size() > kMaxInt) return Fail("[bytes]", b->size());
  PutInt(static_cast<int32_t>(b->size()));
  PutRaw(*b);
}

void WireWriter::PutValue(absl::string_view b) {
  if (b.size() > kMaxInt) return Fail("[value]", b.size());
  PutInt(static_cast<int32_t>(b.size()));
  PutRaw(b);
}

void WireWriter::PutShortBytes(absl::string_view b) {
  if (b.size() > kMaxShort) return Fail("[short bytes]", b.size());
  PutShort(static_cast<uint16_t>(b.size()));
  PutRaw(b);
}

void WireWriter::PutStringMap(const StringMap& m) {
  if (m.size() > kMaxShort) return Fail("[string map]", m.size());
  PutShort(static_cast<uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    PutString(k);
    PutString(v);
  }
}

void WireWriter::PutStringMultimap(const StringMultimap& m) {
  if (m.size() > kMaxShort) return Fail("[string multimap]", m.size());
  PutShort(static_cast<uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    PutString(k);
    PutStringList(v);
  }
}

void WireWriter::PatchInt(size_t pos, int32_t v) { StoreBigEndian(static_cast<uint32_t>(v), 4, out_->data() + pos); }

// --- WireReader ---

void WireReader::Fail(absl::string_view message) {
  if (status_.ok()) status_ = absl::DataLossError(message);
  pos_ = in_.size();
}

bool WireReader::Need(size_t n, const char* what) {
  if (!status_.ok()) return false;
  if (n <= remaining()) return true;
  Fail(absl::StrCat("truncated ", what, " at byte ", pos_, ": needs ", n, " bytes, ", remaining(), " left"));
  return false;
}

bool WireReader::Allot(uint64_t n, size_t min_bytes, const char* what) {
  if (!status_.ok()) return false;
  if (min_bytes > 0 && n > remaining() / min_bytes) {
    Fail(absl::StrCat("implausible ", what, " ", n, " at byte ", pos_, ": only ", remaining(), " bytes left"));
    return false;
  }
  if (n > kMaxElements - elements_) {
    Fail(absl::StrCat(what, " ", n, " at byte ", pos_, " exceeds the limit of ", kMaxElements,
                      " decoded elements per message"));
    return false;
  }
  elements_ += static_cast<size_t>(n);
  return true;
}

bool WireReader::ReadByte(uint8_t* v) {
  if (!Need(1, "[byte]")) return false;
  *v = static_cast<uint8_t>(in_[pos_++]);
  return true;
}

bool WireReader::ReadShort(uint16_t* v) {
  if (!Need(2, "[short]")) return false;
  *v = static_cast<uint16_t>(LoadBigEndian(in_.data() + pos_, 2));
  pos_ += 2;
  return true;
}

bool WireReader::ReadInt(int32_t* v) {
  if (!Need(4, "[int]")) return false;
  *v = static_cast<int32_t>(static_cast<uint32_t>(LoadBigEndian(in_.data() + pos_, 4)));
  pos_ += 4;
  return true;
}

bool WireReader::ReadLong(int64_t* v) {
  if (!Need(8, "[long]")) return false;
  *v = static_cast<int64_t>(LoadBigEndian(in_.data() + pos_, 8));
  pos_ += 8;
  return true;
}

bool WireReader::ReadRaw(size_t n, absl::string_view* b) {
  if (!Need(n, "bytes")) return false;
  *b = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool WireReader::ReadString(absl::string_view* s) {
  uint16_t n;
  if (!ReadShort(&n) || !Need(n, "[string]")) return false;
  *s = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool WireReader::ReadString(std::string* s) {
  absl::string_view v;
  if (!ReadString(&v)) return false;
  s->assign(v.data(), v.size());
  return true;
}

bool WireReader::ReadLongString(absl::string_view* s) {
  int32_t n;
  if (!ReadInt(&n)) return false;
  if (n < 0) {
    Fail(absl::StrCat("negative [long string] length ", n, " at byte ", pos_ - 4));
    return false;
  }
  if (!Need(static_cast<size_t>(n), "[long string]")) return false;
  *s = in_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return true;
}

bool WireReader::ReadUuid(Uuid* u) {
  if (!Need(16, "[uuid]")) return false;
  u->hi = LoadBigEndian(in_.data() + pos_, 8);
  u->lo = LoadBigEndian(in_.data() + pos_ + 8, 8);
  pos_ += 16;
  return true;
}

bool WireReader::ReadStringList(std::vector<std::string>* list) {
  uint16_t n;
  if (!ReadShort(&n)) return false;
  list->clear();
  if (!Allot(n, 2, "[string list] length")) return false;  // each entry takes >= 2 bytes
  list->reserve(n);
  for (uint16_t i = 0; i < n; ++i) {
    absl::string_view s;
    if (!ReadString(&s)) return false;
    list->emplace_back(s.data(), s.size());
  }
  return true;
}

bool WireReader::ReadBytes(std::optional<absl::string_view>* b) {
  int32_t n;
  if (!ReadInt(&n)) return false;
  if (n < 0) {
    b->reset();
    return true;
  }
  if (!Need(static_cast<size_t>(n), "[bytes]")) return false;
  *b = in_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return true;
}

bool WireReader::ReadShortBytes(absl::string_view* b) {
  uint16_t n;
  if (!ReadShort(&n) || !Need(n, "[short bytes]")) return false;
  *b = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool WireReader::ReadStringMap(StringMap* m) {
  uint16_t n;
  if (!ReadShort(&n)) return false;
  m->clear();
  if (!Allot(n, 4, "map size")) return false;
  for (uint16_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!ReadString(&k) || !ReadString(&v)) return false;
    (*m)[std::move(k)] = std::move(v);
  }
  return true;
}

bool WireReader::ReadStringMultimap(StringMultimap* m) {
  uint16_t n;
  if (!ReadShort(&n)) return false;
  m->clear();
  if (!Allot(n, 4, "map size")) return false;
  for (uint16_t i = 0; i < n; ++i) {
    std::string k;
    std::vector<std::string> v;
    if (!ReadString(&k) || !ReadStringList(&v)) return false;
    (*m)[std::move(k)] = std::move(v);
  }
  return true;
}

bool WireReader::ReadBytesMap(std::map<std::string, std::optional<std::string>>* m) {
  uint16_t n;
  if (!ReadShort(&n)) return false;
  m->clear();
  if (!Allot(n, 6, "map size")) return false;
  for (uint16_t i = 0; i < n; ++i) {
    std::string k;
    std::optional<absl::string_view> v;
    if (!ReadString(&k) || !ReadBytes(&v)) return false;
    (*m)[std::move(k)] = v ? std::optional<std::string>(std::string(v->data(), v->size())) : std::nullopt;
  }
  return true;
}

bool WireReader::ReadConsistency(Consistency* c) {
  uint16_t v;
  if (!ReadShort(&v)) return false;
  *c = static_cast<Consistency>(v);
  return true;
}

}  // namespace tally::cql
