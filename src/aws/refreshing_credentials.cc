#include "aws/refreshing_credentials.h"

#include "absl/strings/str_cat.h"

namespace tally::aws {
namespace {

absl::Status Expired(const Credentials& c, const absl::Status& last_error) {
  return absl::UnauthenticatedError(absl::StrCat(
      "the AWS credentials from ", c.source, " expired at ", absl::FormatTime(absl::RFC3339_sec, *c.expiration,
                                                                              absl::UTCTimeZone()),
      last_error.ok() ? "" : absl::StrCat(" and could not be refreshed: ", last_error.message()),
      ": renew them (for temporary keys in the environment or a profile, fetch new ones; a task or instance role "
      "renews itself)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RefreshingCredentials>> RefreshingCredentials::Start(
    std::unique_ptr<CredentialsProvider> provider, Options options) {
  auto first = provider->Fetch();
  if (!first.ok()) return first.status();
  if (first->expiration && *first->expiration <= options.now()) return Expired(*first, absl::OkStatus());
  return std::unique_ptr<RefreshingCredentials>(
      new RefreshingCredentials(std::move(provider), std::move(options), std::move(*first)));
}

RefreshingCredentials::RefreshingCredentials(std::unique_ptr<CredentialsProvider> provider, Options options,
                                             Credentials first)
    : provider_(std::move(provider)), options_(std::move(options)), current_(std::move(first)) {
  // Keys that do not expire need no thread.
  if (current_.expiration) thread_ = std::thread([this] { RefreshLoop(); });
}

RefreshingCredentials::~RefreshingCredentials() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RefreshingCredentials::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  absl::Time next = *current_.expiration - options_.refresh_ahead;
  while (!stop_) {
    const absl::Duration wait = next - options_.now();
    if (wait > absl::ZeroDuration()) {
      wake_.wait_for(lock, absl::ToChronoMilliseconds(wait), [&] { return stop_; });
      continue;  // woken early, or time to look again
    }
    lock.unlock();
    absl::StatusOr<Credentials> fresh = provider_->Fetch();  // may block: outside the lock
    lock.lock();
    if (fresh.ok()) {
      current_ = std::move(*fresh);
      last_error_ = absl::OkStatus();
      ++fetches_;
      // Credentials that no longer expire (a source changed) need no more refreshes.
      if (!current_.expiration) return;
      next = *current_.expiration - options_.refresh_ahead;
      // Fresh credentials already inside the window (a short-lived role) are
      // not fetched again at once, but after the retry interval.
      if (next <= options_.now()) next = options_.now() + options_.retry_interval;
    } else {
      last_error_ = fresh.status();
      next = options_.now() + options_.retry_interval;
    }
  }
}

absl::StatusOr<Credentials> RefreshingCredentials::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_.expiration && *current_.expiration <= options_.now()) return Expired(current_, last_error_);
  return current_;
}

int RefreshingCredentials::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

}  // namespace tally::aws
