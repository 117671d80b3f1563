#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws/credential_providers.h"
#include "aws/refreshing_credentials.h"
#include "aws/region.h"
#include "aws_fake_http_server.h"

namespace tally::aws {
namespace {

using testing::CannedResponse;
using testing::FakeHttpServer;
using testing::SeenRequest;

Getenv Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/tally-aws-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr char kRoleJson[] =
    R"({"Code":"Success","AccessKeyId":"ASIAROLE","SecretAccessKey":"rolesecret","Token":"roletoken",)"
    R"("Expiration":"2030-01-01T00:00:00Z"})";

// --- environment ---

TEST(AwsEnvironmentCredentials, ReadsTheThreeVariables) {
  auto c = EnvironmentCredentials(Env({{"AWS_ACCESS_KEY_ID", "AKID"},
                                       {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                       {"AWS_SESSION_TOKEN", "TOKEN"}}))
               .Fetch();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "SECRET");
  EXPECT_EQ(c->session_token, "TOKEN");
  EXPECT_FALSE(c->expiration.has_value());
}

TEST(AwsEnvironmentCredentials, UnsetIsNotFoundAndHalfSetIsAnError) {
  EXPECT_TRUE(absl::IsNotFound(EnvironmentCredentials(Env({})).Fetch().status()));
  auto half = EnvironmentCredentials(Env({{"AWS_ACCESS_KEY_ID", "AKID"}})).Fetch();
  EXPECT_EQ(half.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(half.status().message(), "AWS_SECRET_ACCESS_KEY is not")) << half.status();
}

// --- shared credentials file ---

TEST(AwsProfileCredentials, ReadsTheNamedProfile) {
  TempDir dir;
  const std::string file = dir.Write("credentials",
                                     "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key=d\n\n"
                                     "# a comment\n[ci]\naws_access_key_id=CIKEY\naws_secret_access_key = cisecret\n"
                                     "aws_session_token=citoken\n");
  auto c = ProfileCredentials(Env({{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "ci"}})).Fetch();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "CIKEY");
  EXPECT_EQ(c->secret_access_key, "cisecret");
  EXPECT_EQ(c->session_token, "citoken");
  EXPECT_TRUE(absl::StrContains(c->source, "profile 'ci'"));
}

TEST(AwsProfileCredentials, DefaultProfileUnderHome) {
  TempDir dir;
  dir.Write(".aws/credentials", "[default]\naws_access_key_id=HOMEKEY\naws_secret_access_key=s\n");
  auto c = ProfileCredentials(Env({{"HOME", dir.path()}})).Fetch();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "HOMEKEY");
}

TEST(AwsProfileCredentials, MissingIsNotFoundUnlessNamed) {
  TempDir dir;
  EXPECT_TRUE(absl::IsNotFound(ProfileCredentials(Env({{"HOME", dir.path()}})).Fetch().status()));
  // A profile named explicitly must exist: never fall through to other credentials.
  const std::string file = dir.Write("credentials", "[default]\naws_access_key_id=K\naws_secret_access_key=s\n");
  auto c = ProfileCredentials(Env({{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "prod"}})).Fetch();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(c.status().message(), "AWS profile 'prod' is not in")) << c.status();
  auto gone = ProfileCredentials(Env({{"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/nope"}})).Fetch();
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition);
}

// --- container endpoint (ECS task role, EKS Pod Identity) ---

TEST(AwsContainerCredentials, FullUriWithAuthorizationToken) {
  FakeHttpServer server([](const SeenRequest& r) {
    if (r.path == "/creds" && r.headers.count("authorization") && r.headers.at("authorization") == "Bearer xyz") {
      return CannedResponse{200, kRoleJson};
    }
    return CannedResponse{403, "denied"};
  });
  auto c = ContainerCredentials(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"},
                                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer xyz"}}))
               .Fetch();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIAROLE");
  EXPECT_EQ(c->session_token, "roletoken");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, absl::FromUnixSeconds(1893456000));  // 2030-01-01T00:00:00Z
}

TEST(AwsContainerCredentials, RelativeUriAndTokenFile) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "from-file\n");
  FakeHttpServer server([](const SeenRequest& r) {
    if (r.path == "/v2/credentials/abc" && r.headers.count("authorization") && r.headers.at("authorization") == "from-file") {
      return CannedResponse{200, kRoleJson};
    }
    return CannedResponse{404, ""};
  });
  auto c = ContainerCredentials(Env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file}}),
                                server.url())
               .Fetch();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIAROLE");
}

