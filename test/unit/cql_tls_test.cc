// The session over TLS against a TLS server in the test (127.0.0.1, with a
// certificate made here), since the local Cassandra speaks plain TCP only:
// the chain must verify against the CA file, the certificate must name the
// host, and turning verification off skips both.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cql/frame.h"
#include "cql/session.h"

namespace tally::cql {
namespace {

struct Credentials {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed certificate (its own CA) for the given subjectAltName, e.g.
// "IP:127.0.0.1".
Credentials MakeCertificate(const std::string& subject_alt_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tally test"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {{NID_basic_constraints, "critical,CA:TRUE"},
                                                    {NID_key_usage, "critical,keyCertSign,digitalSignature"},
                                                    {NID_subject_alt_name, subject_alt_name}};
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert.get(), key.get(), EVP_sha256());

  const auto to_string = [](BIO* bio) {
    char* data;
    const long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<size_t>(n));
    BIO_free(bio);
    return s;
  };
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert.get());
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return {to_string(cert_bio), to_string(key_bio)};
}

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << content;
  return path;
}

std::string Short(int n) { return std::string{static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)}; }
std::string Int(int32_t n) {
  const auto u = static_cast<uint32_t>(n);
  return std::string{static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff), static_cast<char>((u >> 8) & 0xff),
                     static_cast<char>(u & 0xff)};
}

// A CQL server over TLS that readies every connection and answers every query
// with a Void result.
class TlsServer {
 public:
  explicit TlsServer(const Credentials& credentials)
      : tls_(asio::ssl::context::tls_server), acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    tls_.use_certificate_chain(asio::buffer(credentials.cert_pem));
    tls_.use_private_key(asio::buffer(credentials.key_pem), asio::ssl::context::pem);
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsServer() {
    asio::post(io_, [this] {
      asio::error_code ignored;
      acceptor_.close(ignored);
      for (auto& s : sessions_) s->stream.lowest_layer().close(ignored);
    });
    thread_.join();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", acceptor_.local_endpoint().port()); }

 private:
  struct Peer {
    Peer(asio::ip::tcp::socket s, asio::ssl::context& ctx) : stream(std::move(s), ctx) {}
    asio::ssl::stream<asio::ip::tcp::socket> stream;
    char header[kFrameHeaderSize];
    std::string body;
    std::deque<std::string> out;
  };

  void Accept() {
    acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto peer = std::make_shared<Peer>(std::move(socket), tls_);
      sessions_.push_back(peer);
      peer->stream.async_handshake(asio::ssl::stream_base::server, [this, peer](asio::error_code ec) {
        if (!ec) ReadFrame(peer);
      });
      Accept();
    });
  }

  void ReadFrame(std::shared_ptr<Peer> p) {
    asio::async_read(p->stream, asio::buffer(p->header), [this, p](asio::error_code ec, size_t) {
      if (ec) return;
      absl::StatusOr<FrameHeader> h = DecodeFrameHeader(absl::string_view(p->header, kFrameHeaderSize), Direction::kRequest);
      if (!h.ok()) return;
      p->body.assign(h->length, '\0');
      asio::async_read(p->stream, asio::buffer(p->body), [this, p, h = *h](asio::error_code ec, size_t) {
        if (ec) return;
        switch (h.opcode) {
          case Opcode::kOptions: Reply(p, h.stream, Opcode::kSupported, Short(0)); break;
          case Opcode::kStartup: Reply(p, h.stream, Opcode::kReady, ""); break;
          default: Reply(p, h.stream, Opcode::kResult, Int(1)); break;
        }
        ReadFrame(p);
      });
    });
  }

  void Reply(const std::shared_ptr<Peer>& p, int16_t stream, Opcode op, const std::string& body) {
    std::string frame(kFrameHeaderSize, '\0');
    FrameHeader h;
    h.direction = Direction::kResponse;
    h.stream = stream;
    h.opcode = op;
    h.length = static_cast<uint32_t>(body.size());
    EncodeFrameHeader(h, frame.data());
    p->out.push_back(frame + body);
    if (p->out.size() == 1) Write(p);
  }

  void Write(std::shared_ptr<Peer> p) {
    asio::async_write(p->stream, asio::buffer(p->out.front()), [this, p](asio::error_code ec, size_t) {
      if (ec) return;
      p->out.pop_front();
      if (!p->out.empty()) Write(p);
    });
  }

  asio::io_context io_;
  asio::ssl::context tls_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Peer>> sessions_;  // io thread
  std::thread thread_;
};

