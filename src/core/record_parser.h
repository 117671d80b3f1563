#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/dead_letter.h"
#include "core/event_time.h"
#include "core/uuid.h"

namespace tally {

// The JSON field names of the four input fields (configurable per run).
struct FieldNames {
  std::string event_id = "EventUUID";
  std::string user_id = "UserUUID";
  std::string event_name = "EventName";
  std::string created_at = "CreatedAt";
};

// What the engine keeps of a valid record. EventName is validated, not kept.
struct Event {
  Uuid event_id;
  Uuid user_id;
  Micros event_time = 0;
};

inline constexpr size_t kDefaultMaxRecordBytes = 1 << 20;

// Bytes a caller may promise to be readable after a record (see Parse).
inline constexpr size_t kRecordPadding = 64;

// Validates one input record and extracts its event. Strict: the record must be
// UTF-8 and a single RFC 8259 JSON object holding the four fields with the right
// types; other fields are ignored. If a field name occurs more than once, the
// last occurrence counts (as in JavaScript's JSON.parse and Python's json).
//
// Not thread-safe: it owns a reusable parser. Use one per task.
class RecordParser {
 public:
  struct Error {
    DeadLetterReason reason;
    std::string detail;
  };

  RecordParser(FieldNames names, EventTimeParser time_parser,
               size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // Returns true and fills *event for a valid record; false and fills *error
  // otherwise. If `padded`, at least kRecordPadding bytes after `bytes` are
  // readable, which lets the parser read the record in place; else it copies.
  bool Parse(std::string_view bytes, bool padded, Event* event, Error* error);

  size_t max_record_bytes() const { return max_record_bytes_; }

  // The detail of a too_large record of `size` bytes.
  std::string TooLargeDetail(uint64_t size) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t max_record_bytes_;
};

}  // namespace tally
