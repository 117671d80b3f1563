#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aws/credentials.h"

namespace tally::aws {

// Credentials kept current: fetched once by Start, then, if they expire,
// fetched again by a background thread `refresh_ahead` before they do (and
// every `retry_interval` after a failed attempt, until they have expired).
// Current() never blocks on a fetch, so the CQL io thread may call it.
//
// Thread-safe. The destructor stops and joins the refresh thread.
class RefreshingCredentials {
 public:
  struct Options {
    absl::Duration refresh_ahead = absl::Minutes(5);
    absl::Duration retry_interval = absl::Seconds(30);
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  // Fails with the provider's error, or UNAUTHENTICATED when the credentials
  // it gave have already expired.
  static absl::StatusOr<std::unique_ptr<RefreshingCredentials>> Start(std::unique_ptr<CredentialsProvider> provider,
                                                                       Options options);
  static absl::StatusOr<std::unique_ptr<RefreshingCredentials>> Start(std::unique_ptr<CredentialsProvider> provider) {
    return Start(std::move(provider), Options());
  }

  RefreshingCredentials(const RefreshingCredentials&) = delete;
  RefreshingCredentials& operator=(const RefreshingCredentials&) = delete;
  ~RefreshingCredentials();

  // The latest credentials; UNAUTHENTICATED naming their source, when they
  // expired and when, and the last refresh error, once they have expired.
  absl::StatusOr<Credentials> Current() const;

  // Successful fetches so far, the first included (for tests and metrics).
  int fetches() const;

 private:
  RefreshingCredentials(std::unique_ptr<CredentialsProvider> provider, Options options, Credentials first);
  void RefreshLoop();

  std::unique_ptr<CredentialsProvider> provider_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  Credentials current_;        // guarded by mu_
  absl::Status last_error_;    // guarded by mu_
  int fetches_ = 1;            // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::aws
