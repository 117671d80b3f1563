#include "cql/completion_group.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace tally::cql {

CompletionGroup::~CompletionGroup() {
  std::unique_lock<std::mutex> lock(mu_);
  WaitLocked(lock, 0, nullptr);
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
  if (pending_ > wake_at_) return;  // no waiter's condition holds yet
  ++wakeups_;
  cv_.notify_all();  // under the lock: a waiter may destroy *this as soon as it sees pending_ == 0
}

bool CompletionGroup::WaitLocked(std::unique_lock<std::mutex>& lock, int64_t n, const absl::Duration* timeout) {
  if (pending_ <= n) return true;
  ++waiters_;
  wake_at_ = std::max(wake_at_, n);
  const auto ready = [&] { return pending_ <= n; };
  bool ok = true;
  if (timeout == nullptr) {
    cv_.wait(lock, ready);
  } else {
    ok = cv_.wait_for(lock, absl::ToChronoNanoseconds(*timeout), ready);
  }
  if (--waiters_ == 0) wake_at_ = -1;
  return ok;
}

void CompletionGroup::WaitUntilPendingAtMost(int64_t n) {
  std::unique_lock<std::mutex> lock(mu_);
  WaitLocked(lock, n, nullptr);
}

absl::Status CompletionGroup::OutcomeLocked() const {
  if (failed_ == 0) return absl::OkStatus();
  return absl::Status(first_error_.code(), absl::StrCat(failed_, " of ", failed_ + succeeded_,
                                                        " requests failed; first: ", first_error_.message()));
}

absl::Status CompletionGroup::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  WaitLocked(lock, 0, nullptr);
  return OutcomeLocked();
}

absl::Status CompletionGroup::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!WaitLocked(lock, 0, &timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat(pending_, " requests still pending after ", absl::FormatDuration(timeout)));
  }
  return OutcomeLocked();
}

bool CompletionGroup::WaitForPendingAtMost(int64_t n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return WaitLocked(lock, n, &timeout);
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
int64_t CompletionGroup::wakeups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wakeups_;
}

}  // namespace tally::cql