SessionOptions TlsOptionsFor(const TlsServer& server) {
  SessionOptions o;
  o.hosts = {server.address()};
  o.tls = true;
  o.connect_timeout = absl::Seconds(5);
  o.max_retries = 0;
  return o;
}

TEST(CqlTls, VerifiesTheChainAndTheHostName) {
  const Credentials creds = MakeCertificate("IP:127.0.0.1");
  TlsServer server(creds);
  SessionOptions o = TlsOptionsFor(server);
  o.ca_file = WriteFile("cql_tls_ca.pem", creds.cert_pem);
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE((*s)->Query("SELECT 1").ok());
}

TEST(CqlTls, RejectsAnUntrustedCertificate) {
  const Credentials creds = MakeCertificate("IP:127.0.0.1");
  TlsServer server(creds);
  SessionOptions o = TlsOptionsFor(server);
  o.ca_file = WriteFile("cql_tls_other_ca.pem", MakeCertificate("IP:127.0.0.1").cert_pem);  // another CA
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  // Permanent, not an outage: trying again would meet the same certificate.
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), absl::StrCat("TLS handshake with ", server.address(), " failed")))
      << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "certificate verify failed")) << s.status();
}

TEST(CqlTls, RejectsACertificateForAnotherHost) {
  const Credentials creds = MakeCertificate("DNS:cassandra.example.com");
  TlsServer server(creds);
  SessionOptions o = TlsOptionsFor(server);
  o.ca_file = WriteFile("cql_tls_ca_other_host.pem", creds.cert_pem);
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "certificate verify failed")) << s.status();
  // Says what is wrong, not "unspecified certificate verification error".
  EXPECT_TRUE(absl::StrContains(s.status().message(),
                                "host name mismatch: the server's certificate does not name 127.0.0.1"))
      << s.status();
}

TEST(CqlTls, RejectsANameCertificateForAnotherName) {
  // Connecting by name: the certificate names another host.
  const Credentials creds = MakeCertificate("DNS:cassandra.example.com");
  TlsServer server(creds);
  SessionOptions o = TlsOptionsFor(server);
  o.hosts = {absl::StrCat("localhost:", server.address().substr(server.address().rfind(':') + 1))};
  o.ca_file = WriteFile("cql_tls_ca_other_name.pem", creds.cert_pem);
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(),
                                "host name mismatch: the server's certificate does not name localhost"))
      << s.status();
}

TEST(CqlTls, PlaintextServerIsAPermanentFailure) {
  // TLS to a server that speaks plain CQL (or anything else): not an outage.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::thread peer([&] {
    asio::ip::tcp::socket socket = acceptor.accept();
    char buffer[512];
    asio::error_code ec;
    socket.read_some(asio::buffer(buffer), ec);  // the ClientHello
    asio::write(socket, asio::buffer(std::string("\x84\x00\x00\x00\x00\x00\x00\x00\x00", 9)), ec);
    socket.close(ec);
  });
  SessionOptions o;
  o.hosts = {absl::StrCat("127.0.0.1:", acceptor.local_endpoint().port())};
  o.tls = true;
  o.verify_server_certificate = false;
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  peer.join();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(absl::StrContains(s.status().message(), "TLS handshake with")) << s.status();
}

TEST(CqlTls, VerificationCanBeTurnedOff) {
  const Credentials creds = MakeCertificate("DNS:cassandra.example.com");
  TlsServer server(creds);
  SessionOptions o = TlsOptionsFor(server);
  o.verify_server_certificate = false;
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE((*s)->Query("SELECT 1").ok());
}

TEST(CqlTls, MissingCaFileIsNamed) {
  SessionOptions o;
  o.hosts = {"127.0.0.1:9142"};
  o.tls = true;
  o.ca_file = "/nonexistent/ca.pem";
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Connect(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.status().message(), "cannot load CA certificates from /nonexistent/ca.pem"))
      << s.status();
}

}  // namespace
}  // namespace tally::cql
