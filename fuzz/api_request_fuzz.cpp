// libFuzzer harness for the REST API's request handling: the bytes are fed
// to Beast's request parser with the server's limits, and whatever parses is
// handed to the real Router (over a real SqliteStore in a temp dir and a real
// ActionService without engine). Invariants: no crash, every answer has a
// status from 200 to 599, every 4xx/5xx is a problem document that parses as
// JSON, and no answer carries the valid token unless the request's path did.
//
// Built and run by `make fuzz` (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/query.h"
#include "api/router.h"
#include "authz/tokens.h"
#include "engine/action_service.h"
#include "store/sqlite/sqlite_store.h"

namespace {

namespace http = boost::beast::http;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct World {
  std::unique_ptr<cordon::SqliteStore> store;
  std::unique_ptr<cordon::ActionService> service;
  cordon::api::HttpMetrics metrics;
  std::unique_ptr<cordon::api::Router> router;
  std::string token;
};

World& TheWorld() {
  static World* world = [] {
    spdlog::set_level(spdlog::level::off);
    auto* w = new World();
    std::string dir = (std::filesystem::temp_directory_path() / "cordon-api-fuzz-XXXXXX").string();
    Check(mkdtemp(dir.data()) != nullptr);
    auto store = cordon::SqliteStore::Open(dir + "/cordon.db");
    Check(store.has_value());
    w->store = std::move(*store);
    Check(w->store->Migrate().has_value());
    w->service = std::make_unique<cordon::ActionService>(
        *w->store, nullptr,
        std::set<cordon::Provider>{cordon::Provider::kActiveDirectory, cordon::Provider::kOkta});
    w->router = std::make_unique<cordon::api::Router>(*w->store, *w->service, w->metrics, nullptr);
    auto issued = cordon::IssueToken(*w->store, "fuzzer", cordon::Role::kGlobalAdministrator);
    Check(issued.has_value());
    w->token = issued->token.Reveal();
    return w;
  }();
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
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

  const cordon::api::RoutedResponse out = w.router->Handle(parser.get());
  const unsigned status = out.response.result_int();
  Check(status >= 200 && status < 600);
  // The problem document echoes the path as `instance`; a caller who put the
  // token in the path gets it back, but nothing else does.
  const std::string_view target(parser.get().target().data(), parser.get().target().size());
  if (target.find(w.token) == std::string_view::npos) Check(out.response.body().find(w.token) == std::string::npos);
  if (status >= 400) {
    Check(out.response[http::field::content_type] == "application/problem+json");
    const auto doc = nlohmann::json::parse(out.response.body(), nullptr, false);
    Check(doc.is_object() && doc.contains("status") && doc["status"] == status);
  }
  return 0;
}
