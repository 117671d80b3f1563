#include "aws/credential_providers.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aws/http_client.h"

namespace tally::aws {
namespace {

std::optional<std::string> NonEmpty(const Getenv& getenv, const std::string& name) {
  auto v = getenv(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::FailedPreconditionError(absl::StrCat(path, ": cannot read"));
  return text.str();
}

// The keys of one [profile] of an INI credentials file; nullopt if absent.
std::optional<std::vector<std::pair<std::string, std::string>>> ProfileSection(absl::string_view text,
                                                                              absl::string_view profile) {
  std::optional<std::vector<std::pair<std::string, std::string>>> found;
  bool inside = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      absl::string_view name = absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
      inside = name == profile;
      if (inside && !found) found.emplace();
      continue;
    }
    if (!inside) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    found->emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq))),
                        std::string(absl::StripAsciiWhitespace(line.substr(eq + 1))));
  }
  return found;
}

// Plain HTTP only to the addresses AWS's own SDKs allow for a container
// endpoint (loopback, ECS, EKS Pod Identity); anything else needs https.
bool ContainerUrlAllowed(absl::string_view url) {
  if (absl::StartsWith(url, "https://")) return true;
  if (!absl::ConsumePrefix(&url, "http://")) return false;
  absl::string_view host;
  if (absl::StartsWith(url, "[")) {
    host = url.substr(0, url.find(']') == absl::string_view::npos ? url.size() : url.find(']') + 1);
  } else {
    host = url.substr(0, url.find_first_of(":/"));
  }
  return host == "localhost" || absl::StartsWith(host, "127.") || host == "[::1]" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

}  // namespace

absl::StatusOr<Credentials> EnvironmentCredentials::Fetch() {
  auto id = NonEmpty(getenv_, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(getenv_, "AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) return absl::NotFoundError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  if (!id || !secret) {
    return absl::InvalidArgumentError(absl::StrCat(
        id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY", " is set but ", id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
        " is not: set both (and AWS_SESSION_TOKEN for temporary keys), or neither to use another source"));
  }
  Credentials c;
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = NonEmpty(getenv_, "AWS_SESSION_TOKEN").value_or("");
  c.source = "the environment (AWS_ACCESS_KEY_ID)";
  if (auto expiration = NonEmpty(getenv_, "AWS_CREDENTIAL_EXPIRATION")) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *expiration, &t, &err)) {
      return absl::InvalidArgumentError(
          absl::StrCat("AWS_CREDENTIAL_EXPIRATION '", *expiration, "' is not an RFC 3339 time"));
    }
    c.expiration = t;
  }
  return c;
}

absl::StatusOr<Credentials> ProfileCredentials::Fetch() {
  const auto file_var = NonEmpty(getenv_, "AWS_SHARED_CREDENTIALS_FILE");
  const auto profile_var = NonEmpty(getenv_, "AWS_PROFILE");
  std::string path;
  if (file_var) {
    path = *file_var;
  } else if (auto home = NonEmpty(getenv_, "HOME")) {
    path = absl::StrCat(*home, "/.aws/credentials");
  } else {
    return absl::NotFoundError("no HOME, so no ~/.aws/credentials");
  }
  const std::string profile = profile_var.value_or("default");
  // Named explicitly, the file and profile must be there: falling through to
  // another source would sign as someone else than the operator asked.
  const bool named = file_var.has_value() || profile_var.has_value();
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status()) && !named) return text.status();
    return absl::FailedPreconditionError(
        absl::StrCat("AWS shared credentials file ", text.status().message(),
                     file_var ? " (AWS_SHARED_CREDENTIALS_FILE)" : "",
                     profile_var ? absl::StrCat(", where AWS_PROFILE names profile '", profile, "'") : "",
                     ": create it, or unset the variable to use another source"));
  }
  auto section = ProfileSection(*text, profile);
  if (!section) {
    if (!named) return absl::NotFoundError(absl::StrCat(path, " has no [", profile, "] profile"));
    return absl::FailedPreconditionError(absl::StrCat("AWS profile '", profile, "' is not in ", path,
                                                      profile_var ? " (AWS_PROFILE)" : "",
                                                      ": add it, or name a profile that is there"));
  }
  Credentials c;
  for (const auto& [key, value] : *section) {
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "AWS profile '", profile, "' in ", path,
        " has no aws_access_key_id and aws_secret_access_key (tally reads static keys from the credentials file; "
        "role_arn, sso and credential_process profiles are not supported: export the keys, or run with a task or "
        "instance role)"));
  }
  c.source = absl::StrCat("profile '", profile, "' of ", path);
  return c;
}

