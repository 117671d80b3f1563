#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tally {

// Why a record left the counts. All but kLate mean the record is invalid.
// A new reason goes last: the numbers are kept in the task state (the invalid
// counts by reason, see state_codec.cc).
enum class DeadLetterReason : uint8_t {
  kTooLarge,        // larger than the record size limit
  kNotUtf8,         // bytes that are not UTF-8
  kNotJson,         // not a JSON text (RFC 8259)
  kNotObject,       // JSON, but not an object
  kMissingField,    // a required field is absent
  kWrongType,       // a required field has the wrong JSON type
  kBadUuid,         // EventUUID or UserUUID is not an 8-4-4-4-12 hex UUID
  kEmptyEventName,  // EventName is ""
  kBadTime,         // CreatedAt is not a valid time
  kTimeOutOfRange,  // CreatedAt is outside [1970, 2100)
  kLate,            // valid, but older than the watermark
  kWrongKey,        // otherwise valid, but its Kafka key is not its UserUUID (--input-keyed-by-user)
};
inline constexpr int kDeadLetterReasonCount = static_cast<int>(DeadLetterReason::kWrongKey) + 1;

// The stable, machine-readable name written with each dead letter ("not_json").
const char* ReasonName(DeadLetterReason reason);

// Where a record came from, inside its source: the input partition and the
// record's position in it (a line number for files, an offset for Kafka).
struct RecordOrigin {
  int32_t partition = 0;
  int64_t position = 0;
};

// A record that was not counted and must not be lost: its original bytes, why,
// and where it came from.
struct DeadLetter {
  DeadLetterReason reason;
  std::string detail;  // human-readable: what exactly is wrong
  std::string bytes;   // the record as read, unchanged (too_large: its first kTooLargeKeptBytes)
  RecordOrigin origin;
};

// Of a record over the size limit, its dead letter keeps this many first
// bytes (and its detail the record's size): enough to find and recognise it,
// while no dead letter, and no buffer on the way to one, grows with the input.
inline constexpr size_t kTooLargeKeptBytes = 1024;

}  // namespace tally
