// TcpProxy: a TCP relay in front of a real server (the lab's DC) that a test
// controls, so that the network fails exactly where the test wants it to:
// every open connection cut at once (a DC restart, a firewall's idle
// timeout), or one connection cut after it has carried a given number of
// bytes in one direction (a connection lost between two pipelined requests,
// or in the middle of one). It also counts the bytes each connection carried,
// so a test can first measure a clean run and then choose where to cut.
//
// It relays raw bytes: TLS goes through untouched, end to end between the
// client and the server. It listens on one or more loopback addresses with
// one port (e.g. 127.0.0.2 and 127.0.0.1, so that the same server can be
// reached under a name its certificate has and one it has not).
//
// A cut closes both sides with a reset (SO_LINGER 0), as a crashed peer or a
// middlebox would: the client's next write fails instead of being buffered.
//
// Thread-safety: the relay runs on its own thread; every public method may be
// called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"

namespace cordon::testing {

struct TcpProxyOptions {
  // Loopback addresses to listen on, all with the same port (the first is
  // bound with port 0, the others with the port it got).
  std::vector<std::string> listen = {"127.0.0.1"};
  std::string target_host = "127.0.0.1";
  uint16_t target_port = 0;
};

// Cuts connection number `connection` (1-based, in the order the proxy
// accepted them) after it has forwarded `after_client_bytes` from the client
// to the server (or `after_server_bytes` from the server to the client): it
// forwards exactly that many, and cuts when the next byte arrives, which it
// drops. So a cut at the boundary of two messages lets the first through
// whole and falls when the second is sent, however much later that is.
struct TcpCut {
  int connection = 1;
  std::optional<uint64_t> after_client_bytes;
  std::optional<uint64_t> after_server_bytes;
};

// What one connection has carried so far.
struct TcpTraffic {
  uint64_t client_to_server = 0;
  uint64_t server_to_client = 0;
  bool open = false;  // still relaying
  bool cut = false;   // ended by CutAll or a TcpCut
};

class TcpProxy {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TcpProxy>> Start(TcpProxyOptions options);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }

  // Resets every open connection now; new ones are still accepted.
  void CutAll();
  // Arms a cut; a connection that has already carried more is cut now.
  void CutAt(const TcpCut& cut);
  // How many connections the proxy has accepted so far.
  [[nodiscard]] int accepted() const;
  // The traffic of connection number `connection` (1-based); zeros if unknown.
  [[nodiscard]] TcpTraffic Traffic(int connection) const;
  // Waits until the proxy has read and forwarded (or dropped, past a cut)
  // everything either side had written when Settle was called, and both
  // sides are quiet. False if that did not happen within 30 s.
  [[nodiscard]] bool Settle();

 private:
  struct Link;
  explicit TcpProxy(TcpProxyOptions options);
  [[nodiscard]] Status Listen();
  void Run();
  void Wake();
  // Asks the relay thread to act on the requests under mu_ and waits until it did.
  void Request();
  void Accept(int listener);
  // Relays what one side of `link` has to read; ends the link on EOF or error.
  void Forward(Link& link, bool from_client);
  void End(Link& link, bool cut);
  // True when `link` has carried more in one direction than a cut allows.
  [[nodiscard]] bool Over(const Link& link, bool from_client);
  // How many more bytes `link` may forward in one direction (none: no limit).
  [[nodiscard]] std::optional<uint64_t> Allowance(const Link& link, bool from_client);

  TcpProxyOptions options_;
  uint16_t port_ = 0;
  std::vector<int> listeners_;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::vector<std::unique_ptr<Link>> links_;  // relay thread only; index = connection number - 1

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool cut_all_ = false;
  uint64_t requested_ = 0;  // requests (cuts) made ...
  uint64_t handled_ = 0;    // ... and acted on by the relay thread
  uint64_t settle_requested_ = 0;
  uint64_t settle_done_ = 0;
  std::vector<TcpCut> cuts_;
  std::vector<TcpTraffic> traffic_;  // a copy of each link's counters, for other threads
};

}  // namespace cordon::testing
