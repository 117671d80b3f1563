// SigV4 against AWS's published signing test suite (aws-sig-v4-test-suite,
// dated 2015-08-30: the same cases ship in awslabs/aws-c-auth
// tests/aws-signing-test-suite/v4 and botocore tests/unit/auth/aws4_testsuite),
// and the Keyspaces SASL response against the vector of AWS's Python plugin
// (aws/aws-sigv4-auth-cassandra-python-driver-plugin, tests/test_auth.py).

#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "cql/sigv4_sasl.h"

namespace tally::aws {
namespace {

constexpr char kAccessKey[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kDate[] = "20150830T123600Z";
constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

HttpRequestToSign Request(std::string method) {
  HttpRequestToSign r;
  r.method = std::move(method);
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}};
  return r;
}

TEST(AwsSigV4, Sha256OfNothing) { EXPECT_EQ(Sha256Hex(""), kEmptyHash); }

// get-vanilla
TEST(AwsSigV4, GetVanilla) {
  SignedHttpRequest s = SignHttpRequest(Request("GET"), kDate, "us-east-1", "service", kAccessKey, kSecret);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") +
                kEmptyHash);
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// get-vanilla-query-order-key-case: GET /?Param2=value2&Param1=value1, the
// query sorted before signing.
TEST(AwsSigV4, GetVanillaQueryOrderKeyCase) {
  HttpRequestToSign r = Request("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  SignedHttpRequest s = SignHttpRequest(r, kDate, "us-east-1", "service", kAccessKey, kSecret);
  EXPECT_NE(s.canonical_request.find("\nParam1=value1&Param2=value2\n"), std::string::npos) << s.canonical_request;
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

// post-x-www-form-urlencoded: a signed content type and a body.
TEST(AwsSigV4, PostXWwwFormUrlencoded) {
  HttpRequestToSign r = Request("POST");
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.payload = "Param1=value1";
  SignedHttpRequest s = SignHttpRequest(r, kDate, "us-east-1", "service", kAccessKey, kSecret);
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(s.signature, "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(AwsSigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(UriEncode("a-Z_0.~/ :é"), "a-Z_0.~%2F%20%3A%C3%A9");
  EXPECT_EQ(UriEncode("/a b", /*keep_slash=*/true), "/a%20b");
}

// The Keyspaces exchange, against the Python plugin's published vector.
TEST(KeyspacesSigV4, PluginVector) {
  Credentials c;
  c.access_key_id = "UserID-1";
  c.secret_access_key = "UserSecretKey-1";
  const absl::Time at = absl::FromCivil(absl::CivilSecond(2020, 6, 9, 22, 41, 51), absl::UTCTimeZone());
  EXPECT_EQ(HexEncode(SigningKey(c.secret_access_key, "20200609", "us-west-2", "cassandra")),
            "7fb139473f153aec1b05747b0cd5cd77a1186d22ae895a3a0128e699d72e1aba");
  EXPECT_EQ(cql::SigV4ChallengeResponse("91703fdc2ef562e19fbdab0f58e42fe5", at, c, "us-west-2"),
            "signature=7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87,access_key=UserID-1,"
            "amzdate=2020-06-09T22:41:51.000Z");
  c.session_token = "TOKEN/x+y=";
  EXPECT_EQ(cql::SigV4ChallengeResponse("91703fdc2ef562e19fbdab0f58e42fe5", at + absl::Milliseconds(7), c,
                                        "us-west-2")
                .substr(75),
            "access_key=UserID-1,amzdate=2020-06-09T22:41:51.007Z,session_token=TOKEN/x+y=");
}

TEST(KeyspacesSigV4, Nonce) {
  EXPECT_EQ(*cql::SigV4Nonce("nonce=0123abcd"), "0123abcd");
  EXPECT_EQ(*cql::SigV4Nonce("x nonce=0123abcd,other=1"), "0123abcd");
  EXPECT_FALSE(cql::SigV4Nonce("nothing here").ok());
  EXPECT_FALSE(cql::SigV4Nonce("nonce=").ok());
}

}  // namespace
}  // namespace tally::aws
