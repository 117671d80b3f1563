#pragma once

#include <chrono>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"

namespace tally::cql {

// When a request that reached a server, or may have, is tried again.
//
// Always (the server says it did not apply the request): Unavailable (0x1000),
// Overloaded (0x1001), IsBootstrapping (0x1002).
// Only for idempotent statements (it may have been applied, so a second try
// must be harmless; tally's upserts are): WriteTimeout (0x1100), ReadTimeout
// (0x1200), no response within the client's request timeout, and a connection
// lost with the request in flight.
// Never: every other server error (syntax, invalid, unauthorized, config,
// bad credentials, ...) and client-side errors (bad values).
//
// `status` is what the attempt failed with: a server error made by ToStatus,
// DEADLINE_EXCEEDED from the connection's timer or UNAVAILABLE from a lost
// connection. A request that could not be sent at all (no connection) is the
// session's business: it is always safe to retry.
bool ShouldRetry(const absl::Status& status, bool idempotent);

// The pause before retry number `retry` (1 for the first): exponential,
// base * 2^(retry-1) capped at `max`, with "equal jitter" (a uniform draw from
// the upper half) so that clients that failed together do not retry together.
std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                       absl::BitGenRef gen);

}  // namespace tally::cql
