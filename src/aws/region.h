#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/credentials.h"

namespace tally::aws {

// Whether `region` has the shape of an AWS region name: lower-case words
// joined by '-', ending in a number ("us-east-1", "us-gov-west-1").
bool IsRegionName(absl::string_view region);

// The region of an Amazon Keyspaces service endpoint host
// "cassandra[-fips].REGION.amazonaws.com[.cn]" (a port after ':' ignored);
// empty for any other host.
std::string KeyspacesEndpointRegion(absl::string_view host);

// The region to sign for: `flag` if not empty, else AWS_REGION, else
// AWS_DEFAULT_REGION, else the region of the Keyspaces endpoints in `hosts`.
// INVALID_ARGUMENT, saying what to set, when there is none, when it is not a
// region name, or when it differs from the region an endpoint names (the
// server would refuse the signature).
absl::StatusOr<std::string> ResolveRegion(absl::string_view flag, const Getenv& getenv,
                                          const std::vector<std::string>& hosts);

}  // namespace tally::aws
