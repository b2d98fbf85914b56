// The console's server side over real HTTPS (ApiFixture): the app and its
// security headers, sign-in with the session and CSRF cookies, the CSRF
// refusals of cookie-authenticated changes, bearer tokens unaffected, the
// token kept out of URLs and logs, sign-out, and the CSV export.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/api_fixture.h"
#include "support/log_capture.h"

namespace cordon::api::testing {
namespace {

using nlohmann::json;
using cordon::testing::LogCapture;
namespace http = boost::beast::http;

constexpr char kCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
constexpr char kOwnOrigin[] = "https://localhost";  // TestClient sends Host: localhost


std::vector<std::string> SetCookies(const HttpResult& r) {
  std::vector<std::string> out;
  const auto [from, to] = r.all_headers.equal_range("set-cookie");
  for (auto it = from; it != to; ++it) out.push_back(it->second);
  return out;
}

// The Set-Cookie line of cookie `name`, or "".
std::string CookieLine(const HttpResult& r, const std::string& name) {
  for (const std::string& line : SetCookies(r))
    if (line.rfind(name + "=", 0) == 0) return line;
  return "";
}

std::string CookieValueOf(const std::string& line) {
  const size_t eq = line.find('=');
  const size_t end = line.find(';');
  return line.substr(eq + 1, end - eq - 1);
}

// A minimal RFC 4180 reader, to check what a spreadsheet would read.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
      ++i;
    } else {
      cell += c;
    }
  }
  EXPECT_TRUE(cell.empty() && row.empty()) << "the CSV ends with CRLF";
  return rows;
}

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ApiFixture::Start();
    ASSERT_TRUE(f.has_value()) << f.error().message;
    fixture_ = std::move(*f);
    client_.emplace(fixture_->Client());
    operator_token_ = fixture_->Token(Role::kSecurityOperator);
    reader_token_ = fixture_->Token(Role::kSecurityReader);
  }

  HttpResult SignIn(const std::string& token, std::map<std::string, std::string> headers = {}) {
    RawRequest r;
    r.method = http::verb::post;
    r.target = "/console/session";
    r.body = json{{"token", token}}.dump();
    r.headers = std::move(headers);
    return client_->Send(r);
  }

  // The two cookies a successful sign-in set.
  struct Session {
    std::string token;
    std::string csrf;
    std::string Cookie() const { return "cordon_session=" + token + "; cordon_csrf=" + csrf; }
  };
  Session SignedIn(const std::string& token) {
    const HttpResult r = SignIn(token);
    EXPECT_EQ(r.status, 204u) << r.body;
    return {CookieValueOf(CookieLine(r, "cordon_session")), CookieValueOf(CookieLine(r, "cordon_csrf"))};
  }

  // A cookie-authenticated request, without an Authorization header.
  HttpResult WithCookie(const Session& s, http::verb method, const std::string& target, const std::string& body,
                        std::map<std::string, std::string> headers) {
    RawRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.headers = std::move(headers);
    r.headers["Cookie"] = s.Cookie();
    return client_->Send(r);
  }

  HttpResult SubmitWithCookie(const Session& s, std::map<std::string, std::string> headers,
                              const std::string& account = "alice.adams") {
    return WithCookie(
        s, http::verb::post, "/api/v1/actions",
        json{{"action", "disable"}, {"provider", "ad"}, {"account", account}, {"reason", "phishing"}}.dump(),
        std::move(headers));
  }

  size_t ActionCount() {
    ActionFilter filter;
    filter.limit = 1000;
    auto page = fixture_->store().ListActions(filter);
    return page ? page->actions.size() : 0;
  }

  std::string IndexHtml() { return client_->Get("/console/", "").body; }

  // The names of the scripts and stylesheets index.html loads.
  std::vector<std::string> AssetsOfIndex() {
    const std::string html = IndexHtml();
    std::vector<std::string> out;
    const std::regex ref(R"re((?:src|href)="(/console/assets/[^"]+)")re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it)
      out.push_back((*it)[1]);
    return out;
  }

  std::unique_ptr<ApiFixture> fixture_;
  std::optional<TestClient> client_;
  std::string operator_token_;
  std::string reader_token_;
};

