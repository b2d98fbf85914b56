#include "support/test_server.h"

#include <unistd.h>

#include <curl/curl.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace cordon::testing {
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

void WriteFile(const std::string& path, const std::string& text, fs::perms perms = fs::perms::owner_read |
                                                                                  fs::perms::owner_write) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  fs::permissions(path, perms);
}

}  // namespace

RunResult Cordon(std::vector<std::string> args) {
  std::vector<std::string> argv{CORDON_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProgram({.argv = argv, .timeout = std::chrono::seconds(60)});
  return r ? *r : RunResult{};
}

std::string LabAdSection(const LabInfo& lab, const std::string& extra) {
  std::ostringstream os;
  os << "[connectors.ad]\nurl = \"" << lab.ldaps_url << "\"\nca_file = \"" << lab.ca_file << "\"\nbase_dn = \""
     << lab.base_dn << "\"\nbind_mode = \"simple\"\nbind_dn = \"" << lab.action_account.bind_dn
     << "\"\npassword_file = \"" << lab.action_account.password_file << "\"\n"
     << extra;
  return os.str();
}

namespace {

std::string LabConfigSection(const LabInfo& lab, const std::string& header) {
  const RunResult printed = Cordon({"lab", "config", "--dir", lab.dir});
  const auto at = printed.out.find(header);
  if (printed.exit_code != 0 || at == std::string::npos) return "";
  const auto next = printed.out.find("\n[", at + 1);
  return printed.out.substr(at, next == std::string::npos ? std::string::npos : next + 1 - at);
}

}  // namespace

std::string LabOktaSection(const LabInfo& lab) { return LabConfigSection(lab, "[connectors.okta]"); }

std::string LabEntraSection(const LabInfo& lab) { return LabConfigSection(lab, "[connectors.entra]"); }

Result<std::unique_ptr<TestServer>> TestServer::Create(const TestServerOptions& options) {
  std::unique_ptr<TestServer> s(new TestServer());
  char tmpl[] = "/tmp/cordon-e2e-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Fail(Error::Internal("mkdtemp failed"));
  s->dir_ = tmpl;
  s->config_path_ = s->dir_ + "/cordon.toml";
  s->log_path_ = s->dir_ + "/cordon.log";
  s->db_path_ = s->dir_ + "/cordon.db";
  s->ca_file_ = s->dir_ + "/server.pem";

  // A throwaway self-signed server certificate; the client trusts exactly it.
  auto gen = RunProgram({.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                           "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", s->dir_ + "/server.key", "-out",
                           s->ca_file_}});
  if (!gen || !gen->ok())
    return Fail(Error::Internal("openssl req failed: " + (gen ? gen->err : gen.error().message)));

  std::ostringstream cfg;
  cfg << "[server]\naddress = \"127.0.0.1\"\nport = 0\n";
  if (options.plain_http) cfg << "plain_http = true\n";
  else cfg << "tls_cert_file = \"server.pem\"\ntls_key_file = \"server.key\"\n";
  cfg << "\n[store]\npath = \"cordon.db\"\n" << options.store_toml << "\n[log]\nlevel = \"" << options.log_level << "\"\nfile = \"" << s->log_path_ << "\"\n\n[engine]\n"
      << options.engine_toml << "\n"
      << options.connectors_toml << "\n";
  WriteFile(s->config_path_, cfg.str());
  s->base_url_ = "";
  return s;
}

