#include "cql/retry_policy.h"

#include <gtest/gtest.h>

#include "absl/random/random.h"
#include "cql/server_error.h"

namespace tally::cql {
namespace {

absl::Status Server(ErrorCode code) {
  ServerError e;
  e.code = code;
  e.message = "m";
  return ToStatus(e, "h:9042");
}

TEST(CqlRetryPolicy, ServerSaysNotApplied) {
  for (ErrorCode c : {ErrorCode::kUnavailable, ErrorCode::kOverloaded, ErrorCode::kIsBootstrapping}) {
    EXPECT_TRUE(ShouldRetry(Server(c), false)) << static_cast<int>(c);
    EXPECT_TRUE(ShouldRetry(Server(c), true));
  }
}

TEST(CqlRetryPolicy, MaybeAppliedOnlyWhenIdempotent) {
  for (ErrorCode c : {ErrorCode::kWriteTimeout, ErrorCode::kReadTimeout}) {
    EXPECT_FALSE(ShouldRetry(Server(c), false));
    EXPECT_TRUE(ShouldRetry(Server(c), true));
  }
  const absl::Status client_timeout = absl::DeadlineExceededError("no response");
  const absl::Status lost = absl::UnavailableError("connection lost");
  EXPECT_FALSE(ShouldRetry(client_timeout, false));
  EXPECT_TRUE(ShouldRetry(client_timeout, true));
  EXPECT_FALSE(ShouldRetry(lost, false));
  EXPECT_TRUE(ShouldRetry(lost, true));
}

TEST(CqlRetryPolicy, NeverForRequestErrors) {
  for (ErrorCode c : {ErrorCode::kSyntaxError, ErrorCode::kUnauthorized, ErrorCode::kInvalid, ErrorCode::kConfigError,
                      ErrorCode::kBadCredentials, ErrorCode::kAlreadyExists, ErrorCode::kServerError,
                      ErrorCode::kWriteFailure}) {
    EXPECT_FALSE(ShouldRetry(Server(c), true)) << static_cast<int>(c);
  }
  EXPECT_FALSE(ShouldRetry(absl::InvalidArgumentError("bad value"), true));
  EXPECT_FALSE(ShouldRetry(absl::OkStatus(), true));
}

TEST(CqlRetryPolicy, BackoffGrowsWithJitterAndIsCapped) {
  absl::BitGen gen;
  using std::chrono::milliseconds;
  for (int i = 0; i < 100; ++i) {
    const milliseconds first = BackoffDelay(1, milliseconds(100), milliseconds(10000), gen);
    EXPECT_GE(first.count(), 50);
    EXPECT_LE(first.count(), 100);
    const milliseconds fourth = BackoffDelay(4, milliseconds(100), milliseconds(10000), gen);
    EXPECT_GE(fourth.count(), 400);
    EXPECT_LE(fourth.count(), 800);
    const milliseconds late = BackoffDelay(60, milliseconds(100), milliseconds(10000), gen);
    EXPECT_GE(late.count(), 5000);
    EXPECT_LE(late.count(), 10000);
  }
}

}  // namespace
}  // namespace tally::cql
