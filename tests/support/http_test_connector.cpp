#include "support/http_test_connector.h"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace cordon::testing {
namespace {

constexpr Millis kDefaultTimeout{10000};

struct Received {
  std::string body;
  std::optional<Millis> retry_after;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<Received*>(user)->body.append(data, size * count);
  return size * count;
}

// Only the delay-seconds form of Retry-After: the form the provider sends.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string name(line.substr(0, kName.size()));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      int64_t seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec == std::errc() && end != value.data() && seconds >= 0)
        static_cast<Received*>(user)->retry_after = Millis(seconds * 1000);
    }
  }
  return size * count;
}

// The provider's own words: its errorSummary when the body has one.
std::string Summary(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("errorSummary") && doc["errorSummary"].is_string())
    return doc["errorSummary"].get<std::string>();
  return body.substr(0, 200);
}

bool IsUser(const nlohmann::json& user) {
  return user.is_object() && user.contains("id") && user["id"].is_string() && user.contains("status") &&
         user["status"].is_string();
}

bool CurlReady() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

}  // namespace

HttpTestConnector::HttpTestConnector(std::string base_url, std::shared_ptr<CredentialCache> credentials)
    : base_url_(std::move(base_url)), credentials_(std::move(credentials)) {
  if (!CurlReady() || (curl_ = curl_easy_init()) == nullptr) throw std::runtime_error("libcurl cannot start");
}

HttpTestConnector::~HttpTestConnector() { curl_easy_cleanup(curl_); }

std::string HttpTestConnector::UserPath(const std::string& login) const {
  char* escaped = curl_easy_escape(curl_, login.data(), static_cast<int>(login.size()));
  std::string path = "/api/v1/users/" + std::string(escaped != nullptr ? escaped : "");
  curl_free(escaped);
  return path;
}

Result<HttpTestConnector::Answer> HttpTestConnector::Send(const std::string& method, const std::string& path,
                                                          const ExecutionContext& context) {
  if (auto paced = context.Pace(); !paced) return Fail(paced.error());
  auto credential = credentials_->Get(Now());
  if (!credential) return Fail(Error(credential.error()).BlameProvider());

  Received received;
  const std::string url = base_url_ + path;
  const std::string authorization = "Authorization: Bearer " + credential->value.Reveal();
  curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_reset(curl_);
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(context.Remaining(kDefaultTimeout).count()));
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &received);
  const CURLcode sent = curl_easy_perform(curl_);
  curl_slist_free_all(headers);
  if (sent == CURLE_OPERATION_TIMEDOUT)
    return Fail(Error::Timeout(method + " " + path + ": no answer in time").BlameProvider());
  if (sent != CURLE_OK)
    return Fail(Error::Unavailable(method + " " + path + ": " + curl_easy_strerror(sent))
                    .WithProvider("curl:" + std::to_string(sent), "")
                    .BlameProvider());

  long status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return Answer{status, std::move(received.body)};
  const std::string code = "http:" + std::to_string(status);
  const std::string summary = Summary(received.body);
  switch (status) {
    case 401:
      // Whoever asks next loads the credential afresh; a burst of refusals of
      // this one costs one load.
      credentials_->Invalidate(credential->generation);
      return Fail(Error::Unauthenticated("the provider refused the action account's token")
                      .WithProvider(code, summary)
                      .BlameProvider());
    case 404: return Fail(Error::NotFound(summary).WithProvider(code, summary));
    case 429: {
      Error e = Error::ResourceExhausted("the provider throttles").WithProvider(code, summary).BlameProvider();
      e.retry_after = received.retry_after;
      return Fail(std::move(e));
    }
    case 503: return Fail(Error::Unavailable("the provider is unavailable").WithProvider(code, summary).BlameProvider());
    default: return Fail(Error::Internal("unexpected answer " + code).WithProvider(code, summary));
  }
}

Result<ExecutionOutcome> HttpTestConnector::Execute(const Action& action, const ExecutionContext& context) {
  auto read = Send("GET", UserPath(action.target), context);
  if (!read) return Fail(read.error());
  const auto user = nlohmann::json::parse(read->body, nullptr, false);
  if (!IsUser(user))
    return Fail(Error::Internal("the provider's user has no id or status").WithProvider("http:200", read->body));
  Observation seen;
  seen.action_id = action.id;
  seen.resolved_account = action.target;
  seen.account_id = user["id"].get<std::string>();
  seen.state = "status " + user["status"].get<std::string>();
  seen.in_target_state = user["status"] == "SUSPENDED";
  if (auto recorded = context.Record(std::span(&seen, 1)); !recorded)
    return Fail(Error::Unavailable("what the account looked like was not recorded: " + recorded.error().message));

  ExecutionOutcome out;
  out.resolved_account = seen.resolved_account;
  out.account_id = seen.account_id;
  if (seen.in_target_state) {
    out.already_in_state = true;
    out.message = "already suspended";
    out.provider_answer = {"http:200", seen.state};
    return out;
  }
  auto changed = Send("POST", UserPath(action.target) + "/lifecycle/suspend", context);
  if (!changed) return Fail(changed.error());
  out.message = "suspended";
  out.provider_answer = {"http:" + std::to_string(changed->status), ""};
  return out;
}

Status HttpTestConnector::Probe(const ExecutionContext& context) {
  auto answer = Send("GET", "/api/v1/ping", context);
  if (!answer) return Fail(answer.error());
  return {};
}

Result<AccountView> HttpTestConnector::Lookup(const std::string& account) {
  auto read = Send("GET", UserPath(account), ExecutionContext{});
  if (!read) return Fail(read.error());
  const auto user = nlohmann::json::parse(read->body, nullptr, false);
  if (!IsUser(user)) return Fail(Error::Internal("the provider's user has no id or status"));
  AccountView view;
  view.provider = Provider::kOkta;
  view.id = user["id"].get<std::string>();
  view.login = account;
  view.status = user["status"] == "SUSPENDED" ? AccountStatus::kSuspended
                : user["status"] == "ACTIVE"  ? AccountStatus::kEnabled
                                              : AccountStatus::kOther;
  return view;
}

}  // namespace cordon::testing
