#include "api/server.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "api/http_metrics.h"
#include "api/router.h"
#include "engine/engine.h"

namespace cordon {
namespace {

using api::HttpMetrics;
using api::HttpRequest;
using api::HttpResponse;
using api::Problem;
using api::RequestMeta;
using api::RoutedResponse;
using api::Router;
using api::ToStd;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr size_t kMaxConnections = 1024;
constexpr size_t kMaxBodyLimitBytes = 64 * 1024 * 1024;
constexpr size_t kMaxDrainBytes = 8 * 1024 * 1024;
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Asks the session to close once it is idle (from any thread).
  virtual void Shutdown() = 0;
};

// What the listener and every session share. Outlives the io_context.
struct Shared {
  Shared(Store& store, ActionService& actions, std::function<std::string()> extra,
         std::function<std::vector<ProviderHealth>()> health, api::RouterInventory inventory, size_t max_body,
         std::chrono::seconds read_timeout)
      : router(store, actions, metrics, std::move(extra), std::move(health), {}, inventory),
        max_body(max_body),
        read_timeout(read_timeout) {}

  HttpMetrics metrics;
  Router router;
  size_t max_body;
  std::chrono::seconds read_timeout;
  // The handler pools (server.h); made by Start.
  std::optional<asio::thread_pool> readers;
  std::optional<asio::thread_pool> writers;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> live{0};
  std::mutex mu;
  std::vector<std::weak_ptr<SessionBase>> sessions;

