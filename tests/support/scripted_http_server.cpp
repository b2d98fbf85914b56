#include "support/scripted_http_server.h"

#include <cctype>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace cordon::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

using Answer = std::function<http::response<http::string_body>(const http::request<http::string_body>&)>;

void Close(tcp::socket& socket) {
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}
void Close(beast::ssl_stream<tcp::socket>& stream) { Close(stream.next_layer()); }

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, const Answer& answer) : stream_(std::move(stream)), answer_(answer) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      Read();
    } else {
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return Close(self->stream_);
        self->Read();
      });
    }
  }

 private:
  void Read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return Close(self->stream_);
      self->response_ = self->answer_(self->request_);
      self->response_.keep_alive(self->request_.keep_alive());
      self->response_.prepare_payload();
      http::async_write(self->stream_, self->response_, [self](beast::error_code ec, size_t) {
        if (ec || !self->response_.keep_alive()) return Close(self->stream_);
        self->Read();
      });
    });
  }

  Stream stream_;
  const Answer& answer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

struct ScriptedHttpServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;
  std::thread thread;
  uint16_t port = 0;
  Handler handler;
  mutable std::mutex mu;
  std::vector<Request> requests;
  int connections = 0;

  const Answer answer = [this](const http::request<http::string_body>& req) {
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
      if (tls) {
        std::make_shared<Session<beast::ssl_stream<tcp::socket>>>(
            beast::ssl_stream<tcp::socket>(std::move(socket), *tls), answer)
            ->Start();
      } else {
        std::make_shared<Session<tcp::socket>>(std::move(socket), answer)->Start();
      }
      Accept();
    });
  }

  void Listen() {
    beast::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("the scripted HTTP server cannot listen on 127.0.0.1: " + ec.message());
    port = acceptor.local_endpoint().port();
    Accept();
    thread = std::thread([this] { ioc.run(); });
  }
};

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->Listen();
}

ScriptedHttpServer::ScriptedHttpServer(Handler handler, const Tls& tls) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->tls.emplace(ssl::context::tls_server);
  beast::error_code ec;
  impl_->tls->use_certificate_chain_file(tls.cert_file, ec);
  if (!ec) impl_->tls->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("the scripted HTTPS server cannot load its certificate: " + ec.message());
  impl_->Listen();
}

ScriptedHttpServer::~ScriptedHttpServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string ScriptedHttpServer::base_url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

int ScriptedHttpServer::Connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

}  // namespace cordon::testing
