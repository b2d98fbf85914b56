// Test support for the API: a real ApiServer on 127.0.0.1 port 0 over a real
// SqliteStore in a temp dir and a real ActionService (no engine, so actions
// stay pending unless a test moves them through the store), with a
// throwaway certificate, plus a small verifying HTTP(S) client.
//
// Used by tests/api_test.cpp, tests/authz_matrix_test.cpp and
// bench/auth_flood_bench.cpp; not part of the product.
//
// Thread-safety: use from one test thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "api/server.h"
#include "authz/permissions.h"
#include "core/error.h"
#include "engine/action_service.h"
#include "engine/engine.h"
#include "inventory/inventory.h"
#include "store/sqlite/sqlite_store.h"

namespace cordon::api::testing {

struct HttpResult {
  unsigned status = 0;  // 0: the transport failed, see transport_error
  std::string transport_error;
  std::map<std::string, std::string> headers;  // names in lower case
  std::multimap<std::string, std::string> all_headers;  // every header line (Set-Cookie repeats), names in lower case
  std::string body;

  [[nodiscard]] std::string Header(const std::string& lower_name) const;
  [[nodiscard]] nlohmann::json Json() const;  // discarded value when the body is not JSON
};

struct RawRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target = "/";
  std::string body;
  std::string token;  // sent as "Authorization: Bearer <token>" when not empty
  std::map<std::string, std::string> headers;
  std::string content_type = "application/json";  // not sent when empty or when there is no body
  bool chunked = false;
};

// One HTTP/1.1 connection, kept alive between requests and reopened when the
// server closed it. HTTPS verifies the server against ca_file and the name
// "localhost".
class TestClient {
 public:
  TestClient(uint16_t port, std::string ca_file /* empty: plain HTTP */);
  ~TestClient();
  TestClient(TestClient&&) noexcept;

  HttpResult Send(const RawRequest& request);
  HttpResult Get(const std::string& target, const std::string& token);
  HttpResult Post(const std::string& target, const nlohmann::json& body, const std::string& token);
  // Writes raw bytes on a fresh connection and returns what came back (if anything).
  std::string SendBytes(const std::string& bytes);
  // How many TCP connections this client opened.
  [[nodiscard]] int connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ApiFixtureOptions {
  bool plain_http = false;
  std::set<Provider> providers{Provider::kActiveDirectory, Provider::kEntra, Provider::kOkta};
  size_t max_body_bytes = 1024 * 1024;
  // Called by the server's store on every CreateActions before the real one
  // runs (on the thread that handles the request), e.g. to hold it there.
  std::function<void()> before_create_actions;
  // The connectors the server's inventory syncs with, read through an engine
  // whose workers never start (Engine::Read); empty: no inventory sync (the
  // identity routes still read the store's inventory, which tests may fill).
  std::map<Provider, ConnectorFactory> inventory_connectors;
};

class ApiFixture {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ApiFixture>> Start(ApiFixtureOptions options = {});
  ~ApiFixture();

  // The real store (not the watched one the server may use).
  [[nodiscard]] Store& store() { return *store_; }
  // The identity inventory the server reads, in the same store.
  [[nodiscard]] InventoryStore& inventory_store() { return *store_; }
  // The server's inventory sync (ApiFixtureOptions::inventory_connectors), or null.
  [[nodiscard]] Inventory* inventory() { return inventory_.get(); }
  [[nodiscard]] ApiServer& server() { return *server_; }
  [[nodiscard]] uint16_t port() const { return server_->port(); }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::string& ca_file() const { return ca_file_; }
  [[nodiscard]] std::string db_path() const { return dir_ + "/cordon.db"; }

  // Writes the server's aggregated refusals and token uses to the store now
  // (ApiServer::Flush), so a test can read them.
  [[nodiscard]] Status Flush() { return server_->Flush(); }
  // The token of `role` (issued on first use, name "<role>-token").
  [[nodiscard]] std::string Token(Role role);
  // Every token issued so far, so tests can scan output for them.
  [[nodiscard]] std::vector<std::string> AllTokens() const;
  [[nodiscard]] TestClient Client() const;

  // Moves a pending action to succeeded through the store, as a worker would.
  [[nodiscard]] Status Succeed(const std::string& action_id);

 private:
  ApiFixture() = default;
  std::string dir_, ca_file_, key_file_;
  bool plain_http_ = false;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Store> served_store_;  // store_ watched for before_create_actions, when set
  std::unique_ptr<ActionService> service_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Inventory> inventory_;
  std::unique_ptr<ApiServer> server_;
  std::map<Role, std::string> tokens_;
};

// Writes a self-signed certificate for localhost/127.0.0.1 (openssl CLI) into dir.
[[nodiscard]] Status MakeTestCertificate(const std::string& dir, std::string* cert_file, std::string* key_file);

}  // namespace cordon::api::testing
