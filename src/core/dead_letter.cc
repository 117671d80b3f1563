#include "core/dead_letter.h"

namespace tally {

const char* ReasonName(DeadLetterReason reason) {
  switch (reason) {
    case DeadLetterReason::kTooLarge: return "too_large";
    case DeadLetterReason::kNotUtf8: return "not_utf8";
    case DeadLetterReason::kNotJson: return "not_json";
    case DeadLetterReason::kNotObject: return "not_object";
    case DeadLetterReason::kMissingField: return "missing_field";
    case DeadLetterReason::kWrongType: return "wrong_type";
    case DeadLetterReason::kBadUuid: return "bad_uuid";
    case DeadLetterReason::kEmptyEventName: return "empty_event_name";
    case DeadLetterReason::kBadTime: return "bad_time";
    case DeadLetterReason::kTimeOutOfRange: return "time_out_of_range";
    case DeadLetterReason::kLate: return "late";
    case DeadLetterReason::kWrongKey: return "wrong_key";
  }
  return "unknown";
}

}  // namespace tally
