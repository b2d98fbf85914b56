#include "support/api_fixture.h"

#include <cstdlib>
#include <filesystem>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include "authz/tokens.h"
#include "support/forwarding_store.h"

namespace cordon::api::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kIoTimeout = std::chrono::seconds(30);

class HookedStore final : public ::cordon::testing::ForwardingStore {
 public:
  HookedStore(Store& inner, std::function<void()> before_create)
      : ::cordon::testing::ForwardingStore(inner), before_create_(std::move(before_create)) {}
  Result<std::vector<Action>> CreateActions(std::span<const NewAction> actions, TimePoint now) override {
    before_create_();
    return ::cordon::testing::ForwardingStore::CreateActions(actions, now);
  }

 private:
  std::function<void()> before_create_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string HttpResult::Header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

nlohmann::json HttpResult::Json() const { return nlohmann::json::parse(body, nullptr, false); }

struct TestClient::Impl {
  uint16_t port;
  std::string ca_file;
  asio::io_context ioc;
  std::optional<ssl::context> tls_ctx;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  std::unique_ptr<beast::tcp_stream> plain;
  beast::flat_buffer buffer;
  int opened = 0;

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  bool Connected() { return (tls || plain) && Lowest().socket().is_open(); }

  void Disconnect() {
    if (tls || plain) {
      beast::error_code ignored;
      Lowest().socket().close(ignored);
    }
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  beast::error_code Connect() {
    Disconnect();
    beast::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    if (ca_file.empty()) {
      plain = std::make_unique<beast::tcp_stream>(ioc);
      plain->expires_after(kIoTimeout);
      plain->connect(endpoint, ec);
    } else {
      if (!tls_ctx) {
        tls_ctx.emplace(ssl::context::tls_client);
        tls_ctx->load_verify_file(ca_file, ec);
        if (ec) return ec;
        tls_ctx->set_verify_mode(ssl::verify_peer);
      }
      tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, *tls_ctx);
      SSL_set_tlsext_host_name(tls->native_handle(), "localhost");
      tls->set_verify_callback(ssl::host_name_verification("localhost"));
      beast::get_lowest_layer(*tls).expires_after(kIoTimeout);
      beast::get_lowest_layer(*tls).connect(endpoint, ec);
      if (!ec) tls->handshake(ssl::stream_base::client, ec);
    }
    if (!ec) ++opened;
    return ec;
  }

  template <class Message>
  void Write(Message& m, beast::error_code& ec) {
    Lowest().expires_after(kIoTimeout);
    if (tls)
      http::write(*tls, m, ec);
    else
      http::write(*plain, m, ec);
  }

  template <class Parser>
  void Read(Parser& p, beast::error_code& ec) {
    Lowest().expires_after(kIoTimeout);
    if (tls)
      http::read(*tls, buffer, p, ec);
    else
      http::read(*plain, buffer, p, ec);
  }
};

TestClient::TestClient(uint16_t port, std::string ca_file) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->ca_file = std::move(ca_file);
}
TestClient::~TestClient() = default;
TestClient::TestClient(TestClient&&) noexcept = default;

int TestClient::connections_opened() const { return impl_->opened; }

HttpResult TestClient::Send(const RawRequest& r) {
  HttpResult result;
  if (!impl_->Connected()) {
    if (auto ec = impl_->Connect()) {
      result.transport_error = "connect: " + ec.message();
      return result;
    }
  }
  http::request<http::string_body> request(r.method, r.target, 11);
  request.set(http::field::host, "localhost");
  request.keep_alive(true);
  if (!r.token.empty()) request.set(http::field::authorization, "Bearer " + r.token);
  for (const auto& [name, value] : r.headers) request.set(name, value);
  if (!r.body.empty() && !r.content_type.empty()) request.set(http::field::content_type, r.content_type);
  request.body() = r.body;
  if (r.chunked)
    request.chunked(true);
  else if (!r.body.empty() || r.method == http::verb::post)
    request.prepare_payload();

  beast::error_code ec;
  impl_->Write(request, ec);
  // A server that refuses the body early answers before reading it all; the
  // answer may still be readable after a failed write.
  const std::string write_error = ec ? ec.message() : std::string();

  std::optional<http::response_parser<http::string_body>> parser_storage;
  beast::error_code read_ec;
  // Interim answers (100 Continue) come first; the final one follows.
  do {
    parser_storage.emplace();
    parser_storage->body_limit(64 * 1024 * 1024);
    impl_->Read(*parser_storage, read_ec);
  } while (!read_ec && parser_storage->get().result_int() / 100 == 1);
  auto& parser = *parser_storage;
  if (read_ec) {
    impl_->Disconnect();
    result.transport_error = "read: " + read_ec.message() + (write_error.empty() ? "" : "; write: " + write_error);
    return result;
  }
  const auto& response = parser.get();
  result.status = response.result_int();
  for (const auto& field : response) {
    result.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
    result.all_headers.emplace(Lower(std::string(field.name_string())), std::string(field.value()));
  }
  result.body = response.body();
  if (!response.keep_alive() || !write_error.empty()) impl_->Disconnect();
  return result;
}

HttpResult TestClient::Get(const std::string& target, const std::string& token) {
  RawRequest r;
  r.target = target;
  r.token = token;
  return Send(r);
}

HttpResult TestClient::Post(const std::string& target, const nlohmann::json& body, const std::string& token) {
  RawRequest r;
  r.method = http::verb::post;
  r.target = target;
  r.token = token;
  r.body = body.dump();
  return Send(r);
}

