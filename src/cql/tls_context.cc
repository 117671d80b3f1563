#include "cql/tls_context.h"

#include "absl/strings/str_cat.h"

namespace tally::cql {

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const TlsOptions& options) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  asio::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot set TLS options: ", ec.message()));
  if (!options.verify_server_certificate) {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot set TLS verify mode: ", ec.message()));
    return ctx;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot set TLS verify mode: ", ec.message()));
  if (options.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot load the system's CA certificates: ", ec.message()));
  } else {
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load CA certificates from ", options.ca_file, ": ", ec.message()));
    }
  }
  return ctx;
}

}  // namespace tally::cql
