#include "support/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace cordon::testing {
namespace {

constexpr auto kWaitLimit = std::chrono::seconds(30);
constexpr int kListenAttempts = 20;

Result<sockaddr_in> Address(const std::string& host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    return Fail(Error::InvalidArgument("tcp proxy: not an IPv4 address: " + host));
  return a;
}

bool SendAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void Reset(int fd) {
  linger hard{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
}

}  // namespace

struct TcpProxy::Link {
  int number = 0;  // 1-based
  int client = -1;
  int server = -1;
  TcpTraffic traffic;
};

TcpProxy::TcpProxy(TcpProxyOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<TcpProxy>> TcpProxy::Start(TcpProxyOptions options) {
  if (options.listen.empty()) return Fail(Error::InvalidArgument("tcp proxy: no address to listen on"));
  std::unique_ptr<TcpProxy> proxy(new TcpProxy(std::move(options)));
  if (auto listening = proxy->Listen(); !listening) return Fail(listening.error());
  if (::pipe2(proxy->wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Fail(Error::Internal("tcp proxy: pipe2 failed"));
  proxy->thread_ = std::thread([p = proxy.get()] { p->Run(); });
  return proxy;
}

Status TcpProxy::Listen() {
  // The first address picks a free port; the others must get the same one,
  // which someone else may hold there: start over with a new port then.
  for (int attempt = 0; attempt < kListenAttempts; ++attempt) {
    uint16_t port = 0;
    bool all = true;
    for (const std::string& host : options_.listen) {
      auto addr = Address(host, port);
      if (!addr) return Fail(addr.error());
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0 || ::listen(fd, 64) != 0) {
        const int err = errno;
        if (fd >= 0) ::close(fd);
        if (err != EADDRINUSE || port == 0)
          return Fail(Error::Unavailable("tcp proxy: cannot listen on " + host + ": " + std::strerror(err)));
        all = false;
        break;
      }
      listeners_.push_back(fd);
      if (port == 0) {
        socklen_t len = sizeof *addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&*addr), &len);
        port = ntohs(addr->sin_port);
      }
    }
    if (all) {
      port_ = port;
      return {};
    }
    for (int fd : listeners_) ::close(fd);
    listeners_.clear();
  }
  return Fail(Error::Unavailable("tcp proxy: no port free on every address to listen on"));
}

TcpProxy::~TcpProxy() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
  }
  for (auto& link : links_) End(*link, false);
  for (int fd : listeners_) ::close(fd);
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

void TcpProxy::Wake() { (void)!::write(wake_[1], "x", 1); }

void TcpProxy::Request() {
  std::unique_lock lock(mu_);
  const uint64_t target = ++requested_;
  Wake();
  cv_.wait_for(lock, kWaitLimit, [&] { return handled_ >= target; });
}

void TcpProxy::CutAll() {
  {
    std::lock_guard lock(mu_);
    cut_all_ = true;
  }
  Request();
}

void TcpProxy::CutAt(const TcpCut& cut) {
  {
    std::lock_guard lock(mu_);
    cuts_.push_back(cut);
  }
  Request();
}

int TcpProxy::accepted() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(traffic_.size());
}

TcpTraffic TcpProxy::Traffic(int connection) const {
  std::lock_guard lock(mu_);
  if (connection < 1 || connection > static_cast<int>(traffic_.size())) return {};
  return traffic_[static_cast<std::size_t>(connection - 1)];
}

bool TcpProxy::Settle() {
  std::unique_lock lock(mu_);
  const uint64_t target = ++settle_requested_;
  Wake();
  return cv_.wait_for(lock, kWaitLimit, [&] { return settle_done_ >= target; });
}

bool TcpProxy::Over(const Link& link, bool from_client) {
  const uint64_t carried = from_client ? link.traffic.client_to_server : link.traffic.server_to_client;
  std::lock_guard lock(mu_);
  for (const TcpCut& cut : cuts_) {
    const std::optional<uint64_t>& limit = from_client ? cut.after_client_bytes : cut.after_server_bytes;
    if (cut.connection == link.number && limit && carried > *limit) return true;
  }
  return false;
}