std::string TestClient::SendBytes(const std::string& bytes) {
  impl_->Disconnect();
  tcp::socket socket(impl_->ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), ec);
  if (ec) return {};
  asio::write(socket, asio::buffer(bytes), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    const size_t n = socket.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec || out.size() > 1024 * 1024) break;
  }
  return out;
}

Status MakeTestCertificate(const std::string& dir, std::string* cert_file, std::string* key_file) {
  *cert_file = dir + "/cert.pem";
  *key_file = dir + "/key.pem";
  const std::string command = fmt::format(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '{}' -out '{}' >/dev/null 2>&1",
      *key_file, *cert_file);
  if (std::system(command.c_str()) != 0) return Fail(Error::Internal("openssl could not make a test certificate"));
  return {};
}

Result<std::unique_ptr<ApiFixture>> ApiFixture::Start(ApiFixtureOptions options) {
  std::unique_ptr<ApiFixture> f(new ApiFixture());
  std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-api-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return Fail(Error::Internal("cannot make a temp dir"));
  f->dir_ = tmpl;
  f->plain_http_ = options.plain_http;

  auto store = SqliteStore::Open(f->dir_ + "/cordon.db");
  if (!store) return Fail(std::move(store.error()));
  f->store_ = std::move(*store);
  if (auto st = f->store_->Migrate(); !st) return Fail(std::move(st.error()));
  Store* served = f->store_.get();
  if (options.before_create_actions) {
    f->served_store_ = std::make_unique<HookedStore>(*f->store_, options.before_create_actions);
    served = f->served_store_.get();
  }
  f->service_ = std::make_unique<ActionService>(*served, nullptr, options.providers);

  ApiOptions api;
  api.address = "127.0.0.1";
  api.port = 0;
  api.plain_http = options.plain_http;
  api.max_body_bytes = options.max_body_bytes;
  if (!options.plain_http) {
    if (auto st = MakeTestCertificate(f->dir_, &f->ca_file_, &f->key_file_); !st) return Fail(std::move(st.error()));
    api.tls_cert_file = f->ca_file_;
    api.tls_key_file = f->key_file_;
  }
  ApiDeps deps{*served, *f->service_};
  deps.inventory_store = f->store_.get();
  if (!options.inventory_connectors.empty()) {
    f->engine_ = std::make_unique<Engine>(*f->store_, EngineOptions{});
    std::set<Provider> listed;
    for (const auto& [provider, factory] : options.inventory_connectors) {
      f->engine_->AddWorkers(provider, factory, ProviderSettings{});
      listed.insert(provider);
    }
    InventoryOptions inventory;
    inventory.sync_interval = Millis(0);
    f->inventory_ = std::make_unique<Inventory>(*f->store_, *f->engine_, listed, inventory);
    f->inventory_->Start();
    deps.inventory = f->inventory_.get();
  }
  auto server = ApiServer::Create(api, deps);
  if (!server) return Fail(std::move(server.error()));
  f->server_ = std::move(*server);
  f->server_->Start();
  return f;
}

ApiFixture::~ApiFixture() {
  if (server_) server_->Stop();
  server_.reset();
  if (inventory_) inventory_->Stop();
  inventory_.reset();
  engine_.reset();
  service_.reset();
  served_store_.reset();
  store_.reset();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string ApiFixture::Token(Role role) {
  const auto it = tokens_.find(role);
  if (it != tokens_.end()) return it->second;
  auto issued = IssueToken(*store_, std::string(ToString(role)) + "-token", role);
  if (!issued) return {};
  tokens_[role] = issued->token.Reveal();
  return tokens_[role];
}

std::vector<std::string> ApiFixture::AllTokens() const {
  std::vector<std::string> out;
  for (const auto& [role, token] : tokens_) out.push_back(token);
  return out;
}

TestClient ApiFixture::Client() const { return TestClient(server_->port(), plain_http_ ? std::string() : ca_file_); }

Status ApiFixture::Succeed(const std::string& action_id) {
  auto action = store_->GetAction(action_id);
  if (!action) return Fail(std::move(action.error()));
  const TimePoint now = Now();
  // Claims everything due for that provider; the others go back by lease expiry
  // only in tests that care, so claim until the wanted action is held.
  auto claimed = store_->ClaimDue(action->provider, "test-worker", 1000, now, Millis(60000));
  if (!claimed) return Fail(std::move(claimed.error()));
  Status result = Fail(Error::NotFound("the action was not claimable"));
  for (const Action& a : *claimed) {
    AttemptReport report;
    report.action_id = a.id;
    report.worker = "test-worker";
    report.started_at = now;
    report.finished_at = now;
    if (a.id == action_id) {
      report.outcome = AttemptOutcome::kSucceeded;
      report.message = "done in test";
      report.provider_answer = {"ldap:0", "Success"};
      report.resolved_account = "CN=" + a.target;
      auto finished = store_->FinishAttempt(report);
      if (!finished) return Fail(std::move(finished.error()));
      result = {};
    } else {
      // Put the others back where they were.
      report.outcome = AttemptOutcome::kTransientError;
      report.message = "released by test";
      report.retry_at = now;
      auto finished = store_->FinishAttempt(report);
      if (!finished) return Fail(std::move(finished.error()));
    }
  }
  return result;
}

}  // namespace cordon::api::testing
