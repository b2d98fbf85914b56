#include "support/fake_http_provider.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace cordon::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;
using HttpRequest = http::request<http::string_body>;
using Handler = std::function<Response(const HttpRequest&)>;

constexpr std::string_view kUsers = "/api/v1/users/";
constexpr std::string_view kSuspend = "/lifecycle/suspend";

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a path segment; a malformed escape stays as it is.
std::string Decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && Hex(in[i + 1]) >= 0 && Hex(in[i + 2]) >= 0) {
      out += static_cast<char>(Hex(in[i + 1]) * 16 + Hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

Response Json(http::status status, const nlohmann::json& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump();
  return res;
}

// The provider's own error shape (Okta's).
Response Problem(http::status status, std::string_view code, std::string_view summary) {
  return Json(status, {{"errorCode", code}, {"errorSummary", summary}});
}

}  // namespace

struct FakeHttpProvider::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  uint16_t port = 0;

  mutable std::mutex mu;  // guards everything below
  Plan plan;
  int64_t planned = 0;  // requests the plan has answered so far
  std::set<std::string> refused;
  std::map<std::string, std::string> users;  // login -> status
  std::vector<Request> requests;

  Response Answer(const HttpRequest& req);
  Response Serve(const HttpRequest& req);
  void Accept();

  const Handler handler = [this](const HttpRequest& req) { return Answer(req); };
};

namespace {

// One connection: read a request, answer it, again while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler) : socket_(std::move(socket)), handler_(handler) {}

  void Read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {
      socket_.close(ec);
      return;
    }
    response_ = handler_(request_);
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(socket_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->response_.keep_alive()) {
        self->socket_.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      self->Read();
    });
  }

  tcp::socket socket_;
  const Handler& handler_;
  beast::flat_buffer buffer_;
  HttpRequest request_;
  Response response_;
};

}  // namespace

void FakeHttpProvider::Impl::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // closed: the provider is shutting down
    std::make_shared<Session>(std::move(socket), handler)->Read();
    Accept();
  });
}

Response FakeHttpProvider::Impl::Answer(const HttpRequest& req) {
  Request seen;
  seen.arrived = std::chrono::steady_clock::now();
  seen.method = std::string(req.method_string());
  seen.target = std::string(req.target());
  const std::string_view authorization(req[http::field::authorization].data(), req[http::field::authorization].size());
  if (authorization.starts_with("Bearer ")) seen.credential = std::string(authorization.substr(7));

  std::lock_guard lock(mu);
  Response res;
  if (seen.credential.empty() || refused.count(seen.credential) != 0) {
    res = Problem(http::status::unauthorized, "E0000011", "Invalid token provided");
  } else {
    const int64_t position = planned++ % std::max(plan.cycle, 1);
    if (position < plan.throttled) {
      res = Problem(http::status::too_many_requests, "E0000047", "API call exceeded rate limit due to too many requests.");
      if (plan.retry_after_seconds) res.set(http::field::retry_after, std::to_string(*plan.retry_after_seconds));
    } else if (position < plan.throttled + plan.unavailable) {
      res = Problem(http::status::service_unavailable, "E0000009", "Service unavailable");
    } else {
      res = Serve(req);
    }
  }
  seen.status = static_cast<int>(res.result_int());
  requests.push_back(std::move(seen));
  return res;
}

Response FakeHttpProvider::Impl::Serve(const HttpRequest& req) {
  const std::string_view target(req.target().data(), req.target().size());
  if (target == "/api/v1/ping") return Json(http::status::ok, {{"ok", true}});
  if (!target.starts_with(kUsers)) return Problem(http::status::not_found, "E0000022", "The endpoint does not exist.");
  std::string_view rest = target.substr(kUsers.size());
  const bool suspend = rest.ends_with(kSuspend);
  if (suspend) rest.remove_suffix(kSuspend.size());
  const std::string login = Decode(rest);
  if (login.empty() || login.find('/') != std::string::npos)
    return Problem(http::status::not_found, "E0000022", "The endpoint does not exist.");
  if (login.starts_with("unknown"))
    return Problem(http::status::not_found, "E0000007", "Not found: Resource not found: " + login + " (User)");
  std::string& status = users.try_emplace(login, "ACTIVE").first->second;
  if (suspend && req.method() == http::verb::post) {
    status = "SUSPENDED";
    return Json(http::status::ok, nlohmann::json::object());
  }
  if (!suspend && req.method() == http::verb::get)
    return Json(http::status::ok, {{"id", "00u" + login}, {"status", status}, {"profile", {{"login", login}}}});
  return Problem(http::status::method_not_allowed, "E0000022", "The endpoint does not support the method.");
}

FakeHttpProvider::FakeHttpProvider() : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("the fake HTTP provider cannot listen on 127.0.0.1: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

FakeHttpProvider::~FakeHttpProvider() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string FakeHttpProvider::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

void FakeHttpProvider::SetPlan(const Plan& plan) {
  std::lock_guard lock(impl_->mu);
  impl_->plan = plan;
  impl_->planned = 0;
}

void FakeHttpProvider::RefuseCredential(const std::string& credential) {
  std::lock_guard lock(impl_->mu);
  impl_->refused.insert(credential);
}

void FakeHttpProvider::AcceptAllCredentials() {
  std::lock_guard lock(impl_->mu);
  impl_->refused.clear();
}

std::vector<FakeHttpProvider::Request> FakeHttpProvider::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

int64_t FakeHttpProvider::CountAnswered(int status) const {
  std::lock_guard lock(impl_->mu);
  int64_t n = 0;
  for (const Request& r : impl_->requests) n += r.status == status ? 1 : 0;
  return n;
}

std::string FakeHttpProvider::UserStatus(const std::string& login) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->users.find(login);
  return it == impl_->users.end() ? std::string() : it->second;
}

}  // namespace cordon::testing
