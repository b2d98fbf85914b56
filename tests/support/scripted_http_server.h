// ScriptedHttpServer: an HTTP server on 127.0.0.1 (plain HTTP, or HTTPS with
// a certificate the test gives; a port of the kernel's choosing) whose every answer comes from a function the test
// gives, for unit tests of HTTP connectors that need a provider's exact
// answers (status codes, headers, bodies) rather than FakeHttpProvider's
// trimmed API. Every request is recorded, with what it was answered.
//
// Thread-safety: every method may be called from any thread; the handler is
// called on the server's own thread, one request at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cordon::testing {

class ScriptedHttpServer {
 public:
  struct Request {
    std::string method;
    std::string target;  // path and query, as sent
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // sent in order, repeats allowed
    std::string body;
  };
  using Handler = std::function<Response(const Request&)>;

  // HTTPS instead of plain HTTP: the server's PEM certificate (chain) and key.
  struct Tls {
    std::string cert_file;
    std::string key_file;
  };

  // Listens at once; throws std::runtime_error if it cannot.
  explicit ScriptedHttpServer(Handler handler);
  ScriptedHttpServer(Handler handler, const Tls& tls);
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  // e.g. "http://127.0.0.1:41234" ("https://..." with Tls)
  [[nodiscard]] std::string base_url() const;
  [[nodiscard]] std::vector<Request> Requests() const;
  // How many connections were accepted (a client that keeps its connection opens one).
  [[nodiscard]] int Connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::testing
