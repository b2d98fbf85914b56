// libFuzzer harness for the REST API's request handling: the bytes are fed
// to Beast's request parser with the server's limits, and whatever parses is
// handed to the real Router (over a real SqliteStore in a temp dir and a real
// ActionService without engine), then logged as the server logs it.
//
// The invariant is the API's echo policy (src/api/README.md, "What a problem
// document may say" and "What reaches the logs"):
//   * no answer, of any status, carries the valid token, unless it is a 2xx
//     answer to a request whose body carried the token as data (e.g. as an
//     account name, which the created action shows); in a header, only as the
//     console's session cookie that such an answer sets (the sign-in);
//   * no log line carries the valid token, nor a control character;
//   * every answer has a status from 200 to 599, and every 4xx/5xx is a
//     problem document whose `instance` is a request id (the X-Request-Id
//     header's), or, on the Graph-compatible API's paths (/v1.0, /beta),
//     Graph's error body whose request-id is that request id as a GUID (the
//     `request-id` header's).
// The world's inventory holds one identity (corpus/api_request_fuzz/graph_*
// name it), so the Graph routes are reached past their lookups.
// A request that stored the token as data (a 2xx whose body carried it) would
// let a later answer show it from the store, so the world is rebuilt after one.
//
// Built and run by `make fuzz` (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "api/graph_wire.h"
#include "api/query.h"
#include "api/router.h"
#include "authz/tokens.h"
#include "engine/action_service.h"
#include "store/sqlite/sqlite_store.h"
#include "support/inventory_seed.h"

namespace {

namespace http = boost::beast::http;

void Check(bool ok) {
  if (!ok) std::abort();
}

// The token the current world accepts; empty between worlds.
std::string& ValidToken() {
  static std::string token;
  return token;
}

// Every log line goes through here: it must not carry the token nor a
// control character.
class WatchingSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string& token = ValidToken();
    Check(token.empty() || payload.find(token) == std::string_view::npos);
    for (const char c : payload) Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  }
  void flush_() override {}
};

struct World {
  std::string dir;
  std::unique_ptr<cordon::SqliteStore> store;
  std::unique_ptr<cordon::ActionService> service;
  cordon::api::HttpMetrics metrics;
  std::unique_ptr<cordon::api::Router> router;
  std::string token;
  uint64_t inputs = 0;

  ~World() {
    router.reset();
    service.reset();
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

std::unique_ptr<World> MakeWorld() {
  auto w = std::make_unique<World>();
  std::string dir = (std::filesystem::temp_directory_path() / "cordon-api-fuzz-XXXXXX").string();
  Check(mkdtemp(dir.data()) != nullptr);
  w->dir = dir;
  auto store = cordon::SqliteStore::Open(dir + "/cordon.db", {.sync = cordon::SqliteSync::kNormal});
  Check(store.has_value());
  w->store = std::move(*store);
  Check(w->store->Migrate().has_value());
  w->service = std::make_unique<cordon::ActionService>(
      *w->store, nullptr, std::set<cordon::Provider>{cordon::Provider::kActiveDirectory, cordon::Provider::kOkta});
  w->router = std::make_unique<cordon::api::Router>(*w->store, *w->service, w->metrics, nullptr,
                                                    std::function<std::vector<cordon::ProviderHealth>()>{},
                                                    cordon::api::RouterOptions{},
                                                    cordon::api::RouterInventory{w->store.get(), nullptr});
  // Identity 681fba9a-c338-56a6-80b8-f9c134389e6e: an AD and an Okta account.
  std::vector<cordon::AccountView> accounts(2);
  accounts[0].provider = cordon::Provider::kActiveDirectory;
  accounts[0].id = "5b6a2b7e-8f3c-4d1e-9a2b-3c4d5e6f7a8b";
  accounts[0].login = "alice.adams";
  accounts[1].provider = cordon::Provider::kOkta;
  accounts[1].id = "00u1alice0000000001";
  accounts[1].login = "alice.adams@corp.example.test";
  for (cordon::AccountView& a : accounts) {
    a.display_name = "Alice Adams";
    a.status = cordon::AccountStatus::kEnabled;
    a.upn = "alice.adams@corp.example.test";
  }
  Check(cordon::testing::SeedInventory(*w->store, accounts).has_value());
  auto issued = cordon::IssueToken(*w->store, "fuzzer", cordon::Role::kGlobalAdministrator);
  Check(issued.has_value());
  w->token = issued->token.Reveal();
  ValidToken() = w->token;
  return w;
}

std::unique_ptr<World>& TheWorld() {
  static std::unique_ptr<World> world = [] {
    auto logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<WatchingSink>());
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    return MakeWorld();
  }();
  return world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<World>& world = TheWorld();
  World& w = *world;
  std::string input(reinterpret_cast<const char*>(data), size);

  (void)cordon::api::ParseTarget(input);

  // "@TOKEN@" stands for the valid token, so the fuzzer reaches the
  // authenticated handlers without having to guess 256 bits.
  for (size_t at = input.find("@TOKEN@"); at != std::string::npos; at = input.find("@TOKEN@"))
    input.replace(at, 7, w.token);

  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t offset = 0;
  while (offset < input.size() && !parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(input.data() + offset, input.size() - offset), ec);
    if (ec || used == 0) break;
    offset += used;
  }
  if (!parser.is_done()) return 0;
  const cordon::api::HttpRequest& request = parser.get();

