#include "cql/retry_policy.h"

#include <algorithm>

#include "absl/random/distributions.h"
#include "cql/server_error.h"

namespace tally::cql {

bool ShouldRetry(const absl::Status& status, bool idempotent) {
  if (status.ok()) return false;
  if (std::optional<ErrorCode> code = ServerErrorCodeOf(status)) {
    switch (*code) {
      case ErrorCode::kUnavailable:
      case ErrorCode::kOverloaded:
      case ErrorCode::kIsBootstrapping:
        return true;
      case ErrorCode::kWriteTimeout:
      case ErrorCode::kReadTimeout:
        return idempotent;
      default:
        return false;
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:  // our timer
    case absl::StatusCode::kUnavailable:       // connection lost
      return idempotent;
    default:
      return false;
  }
}

std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                       absl::BitGenRef gen) {
  const int64_t cap = std::max<int64_t>(max.count(), 1);
  int64_t d = std::max<int64_t>(base.count(), 1);
  for (int i = 1; i < retry && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  const int64_t half = d / 2;
  return std::chrono::milliseconds(half + absl::Uniform<int64_t>(absl::IntervalClosed, gen, 0, d - half));
}

}  // namespace tally::cql
