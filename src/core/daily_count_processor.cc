#include "core/daily_count_processor.h"

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

std::string FormatMicros(Micros t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(t), absl::UTCTimeZone());
}

}  // namespace

DailyCountProcessor::DailyCountProcessor(const ProcessorOptions& options, DedupStore* dedup,
                                         WindowStore* windows)
    : parser_(options.field_names, EventTimeParser(options.input_zone), options.max_record_bytes),
      watermark_(options.lateness),
      dedup_(dedup),
      windows_(windows) {}

Verdict DailyCountProcessor::Reject(DeadLetterReason reason, std::string detail, std::string_view bytes,
                                    RecordOrigin origin) {
  dead_letters_.push_back(DeadLetter{reason, std::move(detail), std::string(bytes), origin});
  if (reason == DeadLetterReason::kLate) {
    ++counts_.late;
    return Verdict::kLate;
  }
  ++counts_.invalid;
  ++counts_.invalid_by_reason[static_cast<int>(reason)];
  return Verdict::kInvalid;
}

Verdict DailyCountProcessor::Process(std::string_view bytes, bool padded, RecordOrigin origin) {
  ++counts_.records;
  if (!parser_.Parse(bytes, padded, &event_, &error_)) {
    return Reject(error_.reason, std::move(error_.detail), bytes, origin);
  }
  const Micros t = event_.event_time;
  Verdict verdict;
  if (watermark_.IsLate(t)) {
    verdict = Reject(DeadLetterReason::kLate,
                     absl::StrCat("event time ", FormatMicros(t), " is before the watermark ",
                                  FormatMicros(watermark_.value())),
                     bytes, origin);
  } else if (!dedup_->RecordIfNew(event_.event_id, t, watermark_.value())) {
    ++counts_.duplicates;
    verdict = Verdict::kDuplicate;
  } else {
    windows_->Increment(event_.user_id, DayOf(t));
    ++counts_.counted;
    verdict = Verdict::kCounted;
  }
  watermark_.Observe(t);
  return verdict;
}

void DailyCountProcessor::Trigger(TriggerOutput* out) {
  windows_->TakeChanged(&out->updates);
  if (watermark_.has_value()) windows_->EvictClosed(watermark_.FirstOpenDay(), &out->finalized);
}

size_t DailyCountProcessor::ClosedRowsPending() const {
  return watermark_.has_value() ? windows_->ClosedRows(watermark_.FirstOpenDay()) : 0;
}

}  // namespace tally
