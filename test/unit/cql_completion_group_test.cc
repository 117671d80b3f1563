// CompletionGroup: a completion wakes a waiter only once what it waits for
// holds (its low-water mark), not on every completion.

#include "cql/completion_group.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tally::cql {
namespace {

TEST(CqlCompletionGroup, CompletionsWakeNobodyWithoutAWaiter) {
  CompletionGroup group;
  std::vector<ResultCallback> callbacks;
  for (int i = 0; i < 100; ++i) callbacks.push_back(group.Add());
  for (auto& done : callbacks) done(Result());
  EXPECT_EQ(group.pending(), 0);
  EXPECT_EQ(group.succeeded(), 100);
  EXPECT_EQ(group.wakeups(), 0);
  EXPECT_TRUE(group.Wait().ok());
}

TEST(CqlCompletionGroup, AWaiterIsWokenOnlyAtOrBelowItsMark) {
  CompletionGroup group;
  std::vector<ResultCallback> callbacks;
  for (int i = 0; i < 100; ++i) callbacks.push_back(group.Add());
  std::thread waiter([&] { group.WaitUntilPendingAtMost(5); });
  // Completions from 100 pending down to 6 must not wake the waiter,
  // whenever it started waiting; those from 5 to 0 may.
  for (auto& done : callbacks) done(Result());
  waiter.join();
  EXPECT_EQ(group.pending(), 0);
  EXPECT_LE(group.wakeups(), 6);
}

TEST(CqlCompletionGroup, WaitReportsTheFirstErrorWithCounts) {
  CompletionGroup group;
  ResultCallback ok = group.Add(), bad = group.Add();
  std::thread waiter([&] {
    const absl::Status s = group.Wait();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(s.message(), "1 of 2 requests failed; first: gone");
  });
  bad(absl::UnavailableError("gone"));
  ok(Result());
  waiter.join();
}

}  // namespace
}  // namespace tally::cql
