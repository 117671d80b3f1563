#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/record_parser.h"
#include "source/source.h"

namespace tally {

// Reads JSON lines from a file, or from standard input for the path "-", as one
// partition (0) whose positions are 1-based line numbers. A line of only
// white space is not a record. The last line needs no newline.
//
// Memory is bounded whatever the input, endless lines (/dev/zero) included:
//   - a line of up to `max_record_bytes` is delivered whole; a longer one is
//     read past in constant memory and delivered cut (SourceRecord::cut_size)
//     to its first kTooLargeKeptBytes, which makes it a too_large dead letter;
//   - the read buffer holds at most max_record_bytes + 2 * kReadChunk bytes,
//     and shrinks back to kReadChunk after a long line;
//   - a batch holds at most kMaxBatchRecords records, and stops taking lines
//     once it holds kMaxBatchBytes (so at most that plus one record).
// While it reads past a long line, a poll returns after each read (with an
// empty batch), so the runtime still triggers and sees a stop request.
class FileSource final : public Source {
 public:
  static constexpr size_t kReadChunk = size_t{1} << 20;
  static constexpr size_t kMaxBatchBytes = size_t{1} << 20;
  static constexpr size_t kMaxBatchRecords = size_t{1} << 14;

  // Fails, naming the path, if it cannot be opened for reading.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path,
                                                          size_t max_record_bytes = kDefaultMaxRecordBytes);
  // Takes ownership of `fd` (unless it is 0, standard input). Prefer Open.
  FileSource(int fd, std::string path, bool is_stream, size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  absl::Status Poll(absl::Duration max_wait, RecordBatch* batch) override;
  std::string Describe() const override;
  const char* position_name() const override { return "line"; }

  // The read buffer's size now (for tests of the memory bound).
  size_t buffer_capacity() const { return buffer_.capacity(); }

 private:
  // Reads once (after waiting up to max_wait for a stream) into the free end
  // of the buffer, growing it if a line needs room, up to the bound.
  absl::Status Fill(absl::Duration max_wait, bool* waited_out);
  absl::Status Error(const char* what, int err) const;
  // Moves the unread tail to the front (the previous batch's views are dead)
  // and gives back the memory a long line took.
  void Compact();
  // Takes the whole lines in the buffer into *batch, up to its bounds.
  void TakeLines(RecordBatch* batch, size_t* batch_bytes);
  // Reads past the rest of a cut line in the buffer; true once it ended (and
  // its record is in *batch).
  bool SkipCutLine(RecordBatch* batch);
  // Starts cutting the line that fills the buffer: keeps its first bytes and
  // drops the rest.
  void StartCutLine();
  void Emit(std::string_view line, uint64_t cut_size, RecordBatch* batch);

  int fd_;
  std::string path_;
  bool is_stream_;  // a pipe or terminal: wait with poll(2) so triggers still fire
  size_t max_record_bytes_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // end of the bytes read
  size_t no_newline_ = 0;  // bytes from begin_ known to hold no newline
  bool eof_ = false;
  int64_t line_ = 0;
  // The line being read past (over max_record_bytes, its newline not read yet).
  bool cutting_ = false;
  uint64_t cut_size_ = 0;      // its bytes so far
  bool cut_blank_ = true;      // only white space so far
  std::vector<char> cut_head_;  // its first bytes, padded; a batch's views may point here
  size_t cut_head_size_ = 0;
};

// The path a command-line input spec names: "file:PATH" -> PATH, and "-" ->
// "-" (standard input); nullopt for anything else.
std::optional<std::string> FileSourcePath(std::string_view spec);

}  // namespace tally
