#include "cql/completion_group.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace tally::cql {

CompletionGroup::~CompletionGroup() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return pending_ == 0; });
}

ResultCallback CompletionGroup::Add() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_;
  }
  return [this](absl::StatusOr<Result> r) { Done(r.status()); };
}

ResultCallback CompletionGroup::Add(ResultCallback then) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_;
  }
  return [this, then = std::move(then)](absl::StatusOr<Result> r) mutable {
    absl::Status s = r.status();
    then(std::move(r));
    Done(s);
  };
}

void CompletionGroup::Done(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status.ok()) {
    ++succeeded_;
  } else {
    if (failed_++ == 0) first_error_ = status;
  }
  --pending_;
  cv_.notify_all();  // under the lock: a waiter may destroy *this as soon as it sees pending_ == 0
}

void CompletionGroup::WaitUntilPendingAtMost(int64_t n) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return pending_ <= n; });
}

absl::Status CompletionGroup::OutcomeLocked() const {
  if (failed_ == 0) return absl::OkStatus();
  return absl::Status(first_error_.code(), absl::StrCat(failed_, " of ", failed_ + succeeded_,
                                                        " requests failed; first: ", first_error_.message()));
}

absl::Status CompletionGroup::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return pending_ == 0; });
  return OutcomeLocked();
}

absl::Status CompletionGroup::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return pending_ == 0; })) {
    return absl::DeadlineExceededError(
        absl::StrCat(pending_, " requests still pending after ", absl::FormatDuration(timeout)));
  }
  return OutcomeLocked();
}

bool CompletionGroup::WaitForPendingAtMost(int64_t n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return pending_ <= n; });
}

int64_t CompletionGroup::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}
int64_t CompletionGroup::succeeded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return succeeded_;
}
int64_t CompletionGroup::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

}  // namespace tally::cql
