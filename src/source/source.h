#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/source_record.h"

namespace tally {

// What one Poll returns. The views stay valid until the next Poll.
struct RecordBatch {
  std::vector<SourceRecord> records;
  // At least kRecordPadding readable bytes follow every record's bytes.
  bool padded = false;
  // No record will ever follow (a bounded source reached its end).
  bool end_of_input = false;
};

// Where records come from. Records of one partition arrive in order.
// Not thread-safe.
class Source {
 public:
  virtual ~Source() = default;

  // Replaces *batch with the next records, waiting at most `max_wait` for some
  // to arrive; an empty batch is not the end unless end_of_input says so.
  virtual absl::Status Poll(absl::Duration max_wait, RecordBatch* batch) = 0;

  // How a person names this source, e.g. "file:events.jsonl".
  virtual std::string Describe() const = 0;

  // What RecordOrigin::position counts for this source: "line" or "offset".
  virtual const char* position_name() const = 0;
};

}  // namespace tally
