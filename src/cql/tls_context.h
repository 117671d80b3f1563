#pragma once

// A standard header before asio, always: asio decides between aligned_alloc
// and operator new for its handler memory from a libstdc++ macro, so a
// translation unit that includes asio first disagrees with the others on how
// that memory is freed (an ODR violation that ASan reports).
#include <cstddef>

#include <asio/ssl.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tally::cql {

struct TlsOptions {
  // PEM file of the certificate authorities to trust (for Amazon Keyspaces,
  // the Starfield/Amazon root bundle); empty trusts the system's default store.
  std::string ca_file;
  // Check the server's certificate chain (SSL_VERIFY_PEER) and that it names
  // the host connected to. Turn off only for tests against throwaway servers.
  bool verify_server_certificate = true;
};

// A client TLS context: TLS 1.2 or newer, verification as asked. Fails with
// InvalidArgument naming the file when the CA file cannot be loaded.
// The context is immutable once made and may be shared by many connections.
absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const TlsOptions& options);

}  // namespace tally::cql
