#include "cql/endpoint.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace tally::cql {
namespace {

TEST(CqlEndpoint, Parses) {
  EXPECT_EQ(*ParseEndpoint("127.0.0.1:9042"), (Endpoint{"127.0.0.1", 9042}));
  EXPECT_EQ(*ParseEndpoint("cassandra.eu-west-1.amazonaws.com:9142"),
            (Endpoint{"cassandra.eu-west-1.amazonaws.com", 9142}));
  EXPECT_EQ(*ParseEndpoint("db"), (Endpoint{"db", 9042}));
  EXPECT_EQ(*ParseEndpoint("[::1]:9043"), (Endpoint{"::1", 9043}));
  EXPECT_EQ(ParseEndpoint("[::1]")->ToString(), "[::1]:9042");
}

TEST(CqlEndpoint, RejectsWithTheText) {
  for (const char* bad : {"", ":9042", "h:0", "h:65536", "h:x", "::1", "[::1", "[::1]x"}) {
    absl::StatusOr<Endpoint> e = ParseEndpoint(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find(absl::StrCat("\"", bad, "\"")), absl::string_view::npos) << e.status();
  }
}

}  // namespace
}  // namespace tally::cql
