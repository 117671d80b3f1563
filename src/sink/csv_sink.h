#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

#include "sink/atomic_output_file.h"
#include "sink/sink.h"

namespace tally {

// Writes the table as CSV: header `user_uuid,created_date,event_count`, one
// row per learner and day, in no particular order. It holds exactly the rows
// the run wrote (every row of TriggerOutput::updates, as a Cassandra sink
// upserts them), each once, at its last count: a row is appended when it is
// final (TriggerOutput::finalized: its day closed, or the input ended), and
// the rows still open when the run ends are appended by Commit. For a file
// run that is the whole table; for a Kafka run, whose durable state never
// ends, the rows changed in this run, open days included. It holds in memory
// only rows written but not yet final (the open days). The file appears at its
// path only on Commit.
class CsvSink final : public Sink {
 public:
  static absl::StatusOr<std::unique_ptr<CsvSink>> Create(const std::string& path);
  explicit CsvSink(std::unique_ptr<AtomicOutputFile> file);

  absl::Status Write(int64_t batch_id, const TriggerOutput& output) override;
  absl::Status Commit() override;
  std::string Describe() const override;

 private:
  void Append(const DailyCount& row);

  std::unique_ptr<AtomicOutputFile> file_;
  std::string text_;  // formatted rows not yet handed to the file
  // Rows of updates not yet finalized, with their last count.
  absl::flat_hash_map<std::pair<Uuid, Day>, int64_t> open_;
};

}  // namespace tally
