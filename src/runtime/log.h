#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace tally {

// `text` made safe to show on a terminal. Status messages carry what peers
// sent (a Cassandra server's error text, a broker's reason, a file's bytes),
// and a peer must be able neither to forge a line of tally's own (a newline,
// then "tally: ... all outputs committed.") nor to drive the terminal (ANSI
// and OSC escapes). So every byte a terminal acts on is written as an escape:
// C0 controls and DEL (\n, \r, \t, \x1b, ...), C1 controls (U+0080..U+009F,
// which some terminals take as CSI) and bytes that are not UTF-8 (\xNN) — and
// a backslash as \\, so that an escape is never ambiguous. Other UTF-8 text is
// kept as it is.
std::string PrintableText(absl::string_view text);

// Writes "PREFIX: TEXT\n" to stderr in one call, with TEXT made printable as
// above. Every diagnostic of tally goes through it. Thread-safe (stdio locks
// the stream for the call).
void LogLine(absl::string_view prefix, absl::string_view text);

}  // namespace tally