void ExpectConsoleHeaders(const HttpResult& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_NE(r.status, 0u) << r.transport_error;
  EXPECT_EQ(r.Header("content-security-policy"), kCsp);
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.Header("x-frame-options"), "DENY");
}

TEST_F(ConsoleApiTest, TheRootRedirectsToTheConsole) {
  for (const std::string target : {"/", "/console"}) {
    const HttpResult r = client_->Get(target, "");
    EXPECT_EQ(r.status, 302u) << target;
    EXPECT_EQ(r.Header("location"), "/console/") << target;
    ExpectConsoleHeaders(r, target);
  }
}

TEST_F(ConsoleApiTest, EveryConsoleAnswerCarriesTheSecurityHeaders) {
  std::vector<std::string> targets{"/console/", "/console/actions", "/console/actions/act_x?status=failed",
                                   "/console/identities/0a1b", "/console/assets/nothing-here.js"};
  for (const std::string& asset : AssetsOfIndex()) targets.push_back(asset);
  ASSERT_GE(targets.size(), 7u) << "index.html loads a script and a stylesheet";
  for (const std::string& target : targets) ExpectConsoleHeaders(client_->Get(target, ""), target);

  RawRequest wrong_method;
  wrong_method.method = http::verb::post;
  wrong_method.target = "/console/actions";
  wrong_method.body = "{}";
  const HttpResult r405 = client_->Send(wrong_method);
  EXPECT_EQ(r405.status, 405u);
  ExpectConsoleHeaders(r405, "POST /console/actions");
  ExpectConsoleHeaders(SignIn("cdn_not-a-token"), "a refused sign-in");
  ExpectConsoleHeaders(SignIn(operator_token_), "a sign-in");
  RawRequest sign_out;
  sign_out.method = http::verb::delete_;
  sign_out.target = "/console/session";
  ExpectConsoleHeaders(client_->Send(sign_out), "a sign-out");
}

TEST_F(ConsoleApiTest, PagesAreNeverCachedAndHashedAssetsAreCachedForGood) {
  for (const std::string target : {"/console/", "/console/actions", "/console/identities/x"}) {
    const HttpResult r = client_->Get(target, "");
    EXPECT_EQ(r.status, 200u) << target;
    EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8") << target;
    EXPECT_EQ(r.Header("cache-control"), "no-store") << target;
    EXPECT_EQ(r.body, IndexHtml()) << "every client-side route is the app";
  }
  const auto assets = AssetsOfIndex();
  ASSERT_EQ(assets.size(), 2u) << IndexHtml();
  for (const std::string& asset : assets) {
    const HttpResult r = client_->Get(asset, "");
    EXPECT_EQ(r.status, 200u) << asset;
    EXPECT_EQ(r.Header("cache-control"), "public, max-age=31536000, immutable") << asset;
    EXPECT_TRUE(std::regex_match(asset, std::regex(R"(/console/assets/app-[A-Z0-9]{8}\.(js|css))"))) << asset;
    EXPECT_EQ(r.Header("content-type"),
              asset.ends_with(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
    EXPECT_GT(r.body.size(), 1000u);
  }
  const HttpResult missing = client_->Get("/console/assets/index.html", "");
  EXPECT_EQ(missing.status, 404u) << "index.html is served as a page only";
  EXPECT_EQ(missing.Header("cache-control"), "no-store");
}

TEST_F(ConsoleApiTest, IndexHtmlHasNoInlineScriptOrStyle) {
  const std::string html = IndexHtml();
  ASSERT_NE(html.find("<div id=\"app\">"), std::string::npos) << html;
  const std::regex script_tag(R"(<script\b([^>]*)>([\s\S]*?)</script>)", std::regex::icase);
  int scripts = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), script_tag); it != std::sregex_iterator(); ++it) {
    ++scripts;
    EXPECT_NE((*it)[1].str().find("src=\"/console/assets/"), std::string::npos) << it->str();
    EXPECT_TRUE((*it)[2].str().empty()) << "inline script: " << it->str();
  }
  EXPECT_EQ(scripts, 1);
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(<style\b)", std::regex::icase))) << html;
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\sstyle\s*=)", std::regex::icase))) << html;
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase))) << html;
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(javascript:)", std::regex::icase))) << html;
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(https?://)", std::regex::icase))) << "nothing from elsewhere";
}

