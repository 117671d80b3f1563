#include "kafka/repartition_router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/repartition_record.h"

namespace tally {
RepartitionRouter::RepartitionRouter(KafkaSource& source, KafkaTransaction& transaction,
                                     KafkaDeadLetterSink& dead_letters, RepartitionRouterOptions options)
    : source_(source),
      transaction_(transaction),
      dead_letters_(dead_letters),
      options_(std::move(options)),
      parser_(options_.field_names, EventTimeParser(options_.input_zone), options_.max_record_bytes),
      next_offset_(static_cast<size_t>(std::max(source.partition_count(), 1)), -1) {}

absl::Status RepartitionRouter::OnPartitionsRevoked(std::span<const int32_t> partitions, bool) {
  // Their lag is the new owner's to report now.
  if (options_.metrics != nullptr) {
    for (int32_t p : partitions) options_.metrics->RemoveLag(source_.topic(), p);
  }
  // The open transaction holds records of the revoked partitions, whose new
  // owner reads them again from the committed offsets: give it all up, and
  // redo the partitions that stay from there too.
  return AbortAndRewind();
}

absl::Status RepartitionRouter::OnPartitionsAssigned(std::span<const int32_t> partitions) {
  for (int32_t p : partitions) {
    if (static_cast<size_t>(p) >= next_offset_.size()) next_offset_.resize(static_cast<size_t>(p) + 1, -1);
  }
  return absl::OkStatus();
}

absl::Status RepartitionRouter::Route(const RecordBatch& batch) {
  KafkaProducer& producer = transaction_.producer();
  for (const SourceRecord& r : batch.records) {
    if (!transaction_.in_transaction()) {
      if (auto s = transaction_.Begin(); !s.ok()) return s;
    }
    Event event;
    RecordParser::Error error;
    ++transaction_records_;
    if (r.cut_size == 0 && parser_.Parse(r.bytes, batch.padded, &event, &error)) {
      EncodeRepartitionKey(event.user_id, &key_);
      EncodeRepartitionValue(event, r.origin, r.bytes, &value_);
      const int32_t partition = RepartitionPartition(event.user_id, options_.partitions);
      if (auto s = producer.ProduceTo(options_.repartition_topic, partition, key_, std::string_view(value_)); !s.ok()) {
        return s;
      }
      transaction_bytes_ += value_.size() + key_.size();
    } else {
      if (r.cut_size != 0) {
        error.reason = DeadLetterReason::kTooLarge;
        error.detail = parser_.TooLargeDetail(r.cut_size);
      }
      std::string_view bytes = r.bytes;
      if (error.reason == DeadLetterReason::kTooLarge) bytes = bytes.substr(0, kTooLargeKeptBytes);
      // The counting side keeps the job's totals: a small record stands
      // for the invalid one there (each input partition's in one place).
      const Uuid stand_in{0, static_cast<uint64_t>(r.origin.partition)};
      EncodeRepartitionKey(stand_in, &key_);
      EncodeRepartitionInvalid(error.reason, r.origin, &value_);
      if (auto s = producer.ProduceTo(options_.repartition_topic, RepartitionPartition(stand_in, options_.partitions),
                                      key_, std::string_view(value_));
          !s.ok()) {
        return s;
      }
      letters_.push_back(DeadLetter{error.reason, std::move(error.detail), std::string(bytes), r.origin});
      transaction_bytes_ += bytes.size() + value_.size();
    }
    const auto p = static_cast<size_t>(r.origin.partition);
    if (p >= next_offset_.size()) next_offset_.resize(p + 1, -1);
    next_offset_[p] = r.origin.position + 1;
  }
  return absl::OkStatus();
}

absl::Status RepartitionRouter::Commit() {
  if (!transaction_.in_transaction()) return absl::OkStatus();
  const absl::Time give_up = absl::Now() + transaction_.retry_window();
  if (auto s = dead_letters_.Write(letters_); !s.ok()) return transaction_.AbortAfter(s);
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next_offset_.size())));
  for (size_t p = 0; p < next_offset_.size(); ++p) {
    if (next_offset_[p] < 0) continue;
    rd_kafka_topic_partition_list_add(offsets.get(), source_.topic().c_str(), static_cast<int32_t>(p))->offset =
        next_offset_[p];
  }
  if (auto s = transaction_.CommitWithOffsets(source_.consumer(), offsets.get(), give_up); !s.ok()) return s;
  // Counted once committed: a redo reads the same records again.
  result_.records_read += transaction_records_;
  result_.routed += transaction_records_ - static_cast<int64_t>(letters_.size());
  result_.dead_letters += static_cast<int64_t>(letters_.size());
  ++result_.transactions;
  transaction_records_ = 0;
  letters_.clear();
  std::fill(next_offset_.begin(), next_offset_.end(), -1);
  transaction_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status RepartitionRouter::AbortAndRewind() {
  transaction_records_ = 0;
  letters_.clear();
  std::fill(next_offset_.begin(), next_offset_.end(), -1);
  transaction_bytes_ = 0;
  rewound_ = true;
  if (absl::Status s = transaction_.Abort(); !s.ok()) return s;
  return source_.Rewind();
}

absl::StatusOr<RepartitionRouterResult> RepartitionRouter::Run() {
  source_.SetPartitionListener(this);
  struct Unlisten {
    KafkaSource& source;
    ~Unlisten() { source.SetPartitionListener(nullptr); }
  } unlisten{source_};

  RecordBatch batch;
  absl::Time next_commit = absl::Now() + options_.commit_interval;
  for (;;) {
    rewound_ = false;
    if (auto s = source_.Poll(options_.max_poll_wait, &batch); !s.ok()) return s;
    // A revocation delivered by this Poll rewound every partition to its
    // committed offset, those assigned in the same Poll included: the batch
    // (read before) would be routed twice.
    if (rewound_) continue;
    absl::Status routed = Route(batch);
    if (absl::IsAborted(routed)) {
      if (auto s = AbortAndRewind(); !s.ok()) return s;
      continue;
    }
    if (!routed.ok()) return routed;
    const bool last = StopRequested() || batch.end_of_run || batch.end_of_input;
    if (last || absl::Now() >= next_commit || transaction_bytes_ >= options_.max_transaction_bytes) {
      absl::Status committed = Commit();
      if (absl::IsAborted(committed)) {
        // Redo from the last commit; a stop or the end of the input is
        // reached again after the redo.
        if (auto s = AbortAndRewind(); !s.ok()) return s;
        continue;
      }
      if (!committed.ok()) return committed;
      // The input's lag (the counting side reports the repartition topic's).
      if (options_.metrics != nullptr) options_.metrics->SetLags(source_);
      next_commit = absl::Now() + options_.commit_interval;
      if (last) break;
    }
  }
  return result_;
}

}  // namespace tally
