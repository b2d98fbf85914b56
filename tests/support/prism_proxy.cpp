#include "support/prism_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace cordon::testing {
namespace {

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A port nobody listens on now. Prism cannot be told to take port 0 and say
// which it got, so a race with another process remains; Start() retries.
Result<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Fail(Error::Internal("socket() failed"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return Fail(Error::Internal("cannot find a free port on 127.0.0.1"));
  return static_cast<int>(ntohs(addr.sin_port));
}

PrismViolation::Side SideOf(std::string_view type) {
  if (type == "UNPROCESSABLE_ENTITY") return PrismViolation::Side::kRequest;
  if (type == "VIOLATIONS") return PrismViolation::Side::kResponse;
  if (type == "NO_PATH_MATCHED_ERROR" || type == "NO_METHOD_MATCHED_ERROR") return PrismViolation::Side::kRoute;
  return PrismViolation::Side::kOther;
}

}  // namespace

std::string PrismProxy::DefaultPrism() { return CORDON_PRISM_BINARY; }
std::string PrismProxy::OktaSpec() { return CORDON_OKTA_SPEC; }

Result<std::unique_ptr<PrismProxy>> PrismProxy::Start(const PrismOptions& options) {
  const std::string prism = options.prism.empty() ? DefaultPrism() : options.prism;
  const std::string spec = options.spec.empty() ? OktaSpec() : options.spec;
  if (!std::filesystem::exists(prism))
    return Fail(Error::Internal("Prism is not installed at " + prism + ": run scripts/install-deps.sh"));
  if (!std::filesystem::exists(spec)) return Fail(Error::Internal("no OpenAPI description at " + spec));

  if (!options.upstream_ca_file.empty() && !std::filesystem::exists(options.upstream_ca_file))
    return Fail(Error::Internal("no CA file at " + options.upstream_ca_file));
  EnvVars env;
  if (!options.upstream_ca_file.empty()) env.emplace_back("NODE_EXTRA_CA_CERTS", options.upstream_ca_file);

  std::unique_ptr<PrismProxy> proxy(new PrismProxy());
  const auto out = proxy->dir_ / "prism.out";
  std::string last_output;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = FreeLoopbackPort();
    if (!port) return Fail(port.error());
    std::ofstream(out, std::ios::trunc).close();
    auto p = Process::Start({.argv = {prism, "proxy", spec, options.upstream_url, "--errors", "--host", "127.0.0.1",
                                      "--port", std::to_string(*port)},
                             .env = env,
                             .stdout_file = out.string(),
                             .stderr_file = out.string()});
    if (!p) return Fail(p.error());
    proxy->process_ = std::move(*p);

    const std::string listening = "Prism is listening on http://127.0.0.1:" + std::to_string(*port);
    const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      last_output = ReadWhole(out);
      if (last_output.find(listening) != std::string::npos) {
        proxy->base_url_ = "http://127.0.0.1:" + std::to_string(*port);
        return proxy;
      }
      if (!proxy->process_.Alive()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (proxy->process_.Alive()) {
      (void)proxy->process_.Stop(std::chrono::seconds(2));
      return Fail(Error::Timeout("Prism did not start listening in time:\n" + last_output));
    }
    if (last_output.find("EADDRINUSE") == std::string::npos) break;
  }
  return Fail(Error::Internal("Prism exited before it listened:\n" + last_output));
}

PrismProxy::~PrismProxy() {
  if (process_.pid() > 0) (void)process_.Stop(std::chrono::seconds(5));
}

std::string PrismProxy::Output() const { return ReadWhole(dir_ / "prism.out"); }

PrismViolation PrismProxy::ParseLogLine(std::string_view line) {
  PrismViolation v;
  static constexpr std::string_view kValidator = "[VALIDATOR] ";
  static constexpr std::string_view kViolation = "Violation: ";
  if (const auto validator = line.find(kValidator); validator != std::string_view::npos) {
    const auto violation = line.find(kViolation, validator);
    if (violation == std::string_view::npos) return v;
    std::string_view rest = line.substr(violation + kViolation.size());
    const auto space = rest.find(' ');
    const std::string_view side = rest.substr(0, space);
    v.side = side == "request" ? PrismViolation::Side::kRequest
             : side == "response" ? PrismViolation::Side::kResponse
                                  : PrismViolation::Side::kOther;
    v.type = "WARNING";
    v.refused = false;
    v.message = space == std::string_view::npos ? std::string() : std::string(rest.substr(space + 1));
    v.line = std::string(line);
    return v;
  }
  static constexpr std::string_view kServer = "[HTTP SERVER] ";
  static constexpr std::string_view kError = "Request terminated with error: ";
  static constexpr std::string_view kType = "/errors#";
  const auto server = line.find(kServer);
  const auto error = line.find(kError);
  if (server == std::string_view::npos || error == std::string_view::npos) return v;
  // Prism's own refusals name a type ("https://stoplight.io/prism/errors#VIOLATIONS: ...");
  // a failure to reach the upstream names the Node error ("FetchError: request to ... failed").
  const auto type = line.find(kType, error);
  const auto name = type == std::string_view::npos ? error + kError.size() : type + kType.size();
  const auto name_end = line.find(':', name);
  v.type = std::string(line.substr(name, name_end == std::string_view::npos ? std::string_view::npos : name_end - name));
  if (v.type.empty()) v.type = "ERROR";
  v.side = SideOf(v.type);
  std::istringstream words{std::string(line.substr(server + kServer.size()))};
  words >> v.method >> v.path;
  v.line = std::string(line);
  return v;
}

std::vector<PrismViolation> PrismProxy::Violations() const {
  static constexpr std::string_view kServer = "[HTTP SERVER] ";
  static constexpr std::string_view kUpstream = "The upstream call to ";
  static constexpr std::string_view kReturned = " has returned ";
  std::vector<PrismViolation> all;
  std::map<std::string, std::string> method_of;  // path -> the method of its latest request
  std::string last_received;  // the path of the latest request Prism received
  std::string last_path;      // the path of the latest answer it received from the upstream
  int last_status = 0;
  std::istringstream lines(Output());
  for (std::string line; std::getline(lines, line);) {
    if (const auto server = line.find(kServer); server != std::string::npos) {
      std::istringstream words(line.substr(server + kServer.size()));
      std::string method, path;
      words >> method >> path;
      method_of[path] = method;
      last_received = path;
    }
    if (const auto upstream = line.find(kUpstream); upstream != std::string::npos) {
      const auto returned = line.find(kReturned, upstream);
      if (returned != std::string::npos) {
        last_path = line.substr(upstream + kUpstream.size(), returned - upstream - kUpstream.size());
        last_status = std::atoi(line.c_str() + returned + kReturned.size());
      }
    }
    auto v = ParseLogLine(line);
    if (v.type.empty()) continue;
    if (!v.refused) {
      const bool answer = v.side == PrismViolation::Side::kResponse;
      v.path = answer ? last_path : last_received;
      v.method = method_of[v.path];
      if (answer) v.status = last_status;
    }
    all.push_back(std::move(v));
  }
  return all;
}

std::vector<PrismViolation> PrismProxy::WaitForViolations(std::size_t seen, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto all = Violations();
  while (all.size() <= seen && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    all = Violations();
  }
  return all;
}

std::vector<PrismValidation> PrismProxy::ParseProblem(std::string_view body) {
  std::vector<PrismValidation> out;
  const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("validation") || !doc["validation"].is_array()) return out;
  for (const auto& entry : doc["validation"]) {
    if (!entry.is_object()) continue;
    PrismValidation v;
    if (const auto it = entry.find("location"); it != entry.end() && it->is_array()) {
      for (const auto& part : *it) {
        if (!part.is_string()) continue;
        if (!v.location.empty()) v.location += '.';
        v.location += part.get<std::string>();
      }
    }
    v.code = entry.value("code", "");
    v.message = entry.value("message", "");
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace cordon::testing
