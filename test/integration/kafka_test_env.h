#pragma once

// What the Kafka integration tests share: where the broker is, and names no
// other run uses.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace tally {

// The local stack's broker (scripts/local-stack), or $TALLY_KAFKA.
inline std::string KafkaAddress() {
  const char* env = std::getenv("TALLY_KAFKA");
  return env && *env ? env : "127.0.0.1:9092";
}

// A name no other run uses: topics, transactional ids and groups.
inline std::string UniqueName(const std::string& what) {
  static absl::BitGen gen;
  return absl::StrCat("tally-it-", what, "-", getpid(), "-", absl::Uniform<uint32_t>(gen));
}

}  // namespace tally
