#include "aws/region.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tally::aws {

bool IsRegionName(absl::string_view region) {
  std::vector<absl::string_view> parts = absl::StrSplit(region, '-');
  if (parts.size() < 3) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) return false;
    for (char c : parts[i]) {
      const bool ok = i + 1 == parts.size() ? absl::ascii_isdigit(c) : absl::ascii_islower(c);
      if (!ok) return false;
    }
  }
  return true;
}

std::string KeyspacesEndpointRegion(absl::string_view host) {
  host = host.substr(0, host.find(':'));
  if (!absl::ConsumePrefix(&host, "cassandra.") && !absl::ConsumePrefix(&host, "cassandra-fips.")) return "";
  if (!absl::ConsumeSuffix(&host, ".amazonaws.com") && !absl::ConsumeSuffix(&host, ".amazonaws.com.cn")) return "";
  return std::string(host);
}

absl::StatusOr<std::string> ResolveRegion(absl::string_view flag, const Getenv& getenv,
                                          const std::vector<std::string>& hosts) {
  std::string region;
  std::string from;
  if (!flag.empty()) {
    region = std::string(flag);
    from = "--aws-region";
  } else if (auto env = getenv("AWS_REGION"); env && !env->empty()) {
    region = *env;
    from = "AWS_REGION";
  } else if (auto env2 = getenv("AWS_DEFAULT_REGION"); env2 && !env2->empty()) {
    region = *env2;
    from = "AWS_DEFAULT_REGION";
  }
  std::string endpoint_region;
  std::string endpoint;
  for (const std::string& h : hosts) {
    endpoint_region = KeyspacesEndpointRegion(h);
    if (!endpoint_region.empty()) {
      endpoint = h;
      break;
    }
  }
  if (region.empty()) {
    if (endpoint_region.empty()) {
      return absl::InvalidArgumentError(
          "SigV4 needs the AWS region: give --aws-region REGION (or set AWS_REGION), e.g. us-east-1");
    }
    region = endpoint_region;
    from = endpoint;
  }
  if (!IsRegionName(region)) {
    return absl::InvalidArgumentError(absl::StrCat("'", region, "' (", from,
                                                   ") is not an AWS region name: give one such as us-east-1"));
  }
  if (!endpoint_region.empty() && endpoint_region != region) {
    return absl::InvalidArgumentError(absl::StrCat("region ", region, " (", from, ") is not the region of ", endpoint,
                                                   " (", endpoint_region,
                                                   "): the signature would be refused; make them agree"));
  }
  return region;
}

}  // namespace tally::aws
