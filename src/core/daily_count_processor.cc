#include "core/daily_count_processor.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "core/repartition_record.h"

namespace tally {
namespace {

std::string FormatMicros(Micros t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(t), absl::UTCTimeZone());
}

}  // namespace

DailyCountProcessor::DailyCountProcessor(const ProcessorOptions& options, DedupStore* dedup,
                                         WindowStore* windows, CountedEventLog* log)
    : parser_(options.field_names, EventTimeParser(options.input_zone), options.max_record_bytes),
      require_user_key_(options.require_user_key),
      input_repartitioned_(options.input_repartitioned),
      watermark_(options.lateness),
      dedup_(dedup),
      windows_(windows),
      log_(log) {}

Verdict DailyCountProcessor::Reject(DeadLetterReason reason, std::string detail, std::string_view bytes,
                                    RecordOrigin origin) {
  // Of a record over the size limit only the first bytes are kept (its
  // detail says its size): no dead letter grows with the input.
  if (reason == DeadLetterReason::kTooLarge) bytes = bytes.substr(0, kTooLargeKeptBytes);
  dead_letters_.push_back(DeadLetter{reason, std::move(detail), std::string(bytes), origin});
  if (reason == DeadLetterReason::kLate) {
    ++counts_.late;
    return Verdict::kLate;
  }
  ++counts_.invalid;
  ++counts_.invalid_by_reason[static_cast<int>(reason)];
  return Verdict::kInvalid;
}

void DailyCountProcessor::Parse(const SourceRecord& record, bool padded, Parsed* parsed) {
  if (record.cut_size != 0) {
    parsed->valid = false;
    parsed->error.reason = DeadLetterReason::kTooLarge;
    parsed->error.detail = parser_.TooLargeDetail(record.cut_size);
    return;
  }
  ParseBytes(record.bytes, padded, parsed);
  if (parsed->valid) {
    dedup_->Prefetch(parsed->event.event_id);
    windows_->Prefetch(parsed->event.user_id, DayOf(parsed->event.event_time));
  }
}

void DailyCountProcessor::ParseBytes(std::string_view bytes, bool padded, Parsed* parsed) {
  if (!input_repartitioned_) {
    parsed->valid = parser_.Parse(bytes, padded, &parsed->event, &parsed->error);
    return;
  }
  RepartitionRecord record;
  absl::Status decoded = DecodeRepartitionValue(bytes, &record);
  parsed->valid = decoded.ok();
  if (!decoded.ok()) {
    if (error_.ok()) error_ = std::move(decoded);
    parsed->original = {};
    parsed->counted_elsewhere = false;
    return;
  }
  parsed->input_origin = record.input_origin;
  if (record.invalid) {
    // Dead-lettered by sub-topology 0; counted here, where the state is.
    parsed->valid = false;
    parsed->counted_elsewhere = true;
    parsed->error.reason = record.reason;
    return;
  }
  parsed->counted_elsewhere = false;
  parsed->event = record.event;
  parsed->original = record.original;
}

bool DailyCountProcessor::KeyIsUser(std::optional<std::string_view> key, const Uuid& user, std::string* detail) const {
  // Compared as parsed UUIDs, as UserUUID is parsed: a key in upper case
  // names the same learner. No allocation unless the key is wrong.
  Uuid key_user;
  if (key.has_value() && ParseUuid(*key, &key_user) && key_user == user) return true;
  if (!key.has_value()) {
    *detail = "the record has no Kafka key; with --input-keyed-by-user its key must be its UserUUID";
  } else if (!ParseUuid(*key, &key_user)) {
    *detail = absl::StrCat("the Kafka key is not a UUID (", key->size(),
                           " bytes); with --input-keyed-by-user it must be the record's UserUUID");
  } else {
    *detail = absl::StrCat("the Kafka key ", FormatUuid(key_user), " is not the record's UserUUID ", FormatUuid(user));
  }
  return false;
}

Verdict DailyCountProcessor::Apply(std::string_view bytes, RecordOrigin origin, std::optional<std::string_view> key,
                                   Parsed* parsed) {
  if (input_repartitioned_) {
    // Sub-topology 0 validated it, and wrote the dead letter of an invalid
    // one; a value that did not decode is in error_.
    if (parsed->counted_elsewhere) {
      ++counts_.records;
      ++counts_.invalid;
      ++counts_.invalid_by_reason[static_cast<int>(parsed->error.reason)];
      return Verdict::kInvalid;
    }
    if (!parsed->valid) return Verdict::kInvalid;
    bytes = parsed->original;
    origin = parsed->input_origin;
  }
  ++counts_.records;
  if (!parsed->valid) return Reject(parsed->error.reason, std::move(parsed->error.detail), bytes, origin);
  const Event& event = parsed->event;
  // Before lateness and dedup: a record of another task's learner must touch
  // neither this task's watermark nor its dedup store.
  if (require_user_key_) {
    std::string detail;
    if (!KeyIsUser(key, event.user_id, &detail)) return Reject(DeadLetterReason::kWrongKey, std::move(detail), bytes, origin);
  }
  const Micros t = event.event_time;
  Verdict verdict;
  if (watermark_.IsLate(t)) {
    verdict = Reject(DeadLetterReason::kLate,
                     absl::StrCat("event time ", FormatMicros(t), " is before the watermark ",
                                  FormatMicros(watermark_.value())),
                     bytes, origin);
  } else if (!dedup_->RecordIfNew(event.event_id, t, watermark_.value())) {
    ++counts_.duplicates;
    verdict = Verdict::kDuplicate;
  } else {
    windows_->Increment(event.user_id, DayOf(t));
    if (log_ != nullptr) log_->Append(CountedEvent{event.event_id, event.user_id, t});
    ++counts_.counted;
    verdict = Verdict::kCounted;
  }
  watermark_.Observe(t);
  return verdict;
}

Verdict DailyCountProcessor::Process(std::string_view bytes, bool padded, RecordOrigin origin,
                                     std::optional<std::string_view> key) {
  Parsed& parsed = ahead_[0];
  ParseBytes(bytes, padded, &parsed);
  return Apply(bytes, origin, key, &parsed);
}

void DailyCountProcessor::ProcessBatch(std::span<const SourceRecord> records, bool padded) {
  // Record i is parsed kLookahead records before it is applied; its slot in
  // ahead_ is free again by then, since record i - kLookahead was applied first.
  const size_t n = records.size();
  for (size_t i = 0; i < n + kLookahead; ++i) {
    if (i >= kLookahead) {
      const SourceRecord& r = records[i - kLookahead];
      Apply(r.bytes, r.origin, r.key, &ahead_[(i - kLookahead) % kLookahead]);
    }
    if (i < n) Parse(records[i], padded, &ahead_[i % kLookahead]);
  }
}

void DailyCountProcessor::Trigger(TriggerOutput* out, bool end_of_input) {
  windows_->TakeChanged(&out->updates);
  if (end_of_input) {
    windows_->EvictClosed(std::numeric_limits<Day>::max(), &out->finalized);
  } else if (watermark_.has_value()) {
    windows_->EvictClosed(watermark_.FirstOpenDay(), &out->finalized);
  }
}

size_t DailyCountProcessor::ClosedRowsPending() const {
  return watermark_.has_value() ? windows_->ClosedRows(watermark_.FirstOpenDay()) : 0;
}

}  // namespace tally
