#include "sink/csv_sink.h"

#include "absl/strings/str_cat.h"

namespace tally {
namespace {

constexpr size_t kFlushBytes = 64 << 10;

}  // namespace

absl::StatusOr<std::unique_ptr<CsvSink>> CsvSink::Create(const std::string& path) {
  auto file = AtomicOutputFile::Create(path);
  if (!file.ok()) return file.status();
  return std::make_unique<CsvSink>(std::move(*file));
}

CsvSink::CsvSink(std::unique_ptr<AtomicOutputFile> file) : file_(std::move(file)) {
  text_ = "user_uuid,created_date,event_count\n";
}

std::string CsvSink::Describe() const { return absl::StrCat("csv:", file_->path()); }

absl::Status CsvSink::Write(int64_t, const TriggerOutput& output) {
  char uuid[kUuidTextLength];
  for (const DailyCount& row : output.finalized) {
    FormatUuid(row.user, uuid);
    absl::StrAppend(&text_, absl::string_view(uuid, kUuidTextLength), ",", FormatDay(row.day), ",", row.count, "\n");
    if (text_.size() >= kFlushBytes) {  // the text of a trigger's rows stays small, however many
      if (auto s = file_->Append(text_); !s.ok()) return s;
      text_.clear();
    }
  }
  absl::Status s = file_->Append(text_);
  text_.clear();
  return s;
}

absl::Status CsvSink::Commit() {
  if (auto s = file_->Append(text_); !s.ok()) return s;  // the header of an empty table
  text_.clear();
  return file_->Commit();
}

}  // namespace tally