TEST_F(ConsoleApiTest, SignInSetsAnHttpOnlySessionCookieAndAReadableCsrfCookie) {
  const HttpResult r = SignIn(operator_token_, {{"Origin", kOwnOrigin}});
  ASSERT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(SetCookies(r).size(), 2u);
  EXPECT_EQ(CookieLine(r, "cordon_session"),
            "cordon_session=" + operator_token_ + "; HttpOnly; Secure; SameSite=Strict; Path=/");
  const std::string csrf = CookieLine(r, "cordon_csrf");
  EXPECT_TRUE(std::regex_match(csrf, std::regex("cordon_csrf=[0-9a-f]{64}; Secure; SameSite=Strict; Path=/"))) << csrf;
  EXPECT_NE(CookieValueOf(csrf), CookieValueOf(CookieLine(SignIn(operator_token_), "cordon_csrf")))
      << "each sign-in draws a new CSRF value";
}

TEST_F(ConsoleApiTest, ARefusedSignInSetsNothingAndSaysNothingOfTheToken) {
  const std::string wrong = "cdn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const HttpResult r = SignIn(wrong);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_TRUE(SetCookies(r).empty());
  EXPECT_EQ(r.body.find(wrong), std::string::npos);
  ASSERT_TRUE(fixture_->Flush().has_value());
  auto rows = fixture_->store().ListAudit("auth.unauthenticated", 100);
  ASSERT_TRUE(rows.has_value());
  ASSERT_FALSE(rows->empty()) << "a refused sign-in is audited as a refused bearer token is";
  EXPECT_NE(rows->front().detail.find("POST /console/session"), std::string::npos) << rows->front().detail;
  EXPECT_EQ(rows->front().detail.find(wrong), std::string::npos);

  RawRequest in_url;
  in_url.method = http::verb::post;
  in_url.target = "/console/session?token=" + operator_token_;
  in_url.body = json{{"token", operator_token_}}.dump();
  const HttpResult refused = client_->Send(in_url);
  EXPECT_EQ(refused.status, 400u) << "a token in the URL is refused, even with a good body";
  EXPECT_TRUE(SetCookies(refused).empty());

  const HttpResult cross_site = SignIn(operator_token_, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cross_site.status, 403u);
  EXPECT_EQ(cross_site.Json().value("type", ""), "urn:cordon:problem:csrf");
  EXPECT_TRUE(SetCookies(cross_site).empty());

  RawRequest form;
  form.method = http::verb::post;
  form.target = "/console/session";
  form.content_type = "application/x-www-form-urlencoded";
  form.body = "token=" + operator_token_;
  EXPECT_EQ(client_->Send(form).status, 415u) << "a cross-site form cannot sign in";
}

TEST_F(ConsoleApiTest, FailedSignInsShareTheBearerTokensLimiter) {
  unsigned last = 0;
  for (int i = 0; i < 30 && last != 429u; ++i) last = SignIn("cdn_wrong").status;
  EXPECT_EQ(last, 429u);
  EXPECT_EQ(client_->Get("/api/v1/actions", "cdn_wrong").status, 429u) << "one budget per address";
  EXPECT_EQ(client_->Get("/api/v1/actions", operator_token_).status, 200u) << "a valid token is served as ever";
}

TEST_F(ConsoleApiTest, TheCookieAuthenticatesReads) {
  const Session s = SignedIn(reader_token_);
  const HttpResult r = WithCookie(s, http::verb::get, "/api/v1/actions", "", {});
  EXPECT_EQ(r.status, 200u) << r.body;
  RawRequest bad;
  bad.target = "/api/v1/actions";
  bad.headers["Cookie"] = "cordon_session=cdn_wrong";
  EXPECT_EQ(client_->Send(bad).status, 401u);
}

