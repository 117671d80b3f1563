#pragma once

#include <array>
#include <cstdint>

#include "core/dead_letter.h"

namespace tally {

// What happened to the records of a run (or of one task). Always
// records == invalid + late + duplicates + counted.
struct RecordCounts {
  int64_t records = 0;
  int64_t invalid = 0;
  int64_t late = 0;
  int64_t duplicates = 0;
  int64_t counted = 0;
  // invalid, broken down by reason (kLate's slot stays 0: late is above).
  std::array<int64_t, kDeadLetterReasonCount> invalid_by_reason{};

  RecordCounts& operator+=(const RecordCounts& o) {
    records += o.records;
    invalid += o.invalid;
    late += o.late;
    duplicates += o.duplicates;
    counted += o.counted;
    for (int i = 0; i < kDeadLetterReasonCount; ++i) invalid_by_reason[i] += o.invalid_by_reason[i];
    return *this;
  }
};

}  // namespace tally
