#include "sink/csv_sink.h"

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

void CsvSink::AppendRow(const DailyCount& row) {
  char uuid[kUuidTextLength];
  FormatUuid(row.user, uuid);
  absl::StrAppend(&text_, absl::string_view(uuid, kUuidTextLength), ",", FormatDay(row.day), ",", row.count, "\n");
}

absl::Status CsvSink::FlushText() {
  absl::Status s = file_->Append(text_);
  text_.clear();
  return s;
}

absl::Status CsvSink::Write(int64_t, const TriggerOutput& output) {
  for (const DailyCount& row : output.updates) open_rows_[Key{row.user, row.day}] = row.count;
  for (const DailyCount& row : output.finalized) {
    open_rows_.erase(Key{row.user, row.day});
    AppendRow(row);
  }
  return FlushText();
}

absl::Status CsvSink::Commit() {
  for (const auto& [key, count] : open_rows_) AppendRow(DailyCount{key.user, key.day, count});
  open_rows_.clear();
  if (auto s = FlushText(); !s.ok()) return s;
  return file_->Commit();
}

}  // namespace tally