TEST_F(ConsoleApiTest, CookieAuthenticatedChangesNeedTheCsrfHeaderAndOwnOrigin) {
  const Session s = SignedIn(operator_token_);
  const struct {
    std::string what;
    std::map<std::string, std::string> headers;
  } refusals[] = {
      {"no CSRF header", {{"Origin", kOwnOrigin}}},
      {"a wrong CSRF header", {{"X-CSRF-Token", std::string(64, '0')}, {"Origin", kOwnOrigin}}},
      {"an empty CSRF header", {{"X-CSRF-Token", ""}}},
      {"another site's origin", {{"X-CSRF-Token", s.csrf}, {"Origin", "https://evil.example"}}},
      {"another port", {{"X-CSRF-Token", s.csrf}, {"Origin", "https://localhost:8444"}}},
      {"plain http", {{"X-CSRF-Token", s.csrf}, {"Origin", "http://localhost"}}},
      {"an opaque origin", {{"X-CSRF-Token", s.csrf}, {"Origin", "null"}}},
  };
  for (const auto& refusal : refusals) {
    const HttpResult r = SubmitWithCookie(s, refusal.headers);
    EXPECT_EQ(r.status, 403u) << refusal.what << ": " << r.body;
    EXPECT_EQ(r.Json().value("type", ""), "urn:cordon:problem:csrf") << refusal.what;
  }
  // Cancel and undo are guarded too, before the action is even looked up.
  const HttpResult cancel = WithCookie(s, http::verb::post, "/api/v1/actions/act_01hzx3k9m2qv7w8e5r4t6y1n0b/cancel",
                                       json{{"reason", "x"}}.dump(), {});
  EXPECT_EQ(cancel.status, 403u);
  EXPECT_EQ(ActionCount(), 0u) << "a refused request creates nothing";

  ASSERT_TRUE(fixture_->Flush().has_value());
  auto rows = fixture_->store().ListAudit("auth.forbidden", 100);
  ASSERT_TRUE(rows.has_value());
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->front().actor, "security_operator-token");
  EXPECT_NE(rows->front().detail.find("csrf"), std::string::npos) << rows->front().detail;

  const HttpResult ok = SubmitWithCookie(s, {{"X-CSRF-Token", s.csrf}, {"Origin", kOwnOrigin}});
  EXPECT_EQ(ok.status, 202u) << ok.body;
  EXPECT_EQ(ok.Json().value("requestedBy", ""), "security_operator-token");
  const HttpResult no_origin = SubmitWithCookie(s, {{"X-CSRF-Token", s.csrf}}, "bob.brown");
  EXPECT_EQ(no_origin.status, 202u) << "a request without Origin (same-origin GET-less clients) passes on the header";
  EXPECT_EQ(ActionCount(), 2u);
}

TEST_F(ConsoleApiTest, BearerTokensAreUnaffected) {
  const Session s = SignedIn(reader_token_);
  RawRequest r;
  r.method = http::verb::post;
  r.target = "/api/v1/actions";
  r.token = operator_token_;
  r.body = json{{"action", "disable"}, {"provider", "ad"}, {"account", "carol"}, {"reason", "x"}}.dump();
  r.headers["Origin"] = "https://evil.example";
  r.headers["Cookie"] = s.Cookie();
  const HttpResult answer = client_->Send(r);
  EXPECT_EQ(answer.status, 202u) << "a bearer token needs no CSRF header, and its role is the token's: " << answer.body;
  EXPECT_EQ(answer.Json().value("requestedBy", ""), "security_operator-token");
  EXPECT_EQ(client_->Post("/api/v1/actions", json::parse(r.body), "cdn_wrong").status, 401u);
}

