#include "core/uuid.h"

#include <gtest/gtest.h>

namespace tally {
namespace {

TEST(Uuid, ParsesCanonicalFormInEitherCase) {
  Uuid lower, upper;
  ASSERT_TRUE(ParseUuid("0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab", &lower));
  ASSERT_TRUE(ParseUuid("0B6E1C2A-6F3B-4C2D-9E8F-0123456789AB", &upper));
  EXPECT_EQ(lower, upper);
  EXPECT_EQ(lower.hi, 0x0b6e1c2a6f3b4c2dULL);
  EXPECT_EQ(lower.lo, 0x9e8f0123456789abULL);
  EXPECT_EQ(FormatUuid(upper), "0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab");
}

TEST(Uuid, RejectsEverythingElse) {
  Uuid u;
  for (const char* bad : {"", "0b6e1c2a6f3b4c2d9e8f0123456789ab", "{0b6e1c2a-6f3b-4c2d-9e8f-0123456789ab}",
                          "0b6e1c2a-6f3b-4c2d-9e8f-0123456789a", "0b6e1c2a-6f3b-4c2d-9e8f-0123456789abc",
                          "0b6e1c2a_6f3b-4c2d-9e8f-0123456789ab", "0b6e1c2a-6f3b-4c2d-9e8f-0123456789ag",
                          "0b6e1c2a-6f3b-4c2d-9e8f -123456789ab", "urn:uuid:0b6e1c2a-6f3b-4c2d-9e8f-01234567"}) {
    EXPECT_FALSE(ParseUuid(bad, &u)) << bad;
  }
}

}  // namespace
}  // namespace tally
