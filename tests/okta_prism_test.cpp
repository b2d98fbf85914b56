// Prism as a validating proxy with Okta's own description: a local server
// answers GET /api/v1/users/{id} once as the description says and once
// breaking it, and a client sends requests through Prism with libcurl. The
// good exchange passes untouched; the bad answer and a request the
// description forbids are each reported as a violation.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/prism_proxy.h"

namespace cordon::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::seconds;

// A user as Okta returns it: every property within the description.
constexpr std::string_view kGoodUser = R"({
  "id": "00ub0oNGTSWTBKOLGLNR",
  "status": "ACTIVE",
  "created": "2024-06-01T09:00:00.000Z",
  "activated": "2024-06-01T09:05:00.000Z",
  "statusChanged": "2024-06-01T09:05:00.000Z",
  "lastLogin": null,
  "lastUpdated": "2024-06-02T10:00:00.000Z",
  "passwordChanged": "2024-06-01T09:05:00.000Z",
  "type": {"id": "oty1ea2ru1zo4ZC4d0g4"},
  "profile": {"firstName": "Alice", "lastName": "Adams", "email": "alice.adams@example.com",
              "login": "alice.adams@example.com"},
  "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
  "_links": {"self": {"href": "https://example.okta.com/api/v1/users/00ub0oNGTSWTBKOLGLNR"}}
})";

// The same user with a status Okta does not have.
constexpr std::string_view kBadUser = R"({
  "id": "00ub0oNGTSWTBKOLGLNS",
  "status": "DISABLED",
  "created": "2024-06-01T09:00:00.000Z",
  "profile": {"login": "bob.brown@example.com"}
})";

// One request at a time, each answered with Connection: close, on 127.0.0.1
// at a port of the kernel's choosing. Records the targets it was asked for.
class TinyOktaServer {
 public:
  TinyOktaServer() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyOktaServer() {
    stopping_ = true;
    // Wakes the blocked accept().
    beast::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  TinyOktaServer(const TinyOktaServer&) = delete;
  TinyOktaServer& operator=(const TinyOktaServer&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> Seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      beast::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(std::string(req.method_string()) + " " + std::string(req.target()));
      }
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(false);
      const std::string target(req.target());
      if (req.method() == http::verb::get && target == "/api/v1/users/00ub0oNGTSWTBKOLGLNR") {
        res.body() = kGoodUser;
      } else if (req.method() == http::verb::get && target == "/api/v1/users/00ub0oNGTSWTBKOLGLNS") {
        res.body() = kBadUser;
      } else if (req.method() == http::verb::post && target.find("/lifecycle/deactivate") != std::string::npos) {
        res.erase(http::field::content_type);
      } else {
        res.result(http::status::not_found);
        res.body() = R"j({"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)",)j"
                     R"j("errorLink":"E0000007","errorId":"oae1","errorCauses":[]})j";
      }
      res.prepare_payload();
      http::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<std::string> seen_;
  std::thread thread_;
};

struct Exchange {
  long status = 0;
  std::string body;
};

Exchange Send(const std::string& method, const std::string& url, const std::vector<std::string>& headers = {}) {
  Exchange ex;
  CURL* curl = curl_easy_init();
  curl_slist* list = curl_slist_append(nullptr, "Authorization: SSWS test-token");
  list = curl_slist_append(list, "Accept: application/json");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex.body);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ex.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return ex;
}

bool Has(const std::vector<PrismValidation>& all, std::string_view location, std::string_view code) {
  for (const auto& v : all)
    if (v.location == location && v.code == code) return true;
  return false;
}