std::optional<uint64_t> TcpProxy::Allowance(const Link& link, bool from_client) {
  const uint64_t carried = from_client ? link.traffic.client_to_server : link.traffic.server_to_client;
  std::optional<uint64_t> allowance;
  std::lock_guard lock(mu_);
  for (const TcpCut& cut : cuts_) {
    if (cut.connection != link.number) continue;
    const std::optional<uint64_t>& limit = from_client ? cut.after_client_bytes : cut.after_server_bytes;
    if (!limit) continue;
    if (carried > *limit) return 0;
    allowance = allowance ? std::min(*allowance, *limit - carried) : *limit - carried;
  }
  return allowance;
}

void TcpProxy::End(Link& link, bool cut) {
  if (!link.traffic.open) return;
  // Recorded before either side can see the end: a client that reacts to the
  // reset at once (and a test that then asks Traffic) finds the link ended.
  link.traffic.open = false;
  link.traffic.cut = cut;
  {
    std::lock_guard lock(mu_);
    traffic_[static_cast<std::size_t>(link.number - 1)] = link.traffic;
  }
  for (int fd : {link.client, link.server}) {
    if (cut) {
      Reset(fd);
    } else {
      ::close(fd);
    }
  }
  link.client = link.server = -1;
}

void TcpProxy::Accept(int listener) {
  int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto target = Address(options_.target_host, options_.target_port);
  if (server < 0 || !target || ::connect(server, reinterpret_cast<sockaddr*>(&*target), sizeof *target) != 0) {
    if (server >= 0) ::close(server);
    Reset(client);
    return;
  }
  auto link = std::make_unique<Link>();
  link->number = static_cast<int>(links_.size()) + 1;
  link->client = client;
  link->server = server;
  link->traffic.open = true;
  {
    std::lock_guard lock(mu_);
    traffic_.push_back(link->traffic);
  }
  links_.push_back(std::move(link));
}

void TcpProxy::Forward(Link& link, bool from_client) {
  if (!link.traffic.open) return;
  char buf[16384];
  const int from = from_client ? link.client : link.server;
  const int to = from_client ? link.server : link.client;
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    End(link, false);
    return;
  }
  const std::optional<uint64_t> allowance = Allowance(link, from_client);
  const bool over = allowance && static_cast<uint64_t>(n) > *allowance;
  const std::size_t size = over ? static_cast<std::size_t>(*allowance) : static_cast<std::size_t>(n);
  if (!SendAll(to, buf, size)) {
    End(link, false);
    return;
  }
  (from_client ? link.traffic.client_to_server : link.traffic.server_to_client) += size;
  {
    std::lock_guard lock(mu_);
    traffic_[static_cast<std::size_t>(link.number - 1)] = link.traffic;
  }
  if (over) End(link, true);
}

void TcpProxy::Run() {
  for (;;) {
    uint64_t request_target = 0;
    uint64_t settle_target = 0;
    bool settle_pending = false;
    bool cut_all = false;
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      request_target = requested_;
      settle_target = settle_requested_;
      settle_pending = settle_requested_ > settle_done_;
      cut_all = std::exchange(cut_all_, false);
    }
    for (auto& link : links_) {
      if (link->traffic.open && (cut_all || Over(*link, true) || Over(*link, false))) End(*link, true);
    }
    {
      std::lock_guard lock(mu_);
      handled_ = std::max(handled_, request_target);
    }
    cv_.notify_all();

    // What each pollfd is: a listener, the wake pipe, or one side of a link.
    struct Source {
      Link* link;
      bool from_client;
    };
    std::vector<pollfd> fds;
    std::vector<Source> sources;
    for (int fd : listeners_) {
      fds.push_back({fd, POLLIN, 0});
      sources.push_back({nullptr, false});
    }
    fds.push_back({wake_[0], POLLIN, 0});
    sources.push_back({nullptr, false});
    for (auto& link : links_) {
      if (!link->traffic.open) continue;
      fds.push_back({link->client, POLLIN, 0});
      sources.push_back({link.get(), true});
      fds.push_back({link->server, POLLIN, 0});
      sources.push_back({link.get(), false});
    }
    const int ready = ::poll(fds.data(), fds.size(), settle_pending ? 0 : -1);
    if (ready < 0) continue;
    if (ready == 0 && settle_pending) {
      {
        std::lock_guard lock(mu_);
        settle_done_ = std::max(settle_done_, settle_target);
      }
      cv_.notify_all();
      continue;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (i < listeners_.size()) {
        Accept(fds[i].fd);
      } else if (sources[i].link == nullptr) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof drain) > 0) {
        }
      } else {
        Forward(*sources[i].link, sources[i].from_client);
      }
    }
  }
}

}  // namespace cordon::testing
