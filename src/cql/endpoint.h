#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tally::cql {

inline constexpr uint16_t kDefaultCqlPort = 9042;

// Where a server listens: a host name or IP literal, and a port. A value type.
struct Endpoint {
  std::string host;
  uint16_t port = kDefaultCqlPort;

  // "host:port", with IPv6 literals in brackets: "[::1]:9042".
  std::string ToString() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses "host", "host:port", "[v6]" or "[v6]:port" (port 1..65535, default
// 9042). InvalidArgument, quoting the text, for anything else.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text);

}  // namespace tally::cql
