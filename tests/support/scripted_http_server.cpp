#include "support/scripted_http_server.h"

#include <cctype>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace cordon::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Answer = std::function<http::response<http::string_body>(const http::request<http::string_body>&)>;
  Session(tcp::socket socket, const Answer& answer) : socket_(std::move(socket)), answer_(answer) {}

  void Read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->socket_.close(ec);
        return;
      }
      self->response_ = self->answer_(self->request_);
      self->response_.keep_alive(self->request_.keep_alive());
      self->response_.prepare_payload();
      http::async_write(self->socket_, self->response_, [self](beast::error_code ec, size_t) {
        if (ec || !self->response_.keep_alive()) {
          self->socket_.shutdown(tcp::socket::shutdown_both, ec);
          return;
        }
        self->Read();
      });
    });
  }

 private:
  tcp::socket socket_;
  const Answer& answer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

struct ScriptedHttpServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  uint16_t port = 0;
  Handler handler;
  mutable std::mutex mu;
  std::vector<Request> requests;
  int connections = 0;

  const Session::Answer answer = [this](const http::request<http::string_body>& req) {
    Request seen;
    seen.method = std::string(req.method_string());
    seen.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      seen.headers[name] = std::string(field.value());
    }
    seen.body = req.body();
    {
      std::lock_guard lock(mu);
      requests.push_back(seen);
    }
    const Response scripted = handler(seen);
    http::response<http::string_body> res{static_cast<http::status>(scripted.status), 11};
    for (const auto& [name, value] : scripted.headers) res.insert(name, value);
    if (!scripted.body.empty() && res.find(http::field::content_type) == res.end())
      res.set(http::field::content_type, "application/json");
    res.body() = scripted.body;
    return res;
  };

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      {
        std::lock_guard lock(mu);
        ++connections;
      }
      std::make_shared<Session>(std::move(socket), answer)->Read();
      Accept();
    });
  }
};

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("the scripted HTTP server cannot listen on 127.0.0.1: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string ScriptedHttpServer::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

int ScriptedHttpServer::Connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

}  // namespace cordon::testing
