#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cql/consistency.h"
#include "cql/frame.h"
#include "cql/value.h"
#include "cql/wire.h"

namespace tally::cql {

// Encoders of the request messages of protocol v4 (spec section 4.1). Each
// appends one whole frame (header and body) to *out, so that a caller can
// reuse one buffer, or put many frames in one buffer for one socket write.
// On failure (a value that cannot be encoded, a body over kMaxFrameBodySize, 16 MiB) *out is left
// as it was. Stateless; safe from any thread.

// The STARTUP options of this client: {"CQL_VERSION": "3.0.0"}, no compression.
StringMap DefaultStartupOptions();

void AppendOptionsRequest(std::string* out, int16_t stream);
absl::Status AppendStartupRequest(std::string* out, int16_t stream, const StringMap& options);
// The body is one [bytes] token; nullopt sends a null token.
absl::Status AppendAuthResponseRequest(std::string* out, int16_t stream, std::optional<absl::string_view> token);
absl::Status AppendPrepareRequest(std::string* out, int16_t stream, absl::string_view query);

// <query_parameters> of QUERY and EXECUTE (section 4.1.4). `values` is a view:
// it must outlive the Append call only.
struct QueryParameters {
  Consistency consistency = Consistency::kLocalQuorum;
  absl::Span<const Value> values;  // positional bind values; none when empty
  bool skip_metadata = false;      // ask for rows without column specs
  int32_t page_size = 0;           // > 0 pages the result
  std::optional<std::string> paging_state;
  std::optional<Consistency> serial_consistency;
  std::optional<int64_t> default_timestamp;  // microseconds since the epoch
};

absl::Status AppendQueryRequest(std::string* out, int16_t stream, absl::string_view query,
                                const QueryParameters& params);
absl::Status AppendExecuteRequest(std::string* out, int16_t stream, absl::string_view prepared_id,
                                  const QueryParameters& params);

enum class BatchType : uint8_t { kLogged = 0, kUnlogged = 1, kCounter = 2 };

// One statement of a BATCH: a prepared id (prepared == true) or query text,
// with its positional values (a view, as above).
struct BatchEntry {
  bool prepared = true;
  absl::string_view id_or_query;
  absl::Span<const Value> values;
};

struct BatchParameters {
  BatchType type = BatchType::kUnlogged;
  Consistency consistency = Consistency::kLocalQuorum;
  std::optional<Consistency> serial_consistency;
  std::optional<int64_t> default_timestamp;  // microseconds since the epoch
};

// At most 65535 entries, each with at most 65535 values.
absl::Status AppendBatchRequest(std::string* out, int16_t stream, absl::Span<const BatchEntry> entries,
                                const BatchParameters& params);

// Rewrites an EXECUTE or BATCH request frame, as the functions above build
// it, so that every prepared statement it carries has `id`; the rest is kept
// byte for byte. Lets a request be encoded once, straight from its caller's
// values, and still be sent again after its statement was prepared anew.
// INVALID_ARGUMENT for another opcode or a frame that does not parse; *frame
// is then unchanged.
absl::Status ReplacePreparedId(std::string* frame, absl::string_view id);

}  // namespace tally::cql