// Prism takes a few seconds to start: one for the whole suite.
class OktaPrismTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TinyOktaServer();
    auto proxy = PrismProxy::Start({.upstream_url = server_->base_url()});
    if (!proxy) {
      start_error_ = proxy.error().message;
      return;
    }
    proxy_ = proxy->release();
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(proxy_, nullptr) << start_error_; }

  // Sends a request Prism refuses for want of a route and waits until it has
  // logged it: whatever Prism logs about the exchanges before is in its log then.
  std::vector<PrismViolation> SettleLog() {
    const auto before = proxy_->Violations().size();
    (void)Send("GET", proxy_->base_url() + "/api/v1/no-such-route");
    return proxy_->WaitForViolations(before, seconds(10));
  }

  static inline TinyOktaServer* server_ = nullptr;
  static inline PrismProxy* proxy_ = nullptr;
  static inline std::string start_error_;
};

TEST_F(OktaPrismTest, AnswerThatMatchesTheDescriptionPassesUntouched) {
  const auto ex = Send("GET", proxy_->base_url() + "/api/v1/users/00ub0oNGTSWTBKOLGLNR");
  EXPECT_EQ(ex.status, 200) << ex.body;
  // Prism forwards the answer re-serialised: the same JSON, not the same bytes.
  EXPECT_EQ(nlohmann::json::parse(ex.body, nullptr, false), nlohmann::json::parse(kGoodUser));

  const auto all = SettleLog();
  ASSERT_FALSE(all.empty()) << proxy_->Output();
  EXPECT_EQ(all.back().side, PrismViolation::Side::kRoute) << all.back().line;
  for (const auto& v : all) EXPECT_NE(v.path, "/api/v1/users/00ub0oNGTSWTBKOLGLNR") << v.line;
}

TEST_F(OktaPrismTest, AnswerThatBreaksTheDescriptionIsAViolation) {
  const auto before = proxy_->Violations().size();
  const auto ex = Send("GET", proxy_->base_url() + "/api/v1/users/00ub0oNGTSWTBKOLGLNS");
  EXPECT_EQ(ex.status, 500) << ex.body;
  const auto details = PrismProxy::ParseProblem(ex.body);
  EXPECT_TRUE(Has(details, "response.body.status", "enum")) << ex.body;

  const auto all = proxy_->WaitForViolations(before, seconds(10));
  ASSERT_GT(all.size(), before) << proxy_->Output();
  EXPECT_EQ(all.back().side, PrismViolation::Side::kResponse) << all.back().line;
  EXPECT_EQ(all.back().method, "get");
  EXPECT_EQ(all.back().path, "/api/v1/users/00ub0oNGTSWTBKOLGLNS");
}

TEST_F(OktaPrismTest, RequestThatBreaksTheDescriptionIsRefusedBeforeTheServer) {
  // deactivate's sendEmail is a boolean, and Prefer may only be respond-async.
  const std::string url = proxy_->base_url() + "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/deactivate";
  const auto before = proxy_->Violations().size();
  const auto bad_query = Send("POST", url + "?sendEmail=maybe");
  EXPECT_EQ(bad_query.status, 422) << bad_query.body;
  EXPECT_TRUE(Has(PrismProxy::ParseProblem(bad_query.body), "query.sendemail", "type")) << bad_query.body;
  const auto bad_header = Send("POST", url, {"Prefer: respond-later"});
  EXPECT_EQ(bad_header.status, 422) << bad_header.body;
  EXPECT_TRUE(Has(PrismProxy::ParseProblem(bad_header.body), "header.prefer", "enum")) << bad_header.body;

  auto all = proxy_->WaitForViolations(before + 1, seconds(10));
  ASSERT_GE(all.size(), before + 2) << proxy_->Output();
  for (std::size_t i = before; i < before + 2; ++i) {
    EXPECT_EQ(all[i].side, PrismViolation::Side::kRequest) << all[i].line;
    EXPECT_EQ(all[i].method, "post");
    EXPECT_EQ(all[i].path, "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/deactivate");
  }

  // The same call as the description allows it goes through.
  const auto good = Send("POST", url + "?sendEmail=false", {"Prefer: respond-async"});
  EXPECT_EQ(good.status, 200) << good.body;
  all = SettleLog();
  for (std::size_t i = before + 2; i + 1 < all.size(); ++i) ADD_FAILURE() << "unexpected: " << all[i].line;

  std::vector<std::string> deactivations;
  for (const auto& s : server_->Seen())
    if (s.find("/lifecycle/deactivate") != std::string::npos) deactivations.push_back(s);
  EXPECT_EQ(deactivations,
            std::vector<std::string>{"POST /api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/deactivate?sendEmail=false"});
}

