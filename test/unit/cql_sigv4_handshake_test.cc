// The Keyspaces SigV4 SASL exchange against a scripted server that checks the
// signature the way Keyspaces does: from the secret it knows, the nonce it
// sent and the access key and amzdate the client names.

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "aws/sigv4.h"
#include "cql/session.h"
#include "cql/sigv4_sasl.h"
#include "cql_fake_server.h"

namespace tally::cql {
namespace {

using testing::AuthToken;
using testing::AnswerHandshake;
using testing::ErrorBody;
using testing::FakeServer;
using testing::Int;
using testing::Tally;
using testing::VoidResult;

constexpr char kAuthenticator[] = "com.amazonaws.cassandra.DefaultPasswordAuthenticator";
constexpr char kNonce[] = "5d3a0e5b6c2e4f7a8b9c0d1e2f3a4b5c";
constexpr char kRegion[] = "us-east-1";
constexpr char kKeyId[] = "ASIAEXAMPLE";
constexpr char kSecret[] = "role/secret+key";

std::string Bytes(const std::string& s) { return Int(static_cast<int32_t>(s.size())) + s; }

// The server's check, written out from the plugin's description rather than
// through SigV4ChallengeResponse.
bool SignatureHolds(const std::map<std::string, std::string>& fields) {
  const std::string& amzdate = fields.at("amzdate");
  if (amzdate.size() != 24) return false;
  const std::string date = amzdate.substr(0, 4) + amzdate.substr(5, 2) + amzdate.substr(8, 2);
  const std::string scope = absl::StrCat(date, "/", kRegion, "/cassandra/aws4_request");
  const std::string canonical = absl::StrCat(
      "PUT\n/authenticate\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=", fields.at("access_key"), "%2F",
      absl::StrReplaceAll(scope, {{"/", "%2F"}}), "&X-Amz-Date=", absl::StrReplaceAll(amzdate, {{":", "%3A"}}),
      "&X-Amz-Expires=900\nhost:cassandra\n\nhost\n", aws::Sha256Hex(kNonce));
  const std::string to_sign = absl::StrCat("AWS4-HMAC-SHA256\n", amzdate, "\n", scope, "\n", aws::Sha256Hex(canonical));
  return fields.at("signature") == aws::Signature(kSecret, date, kRegion, "cassandra", to_sign);
}

// A Keyspaces-like server: challenges "SigV4", checks the signature and the
// session token, answers the rest of the handshake and queries.
struct KeyspacesLike {
  Tally responses;  // every AUTH_RESPONSE token
  FakeServer server{[this](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body, kAuthenticator)) return;
    if (h.opcode == Opcode::kAuthResponse) {
      const std::string t = AuthToken(body);
      responses.Add(t);
      if (t == std::string("SigV4\0\0", 7)) {
        conn->Reply(h.stream, Opcode::kAuthChallenge, Bytes(absl::StrCat("nonce=", kNonce)));
        return;
      }
      std::map<std::string, std::string> fields;
      for (absl::string_view kv : absl::StrSplit(t, ',')) {
        std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
        fields.insert(p);
      }
      const bool ok = fields.count("signature") && fields.count("access_key") && fields.count("amzdate") &&
                      fields["access_key"] == kKeyId && fields["session_token"] == "TOKEN" && SignatureHolds(fields);
      if (ok) {
        conn->Reply(h.stream, Opcode::kAuthSuccess, Int(-1));
      } else {
        conn->Reply(h.stream, Opcode::kError,
                    ErrorBody(ErrorCode::kBadCredentials, "Authentication failure: Signature does not match"));
      }
      return;
    }
    if (h.opcode == Opcode::kQuery) conn->Reply(h.stream, Opcode::kResult, VoidResult());
  }};
};

SessionOptions Options(const FakeServer& server, std::string secret, std::string region = kRegion) {
  SessionOptions o;
  o.hosts = {server.address()};
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Seconds(5);
  o.max_retries = 0;
  aws::Credentials c;
  c.access_key_id = kKeyId;
  c.secret_access_key = std::move(secret);
  c.session_token = "TOKEN";
  c.source = "the test";
  o.sasl = std::make_shared<SigV4Sasl>([c] { return absl::StatusOr<aws::Credentials>(c); }, std::move(region));
  return o;
}

TEST(CqlSigV4Handshake, SignedResponseIsAccepted) {
  KeyspacesLike keyspaces;
  auto session = Session::Connect(Options(keyspaces.server, kSecret));
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_GE(keyspaces.responses.size(), 2u);
  EXPECT_EQ(keyspaces.responses.Get()[0], std::string("SigV4\0\0", 7));
  EXPECT_TRUE(absl::StrContains(keyspaces.responses.Get()[1], ",access_key=ASIAEXAMPLE,amzdate="));
  EXPECT_TRUE((*session)->Query("SELECT 1", {}).ok());
}

TEST(CqlSigV4Handshake, WrongSecretOrRegionIsRefusedWithAHint) {
  KeyspacesLike keyspaces;
  for (const auto& [secret, region] : {std::pair<std::string, std::string>{"wrong", kRegion}, {kSecret, "eu-west-1"}}) {
    auto session = Session::Connect(Options(keyspaces.server, secret, region));
    ASSERT_FALSE(session.ok());
    EXPECT_EQ(session.status().code(), absl::StatusCode::kUnauthenticated) << session.status();
    const absl::string_view message = session.status().message();
    EXPECT_TRUE(absl::StrContains(message, "Signature does not match")) << message;
    EXPECT_TRUE(absl::StrContains(message, "SigV4 as access key ASIAEXAMPLE from the test, region " + region))
        << message;
    EXPECT_FALSE(absl::StrContains(message, secret)) << message;
  }
}

TEST(CqlSigV4Handshake, NoCredentialsNoFallback) {
  KeyspacesLike keyspaces;
  SessionOptions o = Options(keyspaces.server, kSecret);
  o.username = "someone";  // PLAIN credentials too: must not be tried instead
  o.password = "pw";
  o.sasl = std::make_shared<SigV4Sasl>(
      [] { return absl::StatusOr<aws::Credentials>(absl::UnauthenticatedError("no AWS credentials found (...)")); },
      kRegion);
  auto session = Session::Connect(o);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(session.status().message(), "no AWS credentials found")) << session.status();
  for (const std::string& t : keyspaces.responses.Get()) EXPECT_FALSE(absl::StrContains(t, "someone"));
}

TEST(CqlSigV4Handshake, ChallengeWithoutNonceIsAProtocolError) {
  FakeServer server([](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body, kAuthenticator)) return;
    if (h.opcode == Opcode::kAuthResponse) conn->Reply(h.stream, Opcode::kAuthChallenge, Bytes("hello"));
  });
  auto session = Session::Connect(Options(server, kSecret));
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kDataLoss) << session.status();
  EXPECT_TRUE(absl::StrContains(session.status().message(), "has no nonce")) << session.status();
}

TEST(CqlSigV4Handshake, AServerThatAsksForNoAuthenticationIsRefused) {
  FakeServer server([](const auto& conn, const FrameHeader& h, const std::string& body) {
    if (AnswerHandshake(conn, h, body)) return;  // READY: no authenticator
    if (h.opcode == Opcode::kQuery) conn->Reply(h.stream, Opcode::kResult, VoidResult());
  });
  auto session = Session::Connect(Options(server, kSecret));
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kFailedPrecondition) << session.status();
  EXPECT_TRUE(absl::StrContains(session.status().message(), "asked for no authentication")) << session.status();
}

}  // namespace
}  // namespace tally::cql
