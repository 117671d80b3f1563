#include "sink/csv_sink.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tally {

absl::StatusOr<std::unique_ptr<CsvSink>> CsvSink::Create(const std::string& path) {
  auto file = AtomicOutputFile::Create(path);
  if (!file.ok()) return file.status();
  return std::make_unique<CsvSink>(std::move(*file));
}

CsvSink::CsvSink(std::unique_ptr<AtomicOutputFile> file) : file_(std::move(file)) {
  text_ = "user_uuid,created_date,event_count\n";
}

std::string CsvSink::Describe() const { return absl::StrCat("csv:", file_->path()); }

void CsvSink::Append(const DailyCount& row) {
  char uuid[kUuidTextLength];
  FormatUuid(row.user, uuid);
  absl::StrAppend(&text_, absl::string_view(uuid, kUuidTextLength), ",", FormatDay(row.day), ",", row.count, "\n");
}

absl::Status CsvSink::Write(int64_t, const TriggerOutput& output) {
  for (const DailyCount& row : output.updates) open_[{row.user, row.day}] = row.count;
  for (const DailyCount& row : output.finalized) {
    // A row finalized without an update in this run (a day of a restored
    // state that closed unchanged) was written by an earlier run.
    const auto it = open_.find({row.user, row.day});
    if (it == open_.end()) continue;
    open_.erase(it);
    Append(row);
  }
  absl::Status s = file_->Append(text_);
  text_.clear();
  return s;
}

absl::Status CsvSink::Commit() {
  // The rows still open: a run whose state outlives it (Kafka) never
  // finalizes them. Sorted, so that the same run writes the same file.
  std::vector<DailyCount> rows;
  rows.reserve(open_.size());
  for (const auto& [key, count] : open_) rows.push_back(DailyCount{key.first, key.second, count});
  open_.clear();
  std::sort(rows.begin(), rows.end(),
            [](const DailyCount& a, const DailyCount& b) { return std::tie(a.user, a.day) < std::tie(b.user, b.day); });
  for (const DailyCount& row : rows) Append(row);
  if (auto s = file_->Append(text_); !s.ok()) return s;  // the header of an empty table
  text_.clear();
  return file_->Commit();
}

}  // namespace tally
