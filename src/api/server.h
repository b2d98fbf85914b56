// ApiServer: Cordon's HTTPS front door (REST /api/v1, /healthz, /metrics),
// built on Boost.Beast and Asio with OpenSSL.
//
// Connections are accepted and read asynchronously on a few I/O threads;
// each request is bounded (header limit, body limit answered with 413 before
// the body is read, read timeout) and handed whole to the Router on a
// handler pool, never on an I/O thread: requests that change the action
// center (submit, bulk, cancel, undo) on the writer pool, all others on the
// reader pool, so a long bulk submit neither stalls reads nor other
// connections' I/O. The answer is written back on the connection's strand.
// Plain HTTP exists for local development and tests and is refused unless
// the listening address is loopback.
//
// Thread-safety: Create, Start and Stop are called by one owning thread;
// port() and Flush() may be called from any thread. The destructor stops the
// server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "store/store.h"

namespace cordon {

class ActionService;
class Engine;
class Inventory;
class InventoryStore;

struct ApiOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 = an ephemeral port, see ApiServer::port()
  std::string tls_cert_file;  // PEM chain
  std::string tls_key_file;   // PEM private key
  bool plain_http = false;    // allowed only on a loopback address
  size_t max_body_bytes = 1024 * 1024;
  int threads = 2;         // I/O: accept, TLS, read and write
  int reader_threads = 4;  // handler pool for reads (GET, /healthz, /metrics, refusals)
  int writer_threads = 2;  // handler pool for submit, bulk, cancel and undo
  std::chrono::seconds read_timeout{30};  // whole request, and the idle time between keep-alive requests
};

struct ApiDeps {
  Store& store;
  ActionService& actions;
  Engine* engine = nullptr;  // for engine statistics on /metrics; may be null
  // Extra Prometheus text appended to /metrics (e.g. engine statistics); may be empty.
  std::function<std::string()> metrics_extra;
  // The identity inventory (/api/v1/identities, /api/v1/inventory); may be null.
  InventoryStore* inventory_store = nullptr;
  Inventory* inventory = nullptr;
};

class ApiServer {
 public:
  // Validates the options, loads the certificate and binds the listening
  // socket (so port() is known), but accepts nothing before Start().
  [[nodiscard]] static Result<std::unique_ptr<ApiServer>> Create(ApiOptions options, ApiDeps deps);

  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  [[nodiscard]] uint16_t port() const;

  // Starts accepting on the thread pool; returns at once.
  void Start();

  // Stops accepting, lets requests in flight finish (up to a few seconds),
  // closes idle connections, joins the threads and writes the refusals and
  // token uses still pending. Idempotent.
  void Stop();

  // Writes the aggregated refusals and token uses noted so far to the store
  // now (a background thread does so every 10 s, and Stop at the end).
  Status Flush();

 private:
  class Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon
