#pragma once

#include <memory>
#include <string>

#include "sink/atomic_output_file.h"
#include "sink/sink.h"

namespace tally {

// Writes the final table as CSV: header `user_uuid,created_date,event_count`,
// one row per learner and day, in no particular order. It writes each row once,
// when the row is final (TriggerOutput::finalized: its day closed, or the input
// ended), so it holds no rows in memory; updates of rows that may still change
// are not its business. The file appears at its path only on Commit (for a
// file of an OutputFileSet: when the set is published).
class CsvSink final : public Sink {
 public:
  static absl::StatusOr<std::unique_ptr<CsvSink>> Create(const std::string& path);
  explicit CsvSink(std::unique_ptr<AtomicOutputFile> file);

  absl::Status Write(int64_t batch_id, const TriggerOutput& output) override;
  absl::Status Commit() override;
  std::string Describe() const override;

 private:
  std::unique_ptr<AtomicOutputFile> file_;
  std::string text_;  // formatted rows not yet handed to the file
};

}  // namespace tally