TEST(AwsContainerCredentials, RefusalAndPlainHttpElsewhereAreErrors) {
  FakeHttpServer server([](const SeenRequest&) { return CannedResponse{403, "no role"}; });
  auto refused = ContainerCredentials(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"}})).Fetch();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "HTTP 403")) << refused.status();
  auto remote = ContainerCredentials(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}})).Fetch();
  EXPECT_EQ(remote.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::IsNotFound(ContainerCredentials(Env({})).Fetch().status()));
}

// --- EC2 instance metadata, IMDSv2 ---

TEST(AwsInstanceCredentials, TokenThenRoleThenCredentials) {
  FakeHttpServer server([](const SeenRequest& r) {
    if (r.method == "PUT" && r.path == "/latest/api/token" &&
        r.headers.count("x-aws-ec2-metadata-token-ttl-seconds")) {
      return CannedResponse{200, "SESSION"};
    }
    if (!r.headers.count("x-aws-ec2-metadata-token") || r.headers.at("x-aws-ec2-metadata-token") != "SESSION") {
      return CannedResponse{401, ""};
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/") return CannedResponse{200, "tally-role\n"};
    if (r.path == "/latest/meta-data/iam/security-credentials/tally-role") return CannedResponse{200, kRoleJson};
    return CannedResponse{404, ""};
  });
  auto c = InstanceCredentials(Env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}})).Fetch();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIAROLE");
  EXPECT_TRUE(absl::StrContains(c->source, "role tally-role"));
  ASSERT_EQ(server.seen().size(), 3u);
  EXPECT_EQ(server.seen()[0].method, "PUT");
}

TEST(AwsInstanceCredentials, NoServiceOrNoRoleIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(InstanceCredentials(Env({{"AWS_EC2_METADATA_DISABLED", "true"}})).Fetch().status()));
  FakeHttpServer server([](const SeenRequest& r) {
    if (r.method == "PUT") return CannedResponse{200, "SESSION"};
    return CannedResponse{404, ""};
  });
  auto c = InstanceCredentials(Env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}})).Fetch();
  EXPECT_TRUE(absl::IsNotFound(c.status())) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "no IAM role")) << c.status();
}

// --- the chain ---

TEST(AwsCredentialsChain, FirstConfiguredSourceWinsAndNoneSaysWhatToSet) {
  TempDir dir;
  dir.Write(".aws/credentials", "[default]\naws_access_key_id=FILEKEY\naws_secret_access_key=s\n");
  auto env_first = DefaultCredentialsChain(Env({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                                {"AWS_SECRET_ACCESS_KEY", "s"},
                                                {"HOME", dir.path()}}))
                       ->Fetch();
  ASSERT_TRUE(env_first.ok());
  EXPECT_EQ(env_first->access_key_id, "ENVKEY");
  auto file_next = DefaultCredentialsChain(Env({{"HOME", dir.path()}}))->Fetch();
  ASSERT_TRUE(file_next.ok());
  EXPECT_EQ(file_next->access_key_id, "FILEKEY");

  TempDir empty;
  auto none = DefaultCredentialsChain(Env({{"HOME", empty.path()}, {"AWS_EC2_METADATA_DISABLED", "true"}}))->Fetch();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "no AWS credentials found")) << none.status();
  EXPECT_TRUE(absl::StrContains(none.status().message(), "set AWS_ACCESS_KEY_ID")) << none.status();
}

// --- refreshing ---

// Hands out credentials from a script and counts the fetches.
class ScriptedProvider final : public CredentialsProvider {
 public:
  explicit ScriptedProvider(std::vector<absl::StatusOr<Credentials>> script) : script_(std::move(script)) {}
  absl::StatusOr<Credentials> Fetch() override {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t i = std::min(calls_, script_.size() - 1);
    ++calls_;
    cv_.notify_all();
    return script_[i];
  }
  bool AwaitCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_ >= n; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  size_t calls_ = 0;
  std::vector<absl::StatusOr<Credentials>> script_;
};

Credentials Temporary(std::string id, absl::Time expiration) {
  Credentials c;
  c.access_key_id = std::move(id);
  c.secret_access_key = "s";
  c.session_token = "t";
  c.expiration = expiration;
  c.source = "the script";
  return c;
}

