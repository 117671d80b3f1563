// The event-time watermark: W = max_seen - lateness, no value before the first
// valid record, never decreasing (docs/semantics.md, "Per record").

#include "core/watermark.h"

#include <gtest/gtest.h>

#include "core/event_time.h"

namespace tally {
namespace {

constexpr Micros kHour = 3600 * kMicrosPerSecond;
constexpr Micros k2024 = 1'704'067'200 * kMicrosPerSecond;  // 2024-01-01T00:00:00Z

TEST(Watermark, HasNoValueBeforeTheFirstObservation) {
  const Watermark w(7 * kMicrosPerDay);
  EXPECT_FALSE(w.has_value());
  EXPECT_EQ(w.value(), Watermark::kNone);
  EXPECT_EQ(w.lateness(), 7 * kMicrosPerDay);
  // Nothing is late yet, not even the earliest event time there is.
  EXPECT_FALSE(w.IsLate(kMinEventTime));
  EXPECT_FALSE(w.IsLate(0));
  EXPECT_FALSE(w.IsLate(kEndOfEventTime - 1));
}

TEST(Watermark, IsMaxSeenMinusLateness) {
  Watermark w(kHour);
  w.Observe(k2024);
  EXPECT_TRUE(w.has_value());
  EXPECT_EQ(w.max_seen(), k2024);
  EXPECT_EQ(w.value(), k2024 - kHour);
  w.Observe(k2024 + 5 * kHour);
  EXPECT_EQ(w.max_seen(), k2024 + 5 * kHour);
  EXPECT_EQ(w.value(), k2024 + 4 * kHour);
}

TEST(Watermark, TheFirstObservationSetsItWhateverTheTime) {
  // Even an event at the epoch, whose W lies before every valid time.
  Watermark w(7 * kMicrosPerDay);
  w.Observe(0);
  EXPECT_TRUE(w.has_value());
  EXPECT_EQ(w.max_seen(), 0);
  EXPECT_EQ(w.value(), -7 * kMicrosPerDay);
  EXPECT_FALSE(w.IsLate(0));
}

TEST(Watermark, NeverDecreases) {
  Watermark w(kHour);
  w.Observe(k2024 + 10 * kHour);
  const Micros before = w.value();
  w.Observe(k2024);                // older, late
  w.Observe(k2024 + 9 * kHour);    // older, not late
  w.Observe(k2024 + 10 * kHour);   // equal
  EXPECT_EQ(w.value(), before);
  EXPECT_EQ(w.max_seen(), k2024 + 10 * kHour);
  w.Observe(k2024 + 10 * kHour + 1);
  EXPECT_EQ(w.value(), before + 1);
}

TEST(Watermark, LateMeansStrictlyBelow) {
  Watermark w(kHour);
  w.Observe(k2024 + kHour);  // W = k2024
  EXPECT_TRUE(w.IsLate(k2024 - 1));
  EXPECT_FALSE(w.IsLate(k2024));  // t == W is not late
  EXPECT_FALSE(w.IsLate(k2024 + 1));
  EXPECT_FALSE(w.IsLate(k2024 + 2 * kHour));
}

TEST(Watermark, ZeroLatenessMakesEveryOlderEventLate) {
  Watermark w(0);
  w.Observe(k2024);
  EXPECT_EQ(w.value(), k2024);
  EXPECT_FALSE(w.IsLate(k2024));
  EXPECT_TRUE(w.IsLate(k2024 - 1));
}

TEST(Watermark, FirstOpenDayIsTheDayOfW) {
  // Day d is closed once W >= start of d + 1, so the first open day is DayOf(W).
  Watermark w(kHour);
  const Day jan1 = DayOf(k2024);
  w.Observe(k2024 + kMicrosPerDay + kHour - 1);  // W = 2024-01-01T23:59:59.999999Z
  EXPECT_EQ(w.FirstOpenDay(), jan1);
  w.Observe(k2024 + kMicrosPerDay + kHour);  // W = 2024-01-02T00:00:00Z: Jan 1 closes
  EXPECT_EQ(w.FirstOpenDay(), jan1 + 1);
  w.Observe(k2024 + 3 * kMicrosPerDay + kHour);
  EXPECT_EQ(w.FirstOpenDay(), jan1 + 3);
}

TEST(Watermark, FirstOpenDayFloorsWBeforeTheEpoch) {
  Watermark w(7 * kMicrosPerDay);
  w.Observe(kMicrosPerDay);  // W = 1969-12-26
  EXPECT_EQ(w.FirstOpenDay(), -6);
  Watermark early(kHour);
  early.Observe(0);  // W = 1969-12-31T23:00:00Z
  EXPECT_EQ(early.FirstOpenDay(), -1);
}

TEST(Watermark, RestoreSetsMaxSeen) {
  Watermark w(kHour);
  w.Restore(k2024 + 2 * kHour);
  EXPECT_TRUE(w.has_value());
  EXPECT_EQ(w.max_seen(), k2024 + 2 * kHour);
  EXPECT_EQ(w.value(), k2024 + kHour);
  EXPECT_TRUE(w.IsLate(k2024 + kHour - 1));
  EXPECT_FALSE(w.IsLate(k2024 + kHour));
  // Later observations continue from the restored state and still never go back.
  w.Observe(k2024);
  EXPECT_EQ(w.max_seen(), k2024 + 2 * kHour);
  w.Observe(k2024 + 3 * kHour);
  EXPECT_EQ(w.value(), k2024 + 2 * kHour);
}

TEST(Watermark, RestoreMatchesTheObservedState) {
  Watermark observed(kHour), restored(kHour);
  for (Micros t : {k2024 + 5, k2024 + 3 * kHour, k2024 + kHour, k2024 + 2 * kHour}) observed.Observe(t);
  restored.Restore(observed.max_seen());
  EXPECT_EQ(restored.value(), observed.value());
  EXPECT_EQ(restored.max_seen(), observed.max_seen());
  EXPECT_EQ(restored.FirstOpenDay(), observed.FirstOpenDay());
}

}  // namespace
}  // namespace tally