  // A client address per input (the same input, the same address), so that
  // the failure limiter both allows and refuses.
  cordon::api::RequestMeta meta;
  const size_t h = std::hash<std::string>{}(input);
  meta.client_address = fmt::format("10.{}.{}.{}", (h >> 16) & 3, (h >> 8) & 255, h & 255);
  const cordon::api::RoutedResponse out = w.router->Handle(request, meta);
  spdlog::info("{}", cordon::api::AccessLogLine(cordon::api::ToStd(request.method_string()),
                                                 cordon::api::ToStd(request.target()), out.response.result_int(), 0,
                                                 out));
  if (++w.inputs % 256 == 0) (void)w.router->Flush();

  const unsigned status = out.response.result_int();
  Check(status >= 200 && status < 600);
  const bool body_carried_token = request.body().find(w.token) != std::string::npos;
  const bool shows_token = out.response.body().find(w.token) != std::string::npos;
  for (const auto& field : out.response) {
    const bool session_cookie = status / 100 == 2 && body_carried_token && field.name() == http::field::set_cookie &&
                                cordon::api::ToStd(field.value()).starts_with("cordon_session=");
    Check(session_cookie || field.value().find(w.token) == boost::beast::string_view::npos);
  }
  Check(!shows_token || (status / 100 == 2 && body_carried_token));
  if (status >= 400 && out.response[http::field::content_type] != "application/problem+json") {
    // Graph's error body, on the Graph-compatible API's paths only.
    auto target = cordon::api::ParseTarget(cordon::api::ToStd(request.target()));
    Check(cordon::api::GraphVersionOf(cordon::api::ToStd(request.target())) ||
          (target && cordon::api::GraphVersionOf(target->path)));
    const auto doc = nlohmann::json::parse(out.response.body(), nullptr, false);
    Check(doc.is_object() && doc.contains("error") && doc["error"].is_object());
    const auto& error = doc["error"];
    Check(error.contains("code") && error["code"].is_string() && error.contains("message"));
    Check(error.contains("innerError") && error["innerError"].is_object());
    const std::string request_id = cordon::api::GraphRequestId(out.request_id);
    Check(error["innerError"].value("request-id", "") == request_id);
    Check(cordon::api::ToStd(out.response["request-id"]) == request_id);
    Check(out.request_id == cordon::api::ToStd(out.response["X-Request-Id"]));
  } else if (status >= 400) {
    Check(out.response[http::field::content_type] == "application/problem+json");
    const auto doc = nlohmann::json::parse(out.response.body(), nullptr, false);
    Check(doc.is_object() && doc.contains("status") && doc["status"] == status);
    Check(doc.contains("instance") && doc["instance"].is_string());
    const std::string instance = doc["instance"];
    Check(instance.rfind(cordon::api::kRequestIdPrefix, 0) == 0);
    Check(instance == cordon::api::ToStd(out.response["X-Request-Id"]));
    Check(instance == out.request_id);
  }
  if (status / 100 == 2 && body_carried_token) {
    (void)w.router->Flush();
    ValidToken().clear();
    world.reset();
    world = MakeWorld();
  }
  return 0;
}
