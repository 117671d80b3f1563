#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "sink/atomic_output_file.h"
#include "sink/sink.h"

namespace tally {

// Writes the final table as CSV: header `user_uuid,created_date,event_count`,
// one row per learner and day, in no particular order. A row whose day has
// closed is final and goes to the file at once; rows of open days wait in
// memory, since they may still change, and are written at Commit. The file
// appears at its path only on Commit.
class CsvSink final : public Sink {
 public:
  static absl::StatusOr<std::unique_ptr<CsvSink>> Create(const std::string& path);
  explicit CsvSink(std::unique_ptr<AtomicOutputFile> file);

  absl::Status Write(int64_t batch_id, const TriggerOutput& output) override;
  absl::Status Commit() override;
  std::string Describe() const override;

 private:
  void AppendRow(const DailyCount& row);
  absl::Status FlushText();

  struct Key {
    Uuid user;
    Day day;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.user, k.day);
    }
  };

  std::unique_ptr<AtomicOutputFile> file_;
  absl::flat_hash_map<Key, int64_t> open_rows_;
  std::string text_;  // formatted rows not yet handed to the file
};

}  // namespace tally