TEST_F(ConsoleApiTest, SignOutClearsBothCookiesAndNeedsTheCsrfHeaderWhenSignedIn) {
  const Session s = SignedIn(operator_token_);
  const HttpResult refused = WithCookie(s, http::verb::delete_, "/console/session", "", {});
  EXPECT_EQ(refused.status, 403u);
  EXPECT_TRUE(SetCookies(refused).empty());

  const HttpResult r =
      WithCookie(s, http::verb::delete_, "/console/session", "", {{"X-CSRF-Token", s.csrf}, {"Origin", kOwnOrigin}});
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(CookieLine(r, "cordon_session"), "cordon_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
  EXPECT_EQ(CookieLine(r, "cordon_csrf"), "cordon_csrf=; Secure; SameSite=Strict; Path=/; Max-Age=0");

  RawRequest without;
  without.method = http::verb::delete_;
  without.target = "/console/session";
  EXPECT_EQ(client_->Send(without).status, 204u) << "without a session there is nothing to guard";
  const HttpResult wrong = client_->Get("/console/session", "");
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_EQ(wrong.Header("allow"), "POST, DELETE");
}

TEST_F(ConsoleApiTest, TheTokenNeverReachesTheAccessLog) {
  std::string log;
  {
    LogCapture capture;
    const Session s = SignedIn(operator_token_);
    (void)SignIn("cdn_" + std::string(43, 'B'));
    (void)WithCookie(s, http::verb::get, "/api/v1/actions", "", {});
    (void)SubmitWithCookie(s, {});
    (void)SubmitWithCookie(s, {{"X-CSRF-Token", s.csrf}});
    (void)WithCookie(s, http::verb::delete_, "/console/session", "", {{"X-CSRF-Token", s.csrf}});
    RawRequest in_url;
    in_url.method = http::verb::post;
    in_url.target = "/console/session?token=" + operator_token_;
    in_url.body = "{}";
    (void)client_->Send(in_url);
    ASSERT_TRUE(fixture_->Flush().has_value());
    log = capture.Text();
  }
  EXPECT_NE(log.find("POST /console/session 204"), std::string::npos) << log;
  EXPECT_NE(log.find("route=console.session actor=security_operator-token"), std::string::npos) << log;
  EXPECT_NE(log.find("POST /api/v1/actions 403"), std::string::npos) << log;
  EXPECT_NE(log.find("POST /api/v1/actions 202"), std::string::npos) << log;
  EXPECT_NE(log.find("DELETE /console/session 204"), std::string::npos) << log;
  for (const std::string& token : fixture_->AllTokens()) EXPECT_EQ(log.find(token), std::string::npos);
  for (size_t at = log.find("cdn_"); at != std::string::npos; at = log.find("cdn_", at + 1))
    EXPECT_EQ(log.compare(at, 7, "cdn_***"), 0) << log.substr(at, 40);
  EXPECT_EQ(log.find("cordon_session="), std::string::npos);
  EXPECT_EQ(log.find("cordon_csrf"), std::string::npos);

  auto audit = fixture_->store().ListAudit("auth.", 100);
  ASSERT_TRUE(audit.has_value());
  for (const AuditEvent& e : *audit)
    for (const std::string& token : fixture_->AllTokens()) EXPECT_EQ(e.detail.find(token), std::string::npos);
}

TEST_F(ConsoleApiTest, ExportIsTheFilteredListAsCsvOverEveryPage) {
  // More than one page of the store (1,000 per page) in one bulk.
  std::vector<std::string> accounts;
  for (int i = 1; i <= 1205; ++i) accounts.push_back(fmt::format("user{:04}", i));
  const HttpResult bulk = client_->Post(
      "/api/v1/actions/bulk",
      json{{"action", "disable"}, {"provider", "ad"}, {"accounts", accounts}, {"reason", "spray, \"wave 2\""}},
      operator_token_);
  ASSERT_EQ(bulk.status, 202u) << bulk.body;
  const std::string bulk_id = bulk.Json().value("bulkId", "");
  ASSERT_EQ(client_
                ->Post("/api/v1/actions",
                       json{{"action", "suspend"}, {"provider", "okta"}, {"account", "x@y"}, {"reason", "r"}},
                       operator_token_)
                .status,
            202u);

  const HttpResult r = client_->Get("/api/v1/actions/export?bulkId=" + bulk_id, reader_token_);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(r.Header("content-disposition"), "attachment; filename=\"cordon-actions.csv\"");
  EXPECT_EQ(r.Header("x-cordon-export-truncated"), "");
  const auto rows = ParseCsv(r.body);
  ASSERT_EQ(rows.size(), 1206u) << "a header and every action of the bulk, across pages";
  EXPECT_EQ(rows[0][0], "id");
  EXPECT_EQ(rows[0][6], "account");
  EXPECT_EQ(rows[0][9], "reason");
  std::set<std::string> seen;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size());
    EXPECT_EQ(rows[i][5], "ad");
    EXPECT_EQ(rows[i][9], "spray, \"wave 2\"");
    EXPECT_EQ(rows[i][19], bulk_id);
    seen.insert(rows[i][6]);
  }
  EXPECT_EQ(seen.size(), 1205u) << "each action once";

  const auto okta = ParseCsv(client_->Get("/api/v1/actions/export?provider=okta", operator_token_).body);
  ASSERT_EQ(okta.size(), 2u);
  EXPECT_EQ(okta[1][6], "x@y");
}

