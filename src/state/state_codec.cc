#include "state/state_codec.h"

#include <cstring>

namespace tally::state_codec {
namespace {

void PutBig64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutBig32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}
uint64_t GetBig64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t GetBig32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
void PutLittle64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
// Signed integers in keys sort by value with the sign bit flipped.
constexpr uint64_t kSignFlip = uint64_t{1} << 63;

}  // namespace

uint64_t LoadLittle64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Meta value: a version byte, then little-endian words: flags, max_seen,
// next_chunk_seq, retained_events, the five counts, the invalid counts by
// reason. Reasons are only ever added last (see DeadLetterReason), so a meta
// written before one was added holds fewer reason words, and the counts it
// lacks are 0.
constexpr char kMetaVersion = 2;
constexpr size_t kMetaWords = 9 + kDeadLetterReasonCount;
// The reasons of the first meta of this version: up to kWrongKey.
constexpr size_t kMinMetaWords = 9 + static_cast<int>(DeadLetterReason::kWrongKey) + 1;

std::string EncodeMeta(const Meta& m) {
  std::string out;
  out.reserve(1 + 8 * kMetaWords);
  out.push_back(kMetaVersion);
  PutLittle64(m.has_watermark ? 1 : 0, &out);
  PutLittle64(static_cast<uint64_t>(m.max_seen), &out);
  PutLittle64(static_cast<uint64_t>(m.next_chunk_seq), &out);
  PutLittle64(static_cast<uint64_t>(m.retained_events), &out);
  const RecordCounts& c = m.counts;
  for (int64_t v : {c.records, c.invalid, c.late, c.duplicates, c.counted}) PutLittle64(static_cast<uint64_t>(v), &out);
  for (int64_t v : c.invalid_by_reason) PutLittle64(static_cast<uint64_t>(v), &out);
  return out;
}

std::optional<Meta> DecodeMeta(std::string_view value) {
  if (value.size() < 1 + 8 * kMinMetaWords || value.size() > 1 + 8 * kMetaWords || (value.size() - 1) % 8 != 0 ||
      value[0] != kMetaVersion) {
    return std::nullopt;
  }
  const size_t reasons = (value.size() - 1) / 8 - 9;
  const char* p = value.data() + 1;
  auto next = [&p] {
    const int64_t v = static_cast<int64_t>(LoadLittle64(p));
    p += 8;
    return v;
  };
  Meta m;
  m.has_watermark = next() != 0;
  m.max_seen = next();
  m.next_chunk_seq = next();
  m.retained_events = next();
  RecordCounts& c = m.counts;
  for (int64_t* v : {&c.records, &c.invalid, &c.late, &c.duplicates, &c.counted}) *v = next();
  for (size_t i = 0; i < reasons; ++i) c.invalid_by_reason[i] = next();
  return m;
}

std::string EncodeDedupChunkKey(const DedupChunkKey& k) {
  std::string key;
  key.reserve(17);
  key.push_back(kDedupPrefix);
  PutBig32(static_cast<uint32_t>(k.day) ^ (uint32_t{1} << 31), &key);
  PutBig64(static_cast<uint64_t>(k.seq) ^ kSignFlip, &key);
  PutBig32(k.chunk, &key);
  return key;
}

std::optional<DedupChunkKey> DecodeDedupChunkKey(std::string_view key) {
  if (key.size() != 17 || key[0] != kDedupPrefix) return std::nullopt;
  DedupChunkKey k;
  k.day = static_cast<Day>(GetBig32(key.data() + 1) ^ (uint32_t{1} << 31));
  k.seq = static_cast<int64_t>(GetBig64(key.data() + 5) ^ kSignFlip);
  k.chunk = GetBig32(key.data() + 13);
  return k;
}

void AppendCountedEvent(const CountedEvent& e, std::string* value) {
  // One append of 40 bytes: a chunk holds up to kMaxChunkEntries of them.
  char bytes[kCountedEventBytes];
  const uint64_t words[5] = {e.id.hi, e.id.lo, e.user.hi, e.user.lo, static_cast<uint64_t>(e.time)};
  for (int w = 0; w < 5; ++w) {
    for (int i = 0; i < 8; ++i) bytes[8 * w + i] = static_cast<char>((words[w] >> (8 * i)) & 0xff);
  }
  value->append(bytes, sizeof bytes);
}

}  // namespace tally::state_codec
