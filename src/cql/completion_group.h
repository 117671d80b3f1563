#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cql/result.h"

namespace tally::cql {

// Waits for a set of asynchronous requests: take a callback from Add() for
// each request submitted, then Wait() for all of them. Also bounds the
// requests in flight: WaitUntilPendingAtMost(n) before each submission.
//
//   CompletionGroup group;
//   for (const Row& r : rows) {
//     group.WaitUntilPendingAtMost(4096);
//     session.ExecuteAsync(upsert, Values(r), opts, group.Add());
//   }
//   absl::Status s = group.Wait();  // OK, or the first error with counts
//
// A completion wakes the waiters only once the pending count is at or below
// what they wait for (the highest threshold, with several waiters): a writer
// that waits for a low-water mark rather than for room for one more request
// is woken once per burst, not once per completion.
//
// Thread-safe. The callbacks it hands out point to it, so it must outlive
// them; the destructor waits for every one still pending. A caller that may
// stop waiting before every request is done (a deadline) holds the group by
// shared_ptr and has each callback hold a copy too.
class CompletionGroup {
 public:
  CompletionGroup() = default;
  CompletionGroup(const CompletionGroup&) = delete;
  CompletionGroup& operator=(const CompletionGroup&) = delete;
  ~CompletionGroup();

  // Counts one more pending request; the callback counts it done. Call it
  // exactly once.
  ResultCallback Add();
  // The same, and forwards the outcome to `then` first (e.g. to read rows).
  ResultCallback Add(ResultCallback then);

  // Blocks until at most `n` requests are pending.
  void WaitUntilPendingAtMost(int64_t n);
  // Blocks until none is pending. Returns OK if every request since the group
  // was made succeeded, else the first error, its message prefixed with how
  // many failed ("3 of 1000 requests failed; first: ...").
  absl::Status Wait();
  // As Wait, but gives up after `timeout` with DEADLINE_EXCEEDED.
  absl::Status WaitFor(absl::Duration timeout);
  // Blocks until at most `n` requests are pending (true) or `timeout` passes
  // (false): the building block of a wait that also watches a deadline or a
  // stop flag.
  bool WaitForPendingAtMost(int64_t n, absl::Duration timeout);

  int64_t pending() const;
  int64_t succeeded() const;
  int64_t failed() const;
  // How many times a completion woke the waiters (for tests and metrics).
  int64_t wakeups() const;

 private:
  void Done(const absl::Status& status);
  absl::Status OutcomeLocked() const;
  // Blocks on cv_ until pending_ <= n, or for at most *timeout if given; true
  // if the condition holds. Registers n as a wake-up threshold meanwhile.
  bool WaitLocked(std::unique_lock<std::mutex>& lock, int64_t n, const absl::Duration* timeout);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t pending_ = 0;
  int64_t succeeded_ = 0;
  int64_t failed_ = 0;
  absl::Status first_error_;
  // The waiters, and the highest pending count any of them waits for: a
  // completion notifies only at or below it. Reset when the last one leaves.
  int waiters_ = 0;
  int64_t wake_at_ = -1;
  int64_t wakeups_ = 0;
};

}  // namespace tally::cql