TEST_F(ConsoleApiTest, ExportNeutralisesFormulas) {
  // Account names refuse control characters, so tab and CR come in reasons.
  const std::vector<std::pair<std::string, std::string>> cases{
      {"=HYPERLINK(\"http://evil/\",\"x\")", "+cmd|' /C calc'!A0"}, {"@SUM(1+1)", "\tcmd"}, {"-2+3", "\rreason"}};
  for (const auto& [account, reason] : cases) {
    const HttpResult r = client_->Post(
        "/api/v1/actions", json{{"action", "disable"}, {"provider", "ad"}, {"account", account}, {"reason", reason}},
        operator_token_);
    ASSERT_EQ(r.status, 202u) << r.body;
  }
  const auto rows = ParseCsv(client_->Get("/api/v1/actions/export", operator_token_).body);
  ASSERT_EQ(rows.size(), 4u);
  std::set<std::string> cells;
  for (size_t i = 1; i < rows.size(); ++i) {
    cells.insert(rows[i][6]);
    cells.insert(rows[i][9]);
  }
  const std::set<std::string> expected{
      "'=HYPERLINK(\"http://evil/\",\"x\")", "'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'\tcmd", "'-2+3", "'\rreason"};
  EXPECT_EQ(cells, expected);
}

TEST_F(ConsoleApiTest, ExportStopsAtOneHundredThousandRowsAndSaysSo) {
  // Eleven bulks of 10,000 (the bulk limit) and one more action: 100,001 rows.
  for (int bulk = 0; bulk < 10; ++bulk) {
    std::vector<std::string> accounts;
    for (int i = 0; i < 10000; ++i) accounts.push_back(fmt::format("b{}u{:05}", bulk, i));
    const HttpResult r = client_->Post(
        "/api/v1/actions/bulk",
        json{{"action", "disable"}, {"provider", "ad"}, {"accounts", accounts}, {"reason", "spray"}}, operator_token_);
    ASSERT_EQ(r.status, 202u) << r.body;
  }
  ASSERT_EQ(
      client_
          ->Post("/api/v1/actions",
                 json{{"action", "disable"}, {"provider", "ad"}, {"account", "last"}, {"reason", "r"}}, operator_token_)
          .status,
      202u);
  const HttpResult r = client_->Get("/api/v1/actions/export", operator_token_);
  ASSERT_EQ(r.status, 200u) << r.transport_error;
  EXPECT_EQ(r.Header("x-cordon-export-truncated"), "100000");
  size_t records = 0;
  for (size_t at = r.body.find("\r\n"); at != std::string::npos; at = r.body.find("\r\n", at + 2)) ++records;
  EXPECT_EQ(records, 100001u) << "the header and 100,000 rows";
  // Newest first: the last action asked for is in, and one of the first bulk's is out.
  EXPECT_NE(r.body.find(",last,"), std::string::npos);
  size_t first_bulk = 0;
  for (size_t at = r.body.find(",b0u"); at != std::string::npos; at = r.body.find(",b0u", at + 1)) ++first_bulk;
  EXPECT_EQ(first_bulk, 9999u);
}

TEST_F(ConsoleApiTest, ExportRefusesWhatTheListWouldAndPagingParameters) {
  EXPECT_EQ(client_->Get("/api/v1/actions/export", "").status, 401u);
  EXPECT_EQ(client_->Get("/api/v1/actions/export?status=nope", operator_token_).status, 400u);
  const HttpResult limit = client_->Get("/api/v1/actions/export?limit=5", operator_token_);
  EXPECT_EQ(limit.status, 400u);
  EXPECT_EQ(limit.Json().value("detail", ""),
            "unknown query parameter; known: status, type, provider, target, requestedBy, createdAfter, "
            "createdBefore, bulkId");
  EXPECT_EQ(client_->Post("/api/v1/actions/export", json::object(), operator_token_).status, 405u);
  const HttpResult empty = client_->Get("/api/v1/actions/export", operator_token_);
  EXPECT_EQ(empty.status, 200u);
  EXPECT_EQ(ParseCsv(empty.body).size(), 1u) << "the header alone";
}

}  // namespace
}  // namespace cordon::api::testing
