#include "sink/output_file_set.h"

#include "absl/strings/str_cat.h"

namespace tally {

absl::StatusOr<std::unique_ptr<AtomicOutputFile>> OutputFileSet::Create(const std::string& path) {
  auto file = AtomicOutputFile::Create(path, /*deferred=*/true);
  if (file.ok()) files_.push_back(file->get());
  return file;
}

absl::Status OutputFileSet::Publish() {
  for (const AtomicOutputFile* file : files_) {
    if (!file->prepared()) {
      return absl::FailedPreconditionError(absl::StrCat(file->path(), " was not committed; no output was renamed"));
    }
  }
  for (AtomicOutputFile* file : files_) {
    if (auto s = file->Publish(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace tally