TEST(AwsRefreshingCredentials, RefreshesFiveMinutesBeforeExpiry) {
  const absl::Time now = absl::Now();
  // Four minutes left: inside the five-minute window, so refreshed at once;
  // the new ones are short-lived too, so fetched again after the retry
  // interval: a third fetch shows the second one's result was stored.
  auto provider = std::make_unique<ScriptedProvider>(std::vector<absl::StatusOr<Credentials>>{
      Temporary("OLD", now + absl::Minutes(4)), Temporary("NEW", now + absl::Minutes(4))});
  ScriptedProvider* p = provider.get();
  RefreshingCredentials::Options options;
  options.retry_interval = absl::Milliseconds(1);
  auto creds = RefreshingCredentials::Start(std::move(provider), options);
  ASSERT_TRUE(creds.ok()) << creds.status();
  ASSERT_TRUE(p->AwaitCalls(3));
  EXPECT_GE((*creds)->fetches(), 2);
  EXPECT_EQ((*creds)->Current()->access_key_id, "NEW");
}

TEST(AwsRefreshingCredentials, LongLivedCredentialsAreNotFetchedAgain) {
  const absl::Time now = absl::Now();
  auto provider = std::make_unique<ScriptedProvider>(std::vector<absl::StatusOr<Credentials>>{
      Temporary("KEY", now + absl::Hours(1))});
  ScriptedProvider* p = provider.get();
  auto creds = RefreshingCredentials::Start(std::move(provider));
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ((*creds)->Current()->access_key_id, "KEY");
  {
    std::lock_guard<std::mutex> lock(p->mu_);
    EXPECT_EQ(p->calls_, 1u);  // the refresh thread waits for 55 minutes
  }
  creds->reset();  // stops that thread at once; destroys the provider, and *p with it
}

TEST(AwsRefreshingCredentials, ExpiredCredentialsAreRefused) {
  const absl::Time now = absl::Now();
  auto start = RefreshingCredentials::Start(std::make_unique<ScriptedProvider>(
      std::vector<absl::StatusOr<Credentials>>{Temporary("OLD", now - absl::Minutes(1))}));
  EXPECT_EQ(start.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(start.status().message(), "expired at")) << start.status();

  // Valid at the start, expired later with the refresh failing: Current says so.
  absl::Time fake_now = now;
  std::mutex mu;
  RefreshingCredentials::Options options;
  options.now = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return fake_now;
  };
  auto provider = std::make_unique<ScriptedProvider>(std::vector<absl::StatusOr<Credentials>>{
      Temporary("OLD", now + absl::Hours(1)), absl::UnavailableError("metadata service down")});
  auto creds = RefreshingCredentials::Start(std::move(provider), options);
  ASSERT_TRUE(creds.ok());
  EXPECT_TRUE((*creds)->Current().ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    fake_now = now + absl::Hours(2);
  }
  auto late = (*creds)->Current();
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(late.status().message(), "expired at")) << late.status();
}

// --- region ---

TEST(AwsRegion, FlagThenEnvironmentThenEndpoint) {
  const std::vector<std::string> keyspaces = {"cassandra.eu-west-1.amazonaws.com:9142"};
  EXPECT_EQ(*ResolveRegion("eu-west-1", Env({{"AWS_REGION", "us-east-1"}}), keyspaces), "eu-west-1");
  EXPECT_EQ(*ResolveRegion("", Env({{"AWS_REGION", "us-east-1"}}), {"127.0.0.1:9042"}), "us-east-1");
  EXPECT_EQ(*ResolveRegion("", Env({{"AWS_DEFAULT_REGION", "ap-south-1"}}), {"10.0.0.1:9142"}), "ap-south-1");
  EXPECT_EQ(*ResolveRegion("", Env({}), keyspaces), "eu-west-1");
  EXPECT_EQ(*ResolveRegion("", Env({}), {"cassandra-fips.us-gov-west-1.amazonaws.com:9142"}), "us-gov-west-1");
}

TEST(AwsRegion, MissingMalformedOrContradictingIsRefused) {
  auto none = ResolveRegion("", Env({}), {"127.0.0.1:9042"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "--aws-region")) << none.status();
  auto bad = ResolveRegion("US_EAST_1", Env({}), {"127.0.0.1:9042"});
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "is not an AWS region name")) << bad.status();
  auto other = ResolveRegion("us-east-1", Env({}), {"cassandra.eu-west-1.amazonaws.com:9142"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(other.status().message(), "is not the region of")) << other.status();
}

}  // namespace
}  // namespace tally::aws
