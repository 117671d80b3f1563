#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/dead_letter.h"
#include "core/record_parser.h"

namespace tally {

// A valid input record as sub-topology 0 hands it to sub-topology 1 through
// the repartition topic: the parsed event (so the counting side never parses
// JSON again), where the record came from in the input, and its original
// bytes (a record found late on the counting side goes to the dead letters
// with them, as if read from the input).
//
// Value layout, version 1, integers little-endian:
//   u8 version (1) | 16 B event id (hi, lo) | 16 B user id (hi, lo) |
//   i64 event time (µs) | i32 input partition | i64 input offset |
//   the original bytes (the rest of the value)
// The key is the user id's 16 bytes: what the repartition topic is
// partitioned by.
//
// An invalid input record is a dead letter of sub-topology 0, but the job's
// state counts it too (the summary: each record once, across runs), so a
// small record stands for it on the counting side:
//   u8 kind (2) | u8 DeadLetterReason | i32 input partition | i64 input offset
// keyed like the input partition's records (EncodeRepartitionKey of a zero
// user), in the partition RepartitionPartition of that key.
struct RepartitionRecord {
  bool invalid = false;  // an invalid input record: only `reason` and `input_origin`
  DeadLetterReason reason = DeadLetterReason::kNotJson;
  Event event;
  RecordOrigin input_origin;
  std::string_view original;  // a view into the decoded value
};

inline constexpr uint8_t kRepartitionFormat = 1;
inline constexpr uint8_t kRepartitionInvalidKind = 2;
inline constexpr size_t kRepartitionHeaderBytes = 1 + 16 + 16 + 8 + 4 + 8;
inline constexpr size_t kRepartitionInvalidBytes = 1 + 1 + 4 + 8;

// Replaces *out with the record that stands for an invalid input record.
void EncodeRepartitionInvalid(DeadLetterReason reason, RecordOrigin input_origin, std::string* out);

// Replaces *out with the value of `event` from `input_origin` with its
// original bytes. Reuses out's capacity: no allocation once it is large
// enough.
void EncodeRepartitionValue(const Event& event, RecordOrigin input_origin, std::string_view original,
                            std::string* out);

// The key of a learner's records (16 bytes, into *out).
void EncodeRepartitionKey(const Uuid& user, std::string* out);

// The partition of the repartition topic a learner's records go to: a hash
// of the user id that every process computes alike.
int32_t RepartitionPartition(const Uuid& user, int32_t partitions);

// Decodes a value EncodeRepartitionValue wrote; `record->original` views
// `value`. DataLoss, naming what is wrong, for anything else: the topic is
// tally's own, so a value it cannot read means the topic was written by
// something else or a newer tally.
absl::Status DecodeRepartitionValue(std::string_view value, RepartitionRecord* record);

}  // namespace tally