TestServer::~TestServer() {
  if (process_.pid() > 0) (void)process_.Stop(std::chrono::seconds(5));
  std::error_code ec;
  if (!dir_.empty() && ::getenv("CORDON_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ec);
}

Status TestServer::Start() {
  const std::string out = dir_ + "/server.out";
  std::ofstream(out, std::ios::trunc).close();
  auto p = Process::Start({.argv = {CORDON_BINARY, "serve", "--config", config_path_},
                           .stdout_file = out,
                           .stderr_file = dir_ + "/server.err"});
  if (!p) return Fail(p.error());
  process_ = std::move(*p);
  // The server prints "listening https://127.0.0.1:PORT" once it accepts connections.
  // Up to 30 s: a loaded CI machine can be slow to start a process.
  for (int i = 0; i < 1500; ++i) {
    const std::string text = ReadFile(out);
    const auto pos = text.rfind("listening ");
    if (pos != std::string::npos && text.find('\n', pos) != std::string::npos) {
      base_url_ = text.substr(pos + 10, text.find('\n', pos) - pos - 10);
      return {};
    }
    if (!process_.Alive())
      return Fail(Error::Internal("cordon serve exited: " + ReadFile(dir_ + "/server.err")));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Fail(Error::Timeout("cordon serve did not start listening"));
}

void TestServer::Kill() {
  process_.Signal(SIGKILL);
  (void)process_.Wait(std::chrono::seconds(10));
  process_ = Process();
}

Status TestServer::Stop() {
  auto s = process_.Stop(std::chrono::seconds(10));
  process_ = Process();
  if (!s) return Fail(s.error());
  return {};
}

Result<std::string> TestServer::Token(const std::string& role) {
  if (auto it = tokens_.find(role); it != tokens_.end()) return it->second;
  auto r = RunProgram({.argv = {CORDON_BINARY, "token", "create", "--config", config_path_, "--role", role, "--name",
                         "e2e-" + role}});
  if (!r) return Fail(r.error());
  if (!r->ok()) return Fail(Error::Internal("token create failed: " + r->err));
  std::string token = r->out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  tokens_[role] = token;
  const std::string file = dir_ + "/" + role + ".token";
  WriteFile(file, token + "\n");
  token_files_[role] = file;
  return token;
}

std::unique_ptr<cli::ApiClient> TestServer::Client(const std::string& role) {
  auto token = Token(role);
  return std::make_unique<cli::ApiClient>(base_url_, Secret(token ? *token : std::string("invalid")), ca_file_);
}

RunResult TestServer::Cli(std::vector<std::string> args, const std::string& role) {
  std::vector<std::string> argv{CORDON_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  EnvVars env{{"CORDON_SERVER", base_url_}, {"CORDON_CA_FILE", ca_file_}};
  if (!role.empty()) {
    (void)Token(role);
    env.emplace_back("CORDON_TOKEN_FILE", token_files_[role]);
  }
  auto r = RunProgram({.argv = argv, .env = env, .timeout = std::chrono::minutes(5)});
  if (!r) {
    RunResult failed;
    failed.err = r.error().message;
    return failed;
  }
  return *r;
}

Status TestServer::SyncInventory() {
  const RunResult r = Cli({"inventory", "sync", "--wait", "--timeout", "300"}, "security_operator");
  if (!r.ok()) return Fail(Error::Internal("cordon inventory sync --wait: " + r.Describe() + "\n" + r.out + r.err));
  return {};
}

std::string StringAt(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return "";
  const auto it = object.find(std::string(key));
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string SubmitAction(cli::ApiClient& client, const std::string& action, const std::string& account,
                         const std::string& reason, const std::string& provider) {
  auto r = client.Post("/api/v1/actions", nlohmann::json{{"action", action},
                                                         {"provider", provider},
                                                         {"account", account},
                                                         {"reason", reason}});
  if (!r || r->status != 202 || !r->body.contains("id")) return "";
  return r->body["id"].get<std::string>();
}

nlohmann::json WaitForAction(cli::ApiClient& client, const std::string& id,
                             const std::function<bool(const nlohmann::json&)>& done, std::chrono::seconds limit) {
  nlohmann::json last;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.Get("/api/v1/actions/" + id);
    if (r && r->status == 200) {
      last = r->body;
      if (done(last)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

bool IsFinished(const nlohmann::json& action) {
  const std::string s = action.value("status", "");
  return s == "succeeded" || s == "failed" || s == "cancelled" || s == "rejected";
}

std::vector<nlohmann::json> BulkActions(cli::ApiClient& client, const std::string& bulk_id) {
  std::vector<nlohmann::json> all;
  std::string cursor;
  do {
    std::string path = "/api/v1/actions?limit=1000&bulkId=" + bulk_id;
    if (!cursor.empty()) path += "&cursor=" + cursor;
    auto r = client.Get(path);
    if (!r || r->status != 200) return all;
    for (auto& a : r->body["value"]) all.push_back(a);
    cursor = r->body.value("nextCursor", nlohmann::json()).is_string() ? r->body["nextCursor"].get<std::string>() : "";
  } while (!cursor.empty());
  return all;
}

bool BulkHasUnfinished(cli::ApiClient& client, const std::string& bulk_id) {
  for (const char* status : {"pending", "in_progress"}) {
    auto r = client.Get("/api/v1/actions?limit=1&status=" + std::string(status) + "&bulkId=" + bulk_id);
    if (!r || r->status != 200 || !r->body["value"].empty()) return true;
  }
  return false;
}

pid_t LabDcPid(const LabInfo& lab) {
  std::ifstream in(lab.dir + "/samba.pid");
  long pid = -1;
  if (!(in >> pid) || pid <= 0) return -1;
  return static_cast<pid_t>(pid);
}

Result<std::string> TestServer::Metrics(const std::string& role) {
  auto token = Token(role);
  if (!token) return Fail(token.error());
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Fail(Error::Internal("curl_easy_init failed"));
  std::string text;
  const std::string url = base_url_ + "/metrics";
  const std::string auth = "Authorization: Bearer " + *token;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Fail(Error::Unavailable(std::string("GET /metrics: ") + curl_easy_strerror(rc)));
  if (status != 200) return Fail(Error::Internal("GET /metrics answered " + std::to_string(status)));
  return text;
}

std::string TestServer::ServerOutput() const { return ReadFile(dir_ + "/server.out") + ReadFile(dir_ + "/server.err"); }

}  // namespace cordon::testing
