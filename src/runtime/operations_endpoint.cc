#include "runtime/operations_endpoint.h"

#include <civetweb.h>
#include <signal.h>

#include <sstream>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace tally {
namespace {

int Respond(mg_connection* connection, int status, std::string_view reason, std::string_view content_type,
            std::string_view body) {
  mg_printf(connection,
            "HTTP/1.1 %d %.*s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            status, static_cast<int>(reason.size()), reason.data(), static_cast<int>(content_type.size()),
            content_type.data(), body.size());
  mg_write(connection, body.data(), body.size());
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OperationsEndpoint>> OperationsEndpoint::Start(const HttpAddress& address,
                                                                              Metrics& metrics) {
  std::unique_ptr<OperationsEndpoint> endpoint(new OperationsEndpoint(metrics));
  const std::string listening = absl::StrCat(address.host, ":", address.port);
  // Two threads: a scraper and a probe at once; more would only be idle.
  const char* options[] = {"listening_ports", listening.c_str(), "num_threads", "2", "request_timeout_ms", "10000",
                           nullptr};
  mg_callbacks callbacks{};
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.configuration_options = options;
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  // civetweb ignores SIGPIPE for the whole process when it starts (it sends
  // with MSG_NOSIGNAL anyway); tally's own SIGPIPE handling stays as it was.
  struct sigaction pipe_action {};
  sigaction(SIGPIPE, nullptr, &pipe_action);
  endpoint->context_ = mg_start2(&init, &error);
  sigaction(SIGPIPE, &pipe_action, nullptr);
  if (endpoint->context_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("--http ", listening, ": cannot listen on port ", address.port,
                     " (in use by another process, or not an address of this host): ", error_text));
  }
  mg_set_request_handler(endpoint->context_, "/", &OperationsEndpoint::Serve, endpoint.get());
  mg_server_port ports[4];
  const int n = mg_get_server_ports(endpoint->context_, 4, ports);
  endpoint->address_ = absl::StrCat(address.host, ":", n > 0 ? ports[0].port : address.port);
  return endpoint;
}

OperationsEndpoint::~OperationsEndpoint() {
  if (context_ != nullptr) mg_stop(context_);
}

int OperationsEndpoint::Serve(mg_connection* connection, void* self) {
  auto& endpoint = *static_cast<OperationsEndpoint*>(self);
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view uri = request->local_uri != nullptr ? request->local_uri : "";
  const std::string_view method = request->request_method != nullptr ? request->request_method : "";
  if (method != "GET" && method != "HEAD") {
    return Respond(connection, 405, "Method Not Allowed", "text/plain", "only GET\n");
  }
  if (uri == "/metrics") {
    std::ostringstream text;
    prometheus::TextSerializer().Serialize(text, endpoint.metrics_.Collect());
    return Respond(connection, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text.str());
  }
  if (uri == "/healthz") return Respond(connection, 200, "OK", "text/plain", "ok\n");
  if (uri == "/readyz") {
    const std::string reason = endpoint.metrics_.NotReadyReason();
    if (reason.empty()) return Respond(connection, 200, "OK", "text/plain", "ready\n");
    return Respond(connection, 503, "Service Unavailable", "text/plain", absl::StrCat(reason, "\n"));
  }
  return Respond(connection, 404, "Not Found", "text/plain", "not found: try /metrics, /healthz or /readyz\n");
}

}  // namespace tally
