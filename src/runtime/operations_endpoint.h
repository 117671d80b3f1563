#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/metrics.h"

struct mg_connection;
struct mg_context;

namespace tally {

// The operations endpoints of --http HOST:PORT, served by civetweb (the
// embedded server prometheus-cpp's Exposer runs on, used directly because the
// Exposer serves only registries: it has no handler for /healthz, nor one
// that can answer 503):
//   GET /metrics  the Metrics registry in the Prometheus text format 0.0.4;
//   GET /healthz  200 "ok" while the process runs;
//   GET /readyz   200 "ready", or 503 with a one-line reason
//                 (Metrics::NotReadyReason).
// civetweb answers on threads of its own: a scrape reads atomics and copies
// values under short locks, and never waits for the trigger loop.
class OperationsEndpoint {
 public:
  // Listens on `address`. FailedPrecondition naming the address if it cannot
  // (the port is in use, the address is not this host's).
  static absl::StatusOr<std::unique_ptr<OperationsEndpoint>> Start(const HttpAddress& address, Metrics& metrics);
  ~OperationsEndpoint();  // stops serving; waits for requests in progress
  OperationsEndpoint(const OperationsEndpoint&) = delete;
  OperationsEndpoint& operator=(const OperationsEndpoint&) = delete;

  // The address served, with the port the system chose for port 0.
  const std::string& address() const { return address_; }

 private:
  explicit OperationsEndpoint(Metrics& metrics) : metrics_(metrics) {}
  static int Serve(mg_connection* connection, void* self);

  Metrics& metrics_;
  mg_context* context_ = nullptr;
  std::string address_;
};

}  // namespace tally
