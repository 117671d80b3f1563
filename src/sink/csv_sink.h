#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

#include "sink/atomic_output_file.h"
#include "sink/sink.h"

namespace tally {

// Writes the table as CSV: header `user_uuid,created_date,event_count`, one
// row per learner and day, in no particular order, each row once, at its last
// count. Which rows depends on whether the run's state outlives the run:
//   - it does not (a file source): every row is finalized once
//     (TriggerOutput::finalized: its day closed, or the input ended), and the
//     sink writes it then: the whole table, with no row held in memory;
//   - it does (a Kafka source, whose durable state never finalizes the open
//     days): the rows the run wrote (TriggerOutput::updates, as a Cassandra
//     sink upserts them), open days included. Rows not yet final are held in
//     memory and appended by Commit; a row finalized without an update in
//     this run was written by an earlier run and is left out.
// The file appears at its path only on Commit (for a file of an
// OutputFileSet: when the set is published).
class CsvSink final : public Sink {
 public:
  static absl::StatusOr<std::unique_ptr<CsvSink>> Create(const std::string& path, bool state_outlives_run);
  CsvSink(std::unique_ptr<AtomicOutputFile> file, bool state_outlives_run);

  absl::Status Write(int64_t batch_id, const TriggerOutput& output) override;
  absl::Status Commit() override;
  std::string Describe() const override;

 private:
  // Formats a row; hands the text to the file every kFlushBytes.
  absl::Status Append(const DailyCount& row);
  absl::Status Flush();

  std::unique_ptr<AtomicOutputFile> file_;
  const bool state_outlives_run_;
  std::string text_;  // formatted rows not yet handed to the file
  // If the state outlives the run: rows of updates not yet finalized, with
  // their last count.
  absl::flat_hash_map<std::pair<Uuid, Day>, int64_t> open_;
};

}  // namespace tally
