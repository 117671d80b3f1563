#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/dead_letter.h"

namespace tally {

// One record as a source delivers it: a view of its bytes (owned by the
// source, valid until its next poll) and where it came from.
struct SourceRecord {
  std::string_view bytes;
  RecordOrigin origin;
  // Nonzero when the source kept only the first bytes of a record too large
  // to hold (over the record size limit, read past in constant memory): the
  // record's whole size, of which `bytes` is the start. Such a record is
  // always too_large.
  uint64_t cut_size = 0;
  // The record's Kafka key, a view like `bytes`; nullopt for a record without
  // one (a null key, or a source without keys: files).
  std::optional<std::string_view> key = std::nullopt;
};

}  // namespace tally
