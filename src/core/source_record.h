#pragma once

#include <string_view>

#include "core/dead_letter.h"

namespace tally {

// One record as a source delivers it: a view of its bytes (owned by the
// source, valid until its next poll) and where it came from.
struct SourceRecord {
  std::string_view bytes;
  RecordOrigin origin;
};

}  // namespace tally
