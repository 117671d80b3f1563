#pragma once

// The places AWS credentials come from, in the order of the AWS SDKs'
// default chain (tally reads the subset that a service on ECS, EKS or EC2,
// or an operator's shell, needs):
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   2. shared credentials file: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
//      profile AWS_PROFILE or "default" (static keys only)
//   3. container endpoint (ECS task role, EKS Pod Identity):
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
//      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN
//   4. EC2 instance metadata, IMDSv2 (instance role): a session token by PUT,
//      then the role's credentials; AWS_EC2_METADATA_DISABLED=true skips it,
//      AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
// Not read: ~/.aws/config (role_arn, sso_session, credential_process) and
// web identity (EKS IRSA's AWS_WEB_IDENTITY_TOKEN_FILE).

#include <memory>
#include <string>
#include <vector>

#include "aws/credentials.h"

namespace tally::aws {

class EnvironmentCredentials final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentials(Getenv getenv) : getenv_(std::move(getenv)) {}
  absl::StatusOr<Credentials> Fetch() override;

 private:
  Getenv getenv_;
};

class ProfileCredentials final : public CredentialsProvider {
 public:
  explicit ProfileCredentials(Getenv getenv) : getenv_(std::move(getenv)) {}
  absl::StatusOr<Credentials> Fetch() override;

 private:
  Getenv getenv_;
};

class ContainerCredentials final : public CredentialsProvider {
 public:
  // `relative_base` is where a relative URI points (ECS's fixed address);
  // tests move it.
  explicit ContainerCredentials(Getenv getenv, std::string relative_base = "http://169.254.170.2")
      : getenv_(std::move(getenv)), relative_base_(std::move(relative_base)) {}
  absl::StatusOr<Credentials> Fetch() override;

 private:
  Getenv getenv_;
  std::string relative_base_;
};

class InstanceCredentials final : public CredentialsProvider {
 public:
  explicit InstanceCredentials(Getenv getenv) : getenv_(std::move(getenv)) {}
  absl::StatusOr<Credentials> Fetch() override;

 private:
  Getenv getenv_;
};

// Tries each provider in turn: the first that is configured answers (its
// credentials or its error); NOT_FOUND from all of them becomes
// UNAUTHENTICATED "no AWS credentials found: ..." naming each place looked at
// and what to set.
class CredentialsChain final : public CredentialsProvider {
 public:
  explicit CredentialsChain(std::vector<std::unique_ptr<CredentialsProvider>> providers)
      : providers_(std::move(providers)) {}
  absl::StatusOr<Credentials> Fetch() override;

 private:
  std::vector<std::unique_ptr<CredentialsProvider>> providers_;
};

// The four above, in order.
std::unique_ptr<CredentialsProvider> DefaultCredentialsChain(Getenv getenv);

}  // namespace tally::aws