  void Register(const std::shared_ptr<SessionBase>& session) {
    std::lock_guard lock(mu);
    std::erase_if(sessions, [](const std::weak_ptr<SessionBase>& w) { return w.expired(); });
    sessions.push_back(session);
  }
};

// The peer's address as the limiter and the audit trail see it: an IPv4
// client reaching an IPv6 socket is shown as the IPv4 address it is.
std::string ClientAddress(const tcp::socket& socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

// Engine counters in Prometheus text, followed by the caller's own extra text.
std::function<std::string()> ExtraMetrics(Engine* engine, std::function<std::string()> extra) {
  if (engine == nullptr) return extra;
  return [engine, extra = std::move(extra)] {
    const EngineStats stats = engine->Stats();
    std::string out;
    auto counter = [&](std::string_view name, std::string_view help, auto field) {
      out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
      for (const auto& [provider, p] : stats.providers)
        out += fmt::format("{}{{provider=\"{}\"}} {}\n", name, ToString(provider), p.*field);
    };
    counter("cordon_engine_executed_total", "Actions handed to a connector.", &ProviderStats::executed);
    counter("cordon_engine_succeeded_total", "Actions that succeeded.", &ProviderStats::succeeded);
    counter("cordon_engine_failed_total", "Actions that failed for good.", &ProviderStats::failed);
    counter("cordon_engine_retried_total", "The actions' own transient failures, scheduled for another attempt.",
            &ProviderStats::retried);
    counter("cordon_engine_provider_errors_total", "Attempts the provider failed as a whole (not counted).",
            &ProviderStats::provider_errors);
    counter("cordon_engine_out_of_time_total", "Actions failed because their time budget ran out.",
            &ProviderStats::out_of_time);
    out += fmt::format("# HELP cordon_engine_leases_recovered_total Expired leases returned to pending.\n"
                       "# TYPE cordon_engine_leases_recovered_total counter\n"
                       "cordon_engine_leases_recovered_total {}\n",
                       stats.leases_recovered);
    out += fmt::format("# HELP cordon_engine_workers Engine workers, and those whose connector cannot be made.\n"
                       "# TYPE cordon_engine_workers gauge\n"
                       "cordon_engine_workers{{state=\"all\"}} {}\n"
                       "cordon_engine_workers{{state=\"without_connector\"}} {}\n",
                       stats.workers, stats.workers_without_connector);
    if (extra) out += extra();
    return out;
  };
}

std::function<std::vector<ProviderHealth>()> ProviderHealthOf(Engine* engine) {
  if (engine == nullptr) return {};
  return [engine] { return engine->Health(); };
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category();
}

// One connection; Stream is beast::tcp_stream (plain) or
// beast::ssl_stream<beast::tcp_stream> (TLS). All its handlers run on the
// connection's strand.
template <class Stream>
class Session final : public SessionBase {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  enum class State { kReading, kHandling, kWriting, kClosing };

 public:
  template <class... Args>
  Session(Shared& shared, std::string client_address, Args&&... args)
      : shared_(shared), client_address_(std::move(client_address)), stream_(std::forward<Args>(args)...) {
    ++shared_.live;
  }
  ~Session() override { --shared_.live; }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->OnRun(); });
  }

  void Shutdown() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      if (self->state_ == State::kReading) {
        beast::error_code ignored;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->Lowest().close();
      }
    });
  }

 private:
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnRun() {
    if constexpr (kTls) {
      state_ = State::kReading;
      Lowest().expires_after(shared_.read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = Self()](beast::error_code ec) { self->OnHandshake(ec); });
    } else {
      DoRead();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return CloseNow();
    DoRead();
  }

  void DoRead() {
    if (shared_.stopping) return DoClose();
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(kHeaderLimitBytes);
    parser_->body_limit(shared_.max_body);
    Lowest().expires_after(shared_.read_timeout);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    started_ = SteadyClock::now();
    const auto length = parser_->content_length();
    if (length && *length > shared_.max_body) return RejectTooLarge();

    const auto& request = parser_->get();
    const auto expect = request.find(beast::http::field::expect);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue")) {
      continue_ = std::make_shared<beast::http::response<beast::http::empty_body>>(beast::http::status::continue_,
                                                                                   request.version());
      beast::http::async_write(stream_, *continue_, [self = Self()](beast::error_code ec, size_t) {
        self->continue_.reset();
        if (ec) return self->CloseNow();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    beast::http::async_read(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == beast::http::error::body_limit) return RejectTooLarge();
    if (ec == beast::http::error::header_limit)
      return Reply(beast::http::status::request_header_fields_too_large, "header-too-large",
                   "the request header is too large", "invalid", 11);
    if (IsHttpParseError(ec) && ec != beast::http::error::end_of_stream && ec != beast::http::error::partial_message)
      return Reply(beast::http::status::bad_request, "malformed-request", "the request is not valid HTTP/1.1",
                   "invalid", 11);
    CloseNow();
  }

  void RejectTooLarge() {
    if (started_ == SteadyClock::time_point{}) started_ = SteadyClock::now();
    // The body stays unread, so the connection cannot carry another request.
    Reply(beast::http::status::payload_too_large, "body-too-large",
          fmt::format("the body exceeds {} bytes", shared_.max_body), "too_large", parser_->get().version());
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    state_ = State::kHandling;
    auto request = std::make_shared<HttpRequest>(parser_->release());
    RequestMeta meta{client_address_, api::NewRequestId(), kTls};
    asio::thread_pool& pool = api::IsMutation(*request) ? *shared_.writers : *shared_.readers;
    asio::post(pool, [self = Self(), request, meta = std::move(meta)] {
      auto routed = std::make_shared<RoutedResponse>(self->Handle(*request, meta));
      asio::post(self->stream_.get_executor(), [self, request, routed] { self->OnHandled(*request, *routed); });
    });
  }

  // On a handler pool thread.
  RoutedResponse Handle(const HttpRequest& request, const RequestMeta& meta) {
    try {
      return shared_.router.Handle(request, meta);
    } catch (const std::exception& e) {
      spdlog::error("api: request {}: unexpected exception: {}", meta.request_id, e.what());
    } catch (...) {
      spdlog::error("api: request {}: unexpected exception", meta.request_id);
    }
    RoutedResponse failed;
    failed.response = Problem(beast::http::status::internal_server_error, "internal",
                              "internal error; the server log has it under this request's id", meta.request_id,
                              request.version(), false);
    failed.route_class = "unknown";
    failed.actor = "anonymous";
    failed.request_id = meta.request_id;
    return failed;
  }

  // Back on the connection's strand.
  void OnHandled(const HttpRequest& request, RoutedResponse& routed) {
    if (shared_.stopping) routed.response.keep_alive(false);
    Log(ToStd(request.method_string()), ToStd(request.target()), routed);
    Write(std::move(routed.response), false);
  }

  // An answer the server gives before the router sees the request (it could
  // not be read whole); the connection closes after it.
  void Reply(beast::http::status status, std::string_view slug, std::string_view detail,
             std::string_view route_class, unsigned version) {
    state_ = State::kHandling;
    RoutedResponse routed;
    routed.request_id = api::NewRequestId();
    routed.route_class = std::string(route_class);
    routed.actor = "anonymous";
    routed.response = Problem(status, slug, detail, routed.request_id, version, false);
    routed.response.set(beast::http::field::cache_control, "no-store");
    routed.response.set("X-Request-Id", routed.request_id);
    const std::string_view method = parser_ ? ToStd(parser_->get().method_string()) : std::string_view();
    const std::string_view target = parser_ ? ToStd(parser_->get().target()) : std::string_view();
    Log(method, target, routed);
    Write(std::move(routed.response), true);
  }

  void Log(std::string_view method, std::string_view target, const RoutedResponse& routed) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started_).count();
    const unsigned status = routed.response.result_int();
    shared_.metrics.CountRequest(routed.route_class, status);
    // A flood of throttled refusals must not flood the log: the limiter
    // warns once when it starts refusing an address.
    const std::string line = api::AccessLogLine(method, target, status, ms, routed);
    if (routed.throttled)
      spdlog::debug("{}", line);
    else
      spdlog::info("{}", line);
  }

  void Write(HttpResponse response, bool drain) {
    state_ = State::kWriting;
    response_ = std::make_shared<HttpResponse>(std::move(response));
    Lowest().expires_after(shared_.read_timeout);
    beast::http::async_write(stream_, *response_, [self = Self(), drain](beast::error_code ec, size_t) {
      self->OnWrite(ec, drain);
    });
  }

  void OnWrite(beast::error_code ec, bool drain) {
    const bool close = !response_->keep_alive();
    response_.reset();
    started_ = {};
    if (ec) return CloseNow();
    if (drain) return Drain();
    if (close) return DoClose();
    DoRead();
  }

  // After an early 413 the client may still be sending its body; closing with
  // unread data would make the kernel send a reset that can destroy the
  // answer before the client reads it. Half-close, swallow a bounded amount,
  // then close.
  void Drain() {
    state_ = State::kClosing;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_buffer_.resize(64 * 1024);
    Lowest().expires_after(kDrainTimeout);
    DrainSome();
  }

  void DrainSome() {
    Lowest().async_read_some(asio::buffer(drain_buffer_), [self = Self()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kMaxDrainBytes) return self->CloseNow();
      self->DrainSome();
    });
  }

  void DoClose() {
    state_ = State::kClosing;
    if (!Lowest().socket().is_open()) return;
    if constexpr (kTls) {
      Lowest().expires_after(kTlsShutdownTimeout);
      stream_.async_shutdown([self = Self()](beast::error_code) { self->CloseNow(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      CloseNow();
    }
  }

  void CloseNow() {
    state_ = State::kClosing;
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  Shared& shared_;
  const std::string client_address_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
  std::shared_ptr<beast::http::response<beast::http::empty_body>> continue_;
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;
  SteadyClock::time_point started_{};
  State state_ = State::kReading;
};

}  // namespace

class ApiServer::Impl {
 public:
  Impl(ApiOptions options, ApiDeps deps)
      : options_(std::move(options)),
        shared_(deps.store, deps.actions, ExtraMetrics(deps.engine, std::move(deps.metrics_extra)),
                ProviderHealthOf(deps.engine), {deps.inventory_store, deps.inventory}, options_.max_body_bytes,
                options_.read_timeout),
        acceptor_(asio::make_strand(ioc_)) {}

  ~Impl() { Stop(); }

  Status Init() {
    beast::error_code ec;
    std::string host = options_.address;
    if (host == "localhost") host = "127.0.0.1";
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return Fail(Error::InvalidArgument(fmt::format("'{}' is not an IP address to listen on", options_.address)));
    if (options_.plain_http && !address.is_loopback())
      return Fail(Error::InvalidArgument(fmt::format(
          "plain HTTP is allowed only on a loopback address, not on {}; configure a TLS certificate and key",
          options_.address)));
    if (options_.max_body_bytes == 0 || options_.max_body_bytes > kMaxBodyLimitBytes)
      return Fail(Error::InvalidArgument("max_body_bytes must be between 1 byte and 64 MiB"));
    if (options_.threads < 1 || options_.threads > 64)
      return Fail(Error::InvalidArgument("threads must be between 1 and 64"));
    if (options_.reader_threads < 1 || options_.reader_threads > 64 || options_.writer_threads < 1 ||
        options_.writer_threads > 64)
      return Fail(Error::InvalidArgument("reader_threads and writer_threads must be between 1 and 64"));
    if (options_.read_timeout.count() < 1) return Fail(Error::InvalidArgument("read_timeout must be at least 1 s"));

    if (!options_.plain_http) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty())
        return Fail(Error::InvalidArgument("HTTPS needs a certificate file and a key file"));
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec)
        return Fail(Error::InvalidArgument(
            fmt::format("cannot load the TLS certificate from {}: {}", options_.tls_cert_file, ec.message())));
      // The key file's content never reaches a message; only its path does.
      tls_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
      if (ec)
        return Fail(Error::InvalidArgument(
            fmt::format("cannot load the TLS private key from {}: {}", options_.tls_key_file, ec.message())));
      if (SSL_CTX_check_private_key(tls_->native_handle()) != 1)
        return Fail(Error::InvalidArgument(fmt::format("the TLS key in {} does not match the certificate in {}",
                                                       options_.tls_key_file, options_.tls_cert_file)));
    }

    const tcp::endpoint endpoint(address, options_.port);
    auto listen_error = [&](std::string_view what) {
      return Fail(Error::Unavailable(
          fmt::format("cannot {} {}:{}: {}", what, options_.address, options_.port, ec.message())));
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return listen_error("open a socket for");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return listen_error("set options on");
    acceptor_.bind(endpoint, ec);
    if (ec) return listen_error("bind to");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return listen_error("listen on");
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return listen_error("read the port of");
    shared_.router.SetOrigin(api::MakeServerOrigin(
        tls_.has_value(), options_.address, port_, tls_ ? SSL_CTX_get0_certificate(tls_->native_handle()) : nullptr));
    return {};
  }

  uint16_t port() const { return port_; }

  void Start() {
    if (started_ || stopped_) return;
    started_ = true;
    shared_.readers.emplace(static_cast<size_t>(options_.reader_threads));
    shared_.writers.emplace(static_cast<size_t>(options_.writer_threads));
    shared_.router.StartBackground();
    asio::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
    threads_.reserve(static_cast<size_t>(options_.threads));
    for (int i = 0; i < options_.threads; ++i) {
      threads_.emplace_back([this] {
        for (;;) {
          try {
            ioc_.run();
            return;
          } catch (const std::exception& e) {
            spdlog::error("api: unexpected exception in the I/O loop: {}", e.what());
          } catch (...) {
            spdlog::error("api: unexpected exception in the I/O loop");
          }
        }
      });
    }
    spdlog::info("api: listening on {}://{}:{}", options_.plain_http ? "http" : "https", options_.address, port_);
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    shared_.stopping = true;
    if (!started_) {
      beast::error_code ignored;
      acceptor_.close(ignored);
      shared_.router.StopBackground();
      return;
    }
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    {
      std::lock_guard lock(shared_.mu);
      for (const auto& weak : shared_.sessions)
        if (auto session = weak.lock()) session->Shutdown();
    }
    const auto deadline = SteadyClock::now() + kStopGrace;
    while (shared_.live > 0 && SteadyClock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
    // Handlers still running finish their store work; their answers have no
    // connection left to go to.
    shared_.readers->join();
    shared_.writers->join();
    shared_.router.StopBackground();
  }

  Status Flush() { return shared_.router.Flush(); }

 private:
  void DoAccept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (shared_.stopping || !acceptor_.is_open()) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of file descriptors and the like: back off instead of spinning.
      spdlog::warn("api: accept failed: {}", ec.message());
      retry_timer_.emplace(acceptor_.get_executor(), kAcceptRetryDelay);
      retry_timer_->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !shared_.stopping) DoAccept();
      });
      return;
    }
    {
      // An answer goes out as several writes (TLS records, header and
      // body): with Nagle's algorithm on, the last one waits for the
      // client's delayed ACK, some 40 ms, whenever an answer spans segments.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
    }
    if (shared_.live >= kMaxConnections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else if (tls_) {
      std::string client = ClientAddress(socket);
      auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(shared_, std::move(client),
                                                                                    std::move(socket), *tls_);
      shared_.Register(session);
      session->Run();
    } else {
      std::string client = ClientAddress(socket);
      auto session = std::make_shared<Session<beast::tcp_stream>>(shared_, std::move(client), std::move(socket));
      shared_.Register(session);
      session->Run();
    }
    DoAccept();
  }

  ApiOptions options_;
  Shared shared_;
  std::optional<ssl::context> tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<asio::steady_timer> retry_timer_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

Result<std::unique_ptr<ApiServer>> ApiServer::Create(ApiOptions options, ApiDeps deps) {
  try {
    auto impl = std::make_unique<Impl>(std::move(options), std::move(deps));
    if (auto st = impl->Init(); !st) return Fail(std::move(st.error()));
    return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("cannot create the API server: {}", e.what())));
  }
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() = default;
uint16_t ApiServer::port() const { return impl_->port(); }
void ApiServer::Start() { impl_->Start(); }
void ApiServer::Stop() { impl_->Stop(); }
Status ApiServer::Flush() { return impl_->Flush(); }

}  // namespace cordon
