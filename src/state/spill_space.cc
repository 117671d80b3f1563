#include "state/spill_space.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tally {
SpillSpace::SpillSpace(uint64_t bytes, std::string path, bool temporary)
    : path_(std::move(path)),
      temporary_(temporary),
      share_(bytes) {}

SpillSpace::~SpillSpace() {
  std::error_code ec;
  if (temporary_) std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<SpillSpace>> SpillSpace::Open(uint64_t bytes, const std::string& state_dir) {
  if (bytes < kMinBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--state-memory ", bytes, " bytes: below the minimum ", kMinBytes >> 20, "MiB"));
  }
  std::error_code ec;
  std::string path;
  if (!state_dir.empty()) {
    path = (std::filesystem::path(state_dir) / "spill").string();
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat("cannot make the dedup spill directory ", path, ": ",
                                                        ec.message()));
    }
  } else {
    std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
    if (ec) tmp = "/tmp";
    std::string pattern = (tmp / "tally-spill-XXXXXX").string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    if (mkdtemp(name.data()) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("cannot make a dedup spill directory under ", tmp.string(),
                                                        ": ", std::generic_category().message(errno)));
    }
    path = name.data();
  }
  return std::unique_ptr<SpillSpace>(new SpillSpace(bytes, std::move(path), state_dir.empty()));
}

absl::StatusOr<std::unique_ptr<DedupStore>> SpillSpace::OpenDedupStore(int32_t partition, Micros lateness) {
  auto store = SpillingDedupStore::Open((std::filesystem::path(path_) / absl::StrCat("partition-", partition)).string(),
                                        lateness, &share_);
  if (!store.ok()) return store.status();
  return std::unique_ptr<DedupStore>(std::move(*store));
}

}  // namespace tally
