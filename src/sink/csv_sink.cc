#include "sink/csv_sink.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

constexpr size_t kFlushBytes = 64 << 10;

}  // namespace

absl::StatusOr<std::unique_ptr<CsvSink>> CsvSink::Create(const std::string& path, bool state_outlives_run) {
  auto file = AtomicOutputFile::Create(path);
  if (!file.ok()) return file.status();
  return std::make_unique<CsvSink>(std::move(*file), state_outlives_run);
}

CsvSink::CsvSink(std::unique_ptr<AtomicOutputFile> file, bool state_outlives_run)
    : file_(std::move(file)), state_outlives_run_(state_outlives_run) {
  text_ = "user_uuid,created_date,event_count\n";
}

std::string CsvSink::Describe() const { return absl::StrCat("csv:", file_->path()); }

absl::Status CsvSink::Append(const DailyCount& row) {
  char uuid[kUuidTextLength];
  FormatUuid(row.user, uuid);
  absl::StrAppend(&text_, absl::string_view(uuid, kUuidTextLength), ",", FormatDay(row.day), ",", row.count, "\n");
  // The text of a trigger's rows stays small, however many.
  return text_.size() >= kFlushBytes ? Flush() : absl::OkStatus();
}

absl::Status CsvSink::Flush() {
  absl::Status s = file_->Append(text_);
  text_.clear();
  return s;
}

absl::Status CsvSink::Write(int64_t, const TriggerOutput& output) {
  if (state_outlives_run_) {
    for (const DailyCount& row : output.updates) open_[{row.user, row.day}] = row.count;
  }
  for (const DailyCount& row : output.finalized) {
    if (state_outlives_run_) {
      // A row finalized without an update in this run (a day of a restored
      // state that closed unchanged) was written by an earlier run.
      const auto it = open_.find({row.user, row.day});
      if (it == open_.end()) continue;
      open_.erase(it);
    }
    if (auto s = Append(row); !s.ok()) return s;
  }
  return Flush();
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
  for (const DailyCount& row : rows) {
    if (auto s = Append(row); !s.ok()) return s;
  }
  if (auto s = Flush(); !s.ok()) return s;  // the header of an empty table
  return file_->Commit();
}

}  // namespace tally
