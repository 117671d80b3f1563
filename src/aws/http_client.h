#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tally::aws {

// One plain HTTP exchange with a credentials endpoint (the ECS/EKS container
// endpoint, the EC2 instance metadata service), through libcurl: no proxy
// (these endpoints are link-local or loopback, and a proxy must never see the
// credentials), no redirects, bounded in time. Blocking; thread-safe.
struct HttpResponse {
  long status = 0;
  std::string body;
};

struct HttpRequest {
  std::string method = "GET";  // GET or PUT
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration timeout = absl::Seconds(3);
};

// The response, whatever its status; UNAVAILABLE naming the URL when no
// response came (refused, unreachable, timed out). Bodies over 1 MiB are cut
// off with DATA_LOSS: credentials are a few kB.
absl::StatusOr<HttpResponse> SendHttpRequest(const HttpRequest& request);

}  // namespace tally::aws
