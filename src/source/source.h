#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
  // Nothing more for this run, though records may follow in a later one: a
  // source told to read what is available now has read it. Implied by
  // end_of_input.
  bool end_of_run = false;
};

// Told by a source whose partitions come and go (a Kafka consumer group
// rebalancing). Both are called from inside Source::Poll and Source::Idle,
// after the group protocol's own step is done (Kafka Streams' task life
// cycle runs in the poll loop, never inside the client's rebalance
// callback): every record delivered before has been processed, and no record
// of a revoked partition is delivered after.
class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  // `partitions` are no longer this process's. Another member may own them
  // already (always when `lost`: this member fell out of the group): nothing
  // more may be committed for them.
  virtual absl::Status OnPartitionsRevoked(std::span<const int32_t> partitions, bool lost) = 0;
  // `partitions` were assigned; the source holds back their records until
  // this returns OK (the runtime restores their tasks first), then delivers
  // them from the committed position.
  virtual absl::Status OnPartitionsAssigned(std::span<const int32_t> partitions) = 0;
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

  // Makes durable in the source the position after every record delivered so
  // far (a consumer group's offsets), so that a restart resumes from there.
  // The runtime calls it only once those records' effects are durable in the
  // sinks. Sources without positions of their own (files) do nothing.
  virtual absl::Status Commit() { return absl::OkStatus(); }

  // Where partition changes are reported; null to stop. Sources whose
  // partitions never change ignore it.
  virtual void SetPartitionListener(PartitionListener* listener) { (void)listener; }

  // Waits up to `wait` while the runtime cannot take records (its sink is
  // unreachable), keeping what must stay alive alive: a consumer group's
  // membership, and partition changes, which are still reported. Reads
  // nothing more than it holds already: records that arrive are kept for the
  // next Poll, which resumes reading.
  virtual absl::Status Idle(absl::Duration wait) {
    absl::SleepFor(wait);
    return absl::OkStatus();
  }

  // Goes back to the last committed position of every partition: the
  // records after it are delivered again. For a runtime whose uncommitted
  // work failed (an aborted transaction) and redoes it from there.
  virtual absl::Status Rewind() {
    return absl::UnimplementedError(absl::StrCat(Describe(), ": cannot go back to a committed position"));
  }

  // The position past the end of `partition` as the source last found it,
  // when every record before it has been delivered but the last delivered
  // record is not the last entry before it (a transactional topic's commit
  // markers, or aborted records, follow it); -1 otherwise. The runtime
  // commits it, so that the committed position reaches the partition's end
  // (--available-now of other members compares it with the end).
  virtual int64_t PositionAfterEnd(int32_t partition) const {
    (void)partition;
    return -1;
  }

  // Records in the source not yet delivered (consumer lag), or -1 if unknown.
  virtual int64_t Lag() const { return -1; }

  // Calls f(topic, partition, records not yet delivered) for each partition
  // whose lag is known (the figures Lag() adds up). Cheap: no server call.
  virtual void ForEachPartitionLag(const std::function<void(const std::string&, int32_t, int64_t)>& f) const {
    (void)f;
  }
};

}  // namespace tally