TEST_F(OktaPrismTest, AnswerWithAStatusTheOperationDoesNotListPassesWithAWarning) {
  // listUsers lists 200, 403 and 429; the server answers this one 404.
  const auto before = proxy_->Violations().size();
  const auto ex = Send("GET", proxy_->base_url() + "/api/v1/users?limit=1");
  EXPECT_EQ(ex.status, 404) << ex.body;
  EXPECT_EQ(nlohmann::json::parse(ex.body, nullptr, false).value("errorCode", ""), "E0000007") << ex.body;

  const auto all = SettleLog();
  ASSERT_GE(all.size(), before + 2) << proxy_->Output();
  const PrismViolation& warning = all[before];
  EXPECT_FALSE(warning.refused) << warning.line;
  EXPECT_EQ(warning.type, "WARNING");
  EXPECT_EQ(warning.side, PrismViolation::Side::kResponse) << warning.line;
  EXPECT_EQ(warning.method, "get");
  EXPECT_EQ(warning.path, "/api/v1/users");
  EXPECT_EQ(warning.status, 404);
  EXPECT_TRUE(warning.message.starts_with("Unable to match the returned status code")) << warning.message;
}

TEST(PrismLogTest, ParsesARefusalLine) {
  const auto v = PrismProxy::ParseLogLine(
      "[8:49:07 AM] \xe2\x80\xba [HTTP SERVER] get /api/v1/users/bad \xe2\x9c\x96  error     Request terminated with "
      "error: https://stoplight.io/prism/errors#VIOLATIONS: Request/Response not valid");
  EXPECT_EQ(v.side, PrismViolation::Side::kResponse);
  EXPECT_EQ(v.type, "VIOLATIONS");
  EXPECT_EQ(v.method, "get");
  EXPECT_EQ(v.path, "/api/v1/users/bad");
  EXPECT_TRUE(PrismProxy::ParseLogLine("[8:49:07 AM] \xe2\x80\xba [HTTP SERVER] get /x \xe2\x84\xb9  info  Request "
                                       "received")
                  .type.empty());
  EXPECT_TRUE(PrismProxy::ParseProblem("not json").empty());
}

TEST(PrismLogTest, ParsesAnUpstreamFailure) {
  const auto v = PrismProxy::ParseLogLine(
      "[11:12:55 AM] \xe2\x80\xba [HTTP SERVER] get /api/v1/users/x \xe2\x9c\x96  error     Request terminated with "
      "error: FetchError: request to https://127.0.0.1:41599/api/v1/users/x failed, reason: unable to verify the first "
      "certificate");
  EXPECT_EQ(v.side, PrismViolation::Side::kOther);
  EXPECT_EQ(v.type, "FetchError");
  EXPECT_TRUE(v.refused);
  EXPECT_EQ(v.method, "get");
  EXPECT_EQ(v.path, "/api/v1/users/x");
}

TEST(PrismLogTest, ParsesAWarningLine) {
  const auto v = PrismProxy::ParseLogLine(
      "[11:02:39 AM] \xe2\x80\xba     [VALIDATOR] \xe2\x9a\xa0  warning   Violation: response Unable to match the "
      "returned status code with those defined in the document: 200,403,404,429");
  EXPECT_EQ(v.type, "WARNING");
  EXPECT_FALSE(v.refused);
  EXPECT_EQ(v.side, PrismViolation::Side::kResponse);
  EXPECT_EQ(v.message, "Unable to match the returned status code with those defined in the document: 200,403,404,429");
  EXPECT_TRUE(v.path.empty()) << "the line does not say";
}

}  // namespace
}  // namespace cordon::testing
