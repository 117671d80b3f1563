#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/daily_count.h"
#include "core/event_time.h"
#include "core/record_counts.h"
#include "core/uuid.h"

namespace tally {

// The bytes of a task's durable state, as the local store and the changelog
// topic hold them (state_record.h). Three kinds of key, by first byte:
//
//   'M'                         the task's meta: watermark (max_seen), record
//                               counts, next dedup chunk sequence number
//   'W' user(16) day(4)         a window row -> its count (8)
//   'D' bucket(8) seq(8) n(4)   a chunk of dedup entries -> (id(16) time(8))*
//
// Integers in keys are big-endian (keys sort by bucket, then seq); values are
// little-endian. A dedup chunk holds entries whose event times share one
// bucket (an hour of event time), so when the watermark passes a bucket's end
// every entry in it has expired and its chunks are deleted with one tombstone
// each: the changelog stays bounded by the lateness, at about 24 bytes per
// live entry, without a tombstone per event. Changing any of this changes
// StateDir::kFormatVersion.
namespace state_codec {

inline constexpr char kMetaKey[] = "M";
inline constexpr char kWindowPrefix = 'W';
inline constexpr char kDedupPrefix = 'D';
inline constexpr Micros kDedupBucketWidth = 3600 * kMicrosPerSecond;
// Entries per dedup chunk at most: a chunk is one Kafka record, well under
// the broker's default message.max.bytes (1 MiB) at 24 bytes an entry.
inline constexpr size_t kMaxChunkEntries = 16384;
inline constexpr size_t kDedupEntryBytes = 24;

struct Meta {
  Micros max_seen = 0;
  bool has_watermark = false;
  RecordCounts counts;
  int64_t next_chunk_seq = 0;
};
std::string EncodeMeta(const Meta& meta);
std::optional<Meta> DecodeMeta(std::string_view value);

std::string WindowKey(const Uuid& user, Day day);
std::string EncodeCount(int64_t count);
// False if the key or value is malformed.
bool DecodeWindow(std::string_view key, std::string_view value, DailyCount* row);

// The bucket of an event time; every entry of bucket b has expired once the
// watermark is >= BucketEnd(b).
inline int64_t BucketOf(Micros t) { return FloorDiv(t, kDedupBucketWidth); }
inline Micros BucketEnd(int64_t bucket) { return (bucket + 1) * kDedupBucketWidth; }

struct DedupChunkKey {
  int64_t bucket = 0;
  int64_t seq = 0;
  uint32_t chunk = 0;
};
std::string EncodeDedupChunkKey(const DedupChunkKey& key);
std::optional<DedupChunkKey> DecodeDedupChunkKey(std::string_view key);

struct DedupEntry {
  Uuid id;
  Micros time = 0;
};
// Appends one entry to a chunk value.
void AppendDedupEntry(const DedupEntry& entry, std::string* value);
// Calls f(entry) for each entry of a chunk value; false if it is malformed.
template <typename F>
bool ForEachDedupEntry(std::string_view value, F&& f);

}  // namespace state_codec

// Implementation of the template above.
namespace state_codec {
uint64_t LoadLittle64(const char* p);
template <typename F>
bool ForEachDedupEntry(std::string_view value, F&& f) {
  if (value.size() % kDedupEntryBytes != 0) return false;
  for (size_t i = 0; i < value.size(); i += kDedupEntryBytes) {
    const char* p = value.data() + i;
    f(DedupEntry{Uuid{LoadLittle64(p), LoadLittle64(p + 8)}, static_cast<Micros>(LoadLittle64(p + 16))});
  }
  return true;
}
}  // namespace state_codec

}  // namespace tally
