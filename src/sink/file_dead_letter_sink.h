#pragma once

#include <memory>
#include <string>

#include "sink/atomic_output_file.h"
#include "sink/dead_letter_sink.h"

namespace tally {

// Writes dead letters as JSON lines:
//   {"reason":"not_json","detail":"...","source":"file:in.jsonl","partition":0,
//    "line":17,"encoding":"utf8","record":"<the record as a JSON string>"}
// A record whose bytes are not UTF-8 is written with "encoding":"base64" and
// its bytes base64-encoded, so every record survives byte for byte. The key of
// the position ("line", "offset") comes from the source.
class FileDeadLetterSink final : public DeadLetterSink {
 public:
  // `file` is made by the run's OutputFileSet, with its other outputs.
  FileDeadLetterSink(std::unique_ptr<AtomicOutputFile> file, std::string source_name, std::string position_name);

  absl::Status Write(std::span<const DeadLetter> letters) override;
  absl::Status Commit() override;
  std::string Describe() const override;

 private:
  std::unique_ptr<AtomicOutputFile> file_;
  std::string source_name_;
  std::string position_name_;
  std::string text_;
};

}  // namespace tally
