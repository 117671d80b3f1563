#include "sink/file_dead_letter_sink.h"

#include "absl/strings/escaping.h"
#include "core/json_string.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace tally {
namespace {

constexpr size_t kFlushBytes = 64 << 10;

}  // namespace

FileDeadLetterSink::FileDeadLetterSink(std::unique_ptr<AtomicOutputFile> file, std::string source_name,
                                       std::string position_name)
    : file_(std::move(file)), source_name_(std::move(source_name)), position_name_(std::move(position_name)) {}

std::string FileDeadLetterSink::Describe() const { return absl::StrCat("file:", file_->path()); }

absl::Status FileDeadLetterSink::Write(std::span<const DeadLetter> letters) {
  text_.clear();
  for (const DeadLetter& letter : letters) {
    absl::StrAppend(&text_, "{\"reason\":\"", ReasonName(letter.reason), "\",\"detail\":");
    AppendJsonString(letter.detail, &text_);
    text_ += ",\"source\":";
    AppendJsonString(source_name_, &text_);
    absl::StrAppend(&text_, ",\"partition\":", letter.origin.partition, ",\"", position_name_,
                    "\":", letter.origin.position);
    if (simdjson::validate_utf8(letter.bytes)) {
      text_ += ",\"encoding\":\"utf8\",\"record\":";
      AppendJsonString(letter.bytes, &text_);
    } else {
      absl::StrAppend(&text_, ",\"encoding\":\"base64\",\"record\":\"", absl::Base64Escape(letter.bytes), "\"");
    }
    text_ += "}\n";
    if (text_.size() >= kFlushBytes) {  // the text of many letters stays small
      if (auto s = file_->Append(text_); !s.ok()) return s;
      text_.clear();
    }
  }
  return file_->Append(text_);
}

absl::Status FileDeadLetterSink::Commit() { return file_->Commit(); }

}  // namespace tally
