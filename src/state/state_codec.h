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
#include "state/counted_event_log.h"

namespace tally {

// The bytes of a task's durable state, as the local store and the changelog
// topic hold them (state_record.h). Two kinds of key, by first byte:
//
//   'M'                      the task's meta: watermark (max_seen), record
//                            counts, next chunk sequence number, events
//                            retained
//   'D' day(4) seq(8) n(4)   a chunk of counted events of one day of event
//                            time -> (id(16) user(16) time(8))*
//
// Integers in keys are big-endian (keys sort by day, then seq); values are
// little-endian. A counted event (counted_event_log.h) is a dedup entry with
// its learner. Window rows have no record: an open row's count is the number
// of counted events of its learner and day, so a restore derives the rows
// from the chunks. For that, a day's chunks stay until the day closes (the
// watermark's first open day is past it: the window store evicts its rows
// then), not merely until their entries expire for dedup; then each is
// deleted with one tombstone: the changelog stays bounded by the lateness
// (plus at most a day), at about 40 bytes per counted event, with no record
// per row change nor a tombstone per event. Changing any of this changes
// StateDir::kFormatVersion and JobSettings::kFormatVersion.
namespace state_codec {

inline constexpr char kMetaKey[] = "M";
inline constexpr char kDedupPrefix = 'D';
// Entries per chunk at most: a chunk is one Kafka record, well under the
// broker's default message.max.bytes (1 MiB) at 40 bytes an entry.
inline constexpr size_t kMaxChunkEntries = 16384;
inline constexpr size_t kCountedEventBytes = 40;

struct Meta {
  Micros max_seen = 0;
  bool has_watermark = false;
  RecordCounts counts;
  int64_t next_chunk_seq = 0;
  // Counted events in the chunks held (closed days' included until their
  // tombstones): what a restore sizes the dedup store for.
  int64_t retained_events = 0;
};
std::string EncodeMeta(const Meta& meta);
std::optional<Meta> DecodeMeta(std::string_view value);

struct DedupChunkKey {
  Day day = 0;  // of the event times of every entry in the chunk
  int64_t seq = 0;
  uint32_t chunk = 0;
};
std::string EncodeDedupChunkKey(const DedupChunkKey& key);
std::optional<DedupChunkKey> DecodeDedupChunkKey(std::string_view key);

// Appends one entry to a chunk value.
void AppendCountedEvent(const CountedEvent& event, std::string* value);
// Calls f(event) for each entry of a chunk value; false if it is malformed.
template <typename F>
bool ForEachCountedEvent(std::string_view value, F&& f);

}  // namespace state_codec

// Implementation of the template above.
namespace state_codec {
uint64_t LoadLittle64(const char* p);
template <typename F>
bool ForEachCountedEvent(std::string_view value, F&& f) {
  if (value.size() % kCountedEventBytes != 0) return false;
  for (size_t i = 0; i < value.size(); i += kCountedEventBytes) {
    const char* p = value.data() + i;
    f(CountedEvent{Uuid{LoadLittle64(p), LoadLittle64(p + 8)}, Uuid{LoadLittle64(p + 16), LoadLittle64(p + 24)},
                   static_cast<Micros>(LoadLittle64(p + 32))});
  }
  return true;
}
}  // namespace state_codec

}  // namespace tally