absl::StatusOr<Credentials> ContainerCredentials::Fetch() {
  std::string url;
  if (auto relative = NonEmpty(getenv_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = absl::StrCat(relative_base_, *relative);
  } else if (auto full = NonEmpty(getenv_, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    if (!ContainerUrlAllowed(url)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI '", url,
          "': plain http is allowed only to loopback or the ECS/EKS link-local addresses; use https"));
    }
  } else {
    return absl::NotFoundError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
  }
  HttpRequest request;
  request.url = url;
  request.timeout = absl::Seconds(5);
  std::optional<std::string> token;
  if (auto token_file = NonEmpty(getenv_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto text = ReadFile(*token_file);
    if (!text.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ", text.status().message()));
    }
    token = std::string(absl::StripAsciiWhitespace(*text));
  } else {
    token = NonEmpty(getenv_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) request.headers.emplace_back("Authorization", *token);
  const std::string source = absl::StrCat("the container credentials endpoint ", url);
  auto response = SendHttpRequest(request);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat(source, " does not answer: ", response.status().message()));
  }
  if (response->status != 200) {
    return absl::UnauthenticatedError(absl::StrCat(source, " answered HTTP ", response->status, ": ",
                                                   response->body.substr(0, 200),
                                                   " (is the task role or pod identity association set?)"));
  }
  return ParseCredentialsJson(response->body, source);
}

absl::StatusOr<Credentials> InstanceCredentials::Fetch() {
  if (auto disabled = getenv_("AWS_EC2_METADATA_DISABLED"); disabled && absl::AsciiStrToLower(*disabled) == "true") {
    return absl::NotFoundError("the EC2 instance metadata service is disabled (AWS_EC2_METADATA_DISABLED)");
  }
  std::string base = NonEmpty(getenv_, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (absl::EndsWith(base, "/")) base.pop_back();
  const std::string source = absl::StrCat("the EC2 instance metadata service ", base);

  HttpRequest put;
  put.method = "PUT";
  put.url = absl::StrCat(base, "/latest/api/token");
  put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  auto token = SendHttpRequest(put);
  // Nothing answering is the normal case off EC2: not configured.
  if (!token.ok()) return absl::NotFoundError(absl::StrCat(source, " does not answer: ", token.status().message()));
  // Refused (403: IMDS turned off for the instance, or not EC2 at all behind
  // a proxy): no credentials here either, so the chain's message lists it.
  if (token->status != 200) {
    return absl::NotFoundError(absl::StrCat(source, " refused a session token (HTTP ", token->status,
                                            "; tally speaks IMDSv2 only)"));
  }
  const std::string session = std::string(absl::StripAsciiWhitespace(token->body));

  HttpRequest list;
  list.url = absl::StrCat(base, "/latest/meta-data/iam/security-credentials/");
  list.headers.emplace_back("X-aws-ec2-metadata-token", session);
  auto roles = SendHttpRequest(list);
  if (!roles.ok()) return absl::UnavailableError(absl::StrCat(source, ": ", roles.status().message()));
  if (roles->status == 404) {
    return absl::NotFoundError(absl::StrCat(source, ": this instance has no IAM role (attach an instance profile)"));
  }
  if (roles->status != 200) {
    return absl::UnavailableError(absl::StrCat(source, " answered HTTP ", roles->status, " for the instance's role"));
  }
  absl::string_view role = absl::StripAsciiWhitespace(roles->body);
  role = role.substr(0, role.find('\n'));
  if (role.empty()) return absl::NotFoundError(absl::StrCat(source, ": this instance has no IAM role"));

  HttpRequest get;
  get.url = absl::StrCat(list.url, role);
  get.headers.emplace_back("X-aws-ec2-metadata-token", session);
  auto creds = SendHttpRequest(get);
  if (!creds.ok()) return absl::UnavailableError(absl::StrCat(source, ": ", creds.status().message()));
  if (creds->status != 200) {
    return absl::UnavailableError(
        absl::StrCat(source, " answered HTTP ", creds->status, " for the credentials of role ", role));
  }
  return ParseCredentialsJson(creds->body, absl::StrCat(source, " (role ", role, ")"));
}

absl::StatusOr<Credentials> CredentialsChain::Fetch() {
  std::vector<std::string> looked;
  for (const auto& provider : providers_) {
    auto c = provider->Fetch();
    if (c.ok() || !absl::IsNotFound(c.status())) return c;
    looked.emplace_back(c.status().message());
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "no AWS credentials found (", absl::StrJoin(looked, "; "),
      "): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials, or run with an "
      "ECS task role, EKS pod identity or EC2 instance role"));
}

std::unique_ptr<CredentialsProvider> DefaultCredentialsChain(Getenv getenv) {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  providers.push_back(std::make_unique<EnvironmentCredentials>(getenv));
  providers.push_back(std::make_unique<ProfileCredentials>(getenv));
  providers.push_back(std::make_unique<ContainerCredentials>(getenv));
  providers.push_back(std::make_unique<InstanceCredentials>(getenv));
  return std::make_unique<CredentialsChain>(std::move(providers));
}

}  // namespace tally::aws
