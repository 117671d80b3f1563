#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "source/source.h"

namespace tally {

// Reads JSON lines from a file, or from standard input for the path "-", as one
// partition (0) whose positions are 1-based line numbers. A line of only
// white space is not a record. The last line needs no newline.
//
// Lines of any length are read whole (an oversized record still reaches the
// dead letters with all its bytes); the buffer grows for them and shrinks back.
class FileSource final : public Source {
 public:
  // Fails, naming the path, if it cannot be opened for reading.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path);
  // Takes ownership of `fd` (unless it is 0, standard input). Prefer Open.
  FileSource(int fd, std::string path, bool is_stream);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  absl::Status Poll(absl::Duration max_wait, RecordBatch* batch) override;
  std::string Describe() const override;
  const char* position_name() const override { return "line"; }

 private:
  absl::Status Fill(absl::Duration max_wait, bool* waited_out);
  absl::Status Error(const char* what, int err) const;

  int fd_;
  std::string path_;
  bool is_stream_;  // a pipe or terminal: wait with poll(2) so triggers still fire
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // end of the bytes read
  bool eof_ = false;
  int64_t line_ = 0;
};

// The path a command-line input spec names: "file:PATH" -> PATH, and "-" ->
// "-" (standard input); nullopt for anything else.
std::optional<std::string> FileSourcePath(std::string_view spec);

}  // namespace tally
