#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/daily_count.h"
#include "core/dead_letter.h"
#include "core/record_counts.h"
#include "core/record_parser.h"
#include "core/source_record.h"
#include "core/watermark.h"
#include "state/counted_event_log.h"
#include "state/dedup_store.h"
#include "state/window_store.h"

namespace tally {

struct ProcessorOptions {
  FieldNames field_names;
  absl::TimeZone input_zone = absl::UTCTimeZone();
  Micros lateness = 7 * kMicrosPerDay;
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  // The producer keys every record by its learner (--input-keyed-by-user),
  // so that all of a learner's events are in one partition and a task counts
  // them alone. A record whose key is not its UserUUID (parsed as UserUUID
  // is) would be counted in the wrong task: it is invalid, wrong_key.
  bool require_user_key = false;
  // The input is tally's repartition topic (sub-topology 1): each record is
  // a RepartitionRecord (core/repartition_record.h), already parsed and
  // validated by sub-topology 0. Its dead letters carry the original bytes
  // and the input origin it holds, as if read from the input.
  bool input_repartitioned = false;
};

// What became of one record.
enum class Verdict : uint8_t { kInvalid, kLate, kDuplicate, kCounted };

// The rows one trigger hands to the sinks.
struct TriggerOutput {
  // Every row whose count changed since the previous trigger (update mode).
  std::vector<DailyCount> updates;
  // Rows that leave the state with their final count: rows of days that
  // closed, and at the end of a bounded input every remaining row. Each was in
  // this or an earlier trigger's updates with the same count, and no later
  // trigger mentions it again.
  std::vector<DailyCount> finalized;

  void clear() {
    updates.clear();
    finalized.clear();
  }
};

// The whole semantics of the job for one input partition, as a deterministic
// step function: record bytes in; counts, dead letters and state changes out.
// It knows nothing of sources, sinks, clocks or triggers; a runtime drives it,
// and a test can drive it with nothing else.
//
// For each record, in partition order: invalid -> dead letter; else, with
// require_user_key, wrong_key if its key is not its UserUUID -> dead letter
// (an invalid record: no watermark, no dedup); else late if its event time is
// below the watermark -> dead letter; else a duplicate if its EventUUID is
// live in the dedup store; else counted into (user, UTC day). Then every valid
// record advances the watermark.
//
// Each counted record is also appended to `log`, if given (durable state).
//
// Not thread-safe; one per task. The stores and the log must outlive the
// processor.
class DailyCountProcessor {
 public:
  DailyCountProcessor(const ProcessorOptions& options, DedupStore* dedup, WindowStore* windows,
                      CountedEventLog* log = nullptr);

  // Processes one record. `padded`: see RecordParser::Parse. `key`: its Kafka
  // key (SourceRecord::key), read only with require_user_key.
  Verdict Process(std::string_view bytes, bool padded, RecordOrigin origin,
                  std::optional<std::string_view> key = std::nullopt);

  // Processes records of this partition in order, with exactly the effects of
  // calling Process on each (dead letters in the same order, too). Faster: it
  // parses a few records ahead and has the stores prefetch the memory those
  // records will touch, so the stores' cache misses overlap with parsing.
  void ProcessBatch(std::span<const SourceRecord> records, bool padded);

  // Moves the changed rows, then the rows of closed days, into *out. With
  // `end_of_input` (the input is bounded and has ended: no record will follow)
  // every row is final, as if the watermark had passed all days.
  void Trigger(TriggerOutput* out, bool end_of_input = false);

  // Rows of closed days still held, waiting for a trigger to write them. A
  // runtime triggers early when this grows large (a backlog processed faster
  // than the trigger interval), which keeps memory bounded by the lateness.
  size_t ClosedRowsPending() const;

  // Dead letters produced since the runtime last emptied this vector, in order.
  std::vector<DeadLetter>& dead_letters() { return dead_letters_; }

  // Resumes from durable state: the watermark's max_seen (if any valid record
  // was seen) and the counts so far. The stores must hold the same state.
  void Restore(bool has_watermark, Micros max_seen, const RecordCounts& counts) {
    if (has_watermark) watermark_.Restore(max_seen);
    counts_ = counts;
  }

  const RecordCounts& counts() const { return counts_; }
  // Not OK once a record could not be read at all (input_repartitioned: a
  // value that is not a repartition record). The runtime stops the run: the
  // records after it were not processed.
  const absl::Status& error() const { return error_; }
  const Watermark& watermark() const { return watermark_; }

 private:
  // A parsed record waiting for its turn in ProcessBatch.
  struct Parsed {
    bool valid = false;
    Event event;
    RecordParser::Error error;
    // input_repartitioned: the record's original bytes and input origin.
    std::string_view original;
    RecordOrigin input_origin;
    bool counted_elsewhere = false;  // an invalid input record, dead-lettered by sub-topology 0
  };
  static constexpr size_t kLookahead = 8;

  // Parses into *parsed; for a valid record, prefetches its state. A record
  // the source cut (SourceRecord::cut_size) is too_large without parsing.
  void Parse(const SourceRecord& record, bool padded, Parsed* parsed);
  // Everything after parsing: validity, lateness, dedup, count, watermark.
  Verdict Apply(std::string_view bytes, RecordOrigin origin, std::optional<std::string_view> key, Parsed* parsed);
  // With require_user_key: whether a valid record's key is its UserUUID; if
  // not, *detail says how it differs.
  bool KeyIsUser(std::optional<std::string_view> key, const Uuid& user, std::string* detail) const;
  Verdict Reject(DeadLetterReason reason, std::string detail, std::string_view bytes, RecordOrigin origin);

  // Parses (or, input_repartitioned, decodes) one record's bytes.
  void ParseBytes(std::string_view bytes, bool padded, Parsed* parsed);

  RecordParser parser_;
  bool require_user_key_;
  bool input_repartitioned_;
  absl::Status error_;
  Watermark watermark_;
  DedupStore* dedup_;
  WindowStore* windows_;
  CountedEventLog* log_;  // may be null
  RecordCounts counts_;
  std::vector<DeadLetter> dead_letters_;
  std::array<Parsed, kLookahead> ahead_;  // reused: no allocation per record
};

}  // namespace tally
