#include "lab/lab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/subprocess.h"

namespace cordon::lab {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<std::string_view, 30> kStaff = {
    "alice.adams",  "bob.baker",     "carol.clark",    "david.davis",     "emma.evans",    "frank.foster",
    "grace.green",  "henry.hill",    "irene.irwin",    "jack.jones",      "karen.king",    "liam.lewis",
    "maria.martin", "nathan.nelson", "olivia.owens",   "peter.parker",    "quentin.quinn", "rachel.reed",
    "samuel.scott", "tina.turner",   "ursula.underwood", "victor.vance",  "wendy.walker",  "xavier.xu",
    "yvonne.young", "zachary.zimmer", "amy.allen",     "brian.brooks",    "chloe.carter",  "daniel.dunn"};
constexpr std::array<std::string_view, 3> kOthers = {"carl.contractor", "cora.consultant", "cody.temp"};
constexpr std::string_view kDanaAdmin = "dana.admin";

// Schema GUIDs for the delegation ACEs (MS-ADA/MS-ADTS).
constexpr std::string_view kUserClassGuid = "bf967aba-0de6-11d0-a285-00aa003049e2";
constexpr std::string_view kResetPasswordGuid = "00299570-246d-11d0-a768-00aa006e0529";
constexpr std::string_view kUserAccountControlGuid = "bf967a68-0de6-11d0-a285-00aa003049e2";
constexpr std::string_view kPwdLastSetGuid = "bf967a0a-0de6-11d0-a285-00aa003049e2";
constexpr std::string_view kLockoutTimeGuid = "28630ebf-41d5-11d1-a9c1-0000f80367c1";

constexpr std::string_view kSetAdminPasswordPy = R"PY(
import sys
from samba.param import LoadParm
from samba.auth import system_session
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
db.setpassword("(sAMAccountName=Administrator)", sys.stdin.readline().rstrip("\n"), False)
)PY";

struct Paths {
  fs::path dir;
  fs::path snapshot_dir() const { return dir / "snapshot"; }
  fs::path snapshot() const { return dir / "snapshot" / "dc.tar"; }
  fs::path seed_version() const { return dir / "snapshot" / "seed-version"; }
  fs::path dc() const { return dir / "dc"; }
  fs::path sam_ldb() const { return dir / "dc" / "private" / "sam.ldb"; }
  fs::path smb_conf() const { return dir / "dc" / "etc" / "smb.conf"; }
  fs::path ca_dir() const { return dir / "ca"; }
  fs::path ca_pem() const { return dir / "ca" / "ca.pem"; }
  fs::path secrets() const { return dir / "secrets"; }
  fs::path admin_pw() const { return dir / "secrets" / "admin.pw"; }
  fs::path svc_pw() const { return dir / "secrets" / "svc-cordon.pw"; }
  fs::path users_pw() const { return dir / "secrets" / "users.pw"; }
  fs::path keytab() const { return dir / "secrets" / "svc-cordon.keytab"; }
  fs::path krb5_conf() const { return dir / "krb5.conf"; }
  fs::path logs() const { return dir / "logs"; }
  fs::path samba_out() const { return dir / "logs" / "samba.out"; }
  fs::path pid_file() const { return dir / "samba.pid"; }
  fs::path lab_json() const { return dir / "lab.json"; }
  fs::path lock() const { return dir / ".lock"; }
  fs::path okta() const { return dir / "okta"; }
  fs::path okta_pid() const { return dir / "okta" / "okta.pid"; }
  fs::path okta_port() const { return dir / "okta" / "okta.port"; }
  fs::path okta_token() const { return dir / "secrets" / "okta.token"; }
  fs::path okta_client_key() const { return dir / "secrets" / "okta-client.key"; }
  fs::path entra() const { return dir / "entra"; }
  fs::path entra_pid() const { return dir / "entra" / "entra.pid"; }
  fs::path entra_port() const { return dir / "entra" / "entra.port"; }
  fs::path entra_people() const { return dir / "entra" / "people.json"; }
  fs::path entra_client_cert() const { return dir / "entra" / "client.pem"; }
  fs::path entra_secret() const { return dir / "secrets" / "entra-client.secret"; }
  fs::path entra_client_key() const { return dir / "secrets" / "entra-client.key"; }
};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Tail(const std::string& text, std::size_t n = 1200) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

Status WriteFile(const fs::path& path, std::string_view content, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Fail(Error::Internal("cannot write " + path.string() + ": " + std::strerror(errno)));
  ::fchmod(fd, mode);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Fail(Error::Internal("cannot write " + path.string()));
    }
    done += static_cast<std::size_t>(w);
  }
  ::close(fd);
  return {};
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> RandomPassword() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::array<unsigned char, 24> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    return Fail(Error::Internal("the random generator failed"));
  // A fixed prefix keeps every class AD's complexity rule asks for.
  std::string pw = "Lab9-";
  for (unsigned char b : raw) pw += kAlphabet[b % kAlphabet.size()];
  return pw;
}

// unicodePwd wants the password in double quotes, UTF-16LE, base64 in LDIF.
std::string UnicodePwdBase64(std::string_view password) {
  std::string utf16;
  const std::string quoted = "\"" + std::string(password) + "\"";
  for (char c : quoted) {
    utf16 += c;
    utf16 += '\0';
  }
  std::string out(4 * ((utf16.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(utf16.data()), static_cast<int>(utf16.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Capitalised(std::string_view word) {
  std::string s(word);
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::pair<std::string, std::string> GivenAndSurname(std::string_view sam) {
  const auto dot = sam.find('.');
  return {Capitalised(sam.substr(0, dot)), Capitalised(dot == std::string_view::npos ? "" : sam.substr(dot + 1))};
}

// samba-tool prints the random Administrator password it chose; it is
// replaced right after, but a log keeps no password, stale or not.
std::string WithoutPasswordLines(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // Cut right after the label: the password itself may contain ':'.
    if (const auto at = line.find("assword:"); at != std::string::npos) line = line.substr(0, at + 8) + " (redacted)";
    out += line + "\n";
  }
  return out;
}

// Runs a tool; on failure the error names the step and quotes the tool's stderr.
Result<RunResult> RunStep(std::string_view what, RunOptions options) {
  auto r = RunProgram(options);
  if (!r) return Fail(Error::Internal(std::string(what) + ": " + r.error().message));
  if (!r->ok())
    return Fail(Error::Internal(std::string(what) + " failed (" + r->Describe() + "): " + Tail(r->err + r->out)));
  return r;
}

EnvVars LdapEnv(const Paths& p) {
  return {{"LDAPTLS_CACERT", p.ca_pem().string()}, {"LDAPTLS_REQCERT", "demand"}, {"LDAPRC", "/dev/null"}};
}

std::string SmbConf(const Paths& p) {
  const std::string dc = p.dc().string();
  const std::string ca = p.ca_dir().string();
  std::ostringstream o;
  o << "# Written by `cordon lab`; regenerated on every start.\n"
    << "[global]\n"
    << "\tnetbios name = DC1\n"
    << "\trealm = " << kRealm << "\n"
    << "\tworkgroup = " << kDomain << "\n"
    << "\tserver role = active directory domain controller\n"
    << "\tserver services = ldap, cldap, kdc\n"
    << "\tinterfaces = 127.0.0.1\n"
    << "\tbind interfaces only = yes\n"
    << "\tidmap_ldb:use rfc2307 = yes\n"
    << "\told password allowed period = 0\n"
    << "\tprivate dir = " << dc << "/private\n"
    << "\tstate directory = " << dc << "/state\n"
    << "\tcache directory = " << dc << "/cache\n"
    << "\tlock directory = " << dc << "\n"
    << "\tbinddns dir = " << dc << "/bind-dns\n"
    << "\tpid directory = " << dc << "/run\n"
    << "\tncalrpc dir = " << dc << "/run/ncalrpc\n"
    << "\twinbindd socket directory = " << dc << "/run/winbindd\n"
    << "\tntp signd socket directory = " << dc << "/run/ntp_signd\n"
    << "\tlog file = " << (p.logs() / "samba.log").string() << "\n"
    << "\tlogging = file\n"
    << "\tmax log size = 10000\n"
    << "\tlog level = 1\n"
    << "\ttls enabled = yes\n"
    << "\ttls keyfile = " << ca << "/dc.key\n"
    << "\ttls certfile = " << ca << "/dc.pem\n"
    << "\ttls cafile = " << ca << "/ca.pem\n"
    // A throwaway DC restored from its snapshot on every `up`: its database
    // need not survive a power cut (a stop and start of the process keep it:
    // the kernel holds what was written), and without an fsync per write the
    // DC's speed is its own rather than the disk's (which varies by tens of
    // percent from run to run on shared machines and would drown every
    // measurement).
    << "\tldb:nosync = true\n"
    << "\n[sysvol]\n\tpath = " << dc << "/state/sysvol\n\tread only = No\n"
    << "\n[netlogon]\n\tpath = " << dc << "/state/sysvol/" << kDnsDomain << "/scripts\n\tread only = No\n";
  return o.str();
}

std::string Krb5Conf() {
  std::ostringstream o;
  o << "[libdefaults]\n"
    << "\tdefault_realm = " << kRealm << "\n"
    << "\tdns_lookup_kdc = false\n"
    << "\tdns_lookup_realm = false\n"
    << "\tdns_canonicalize_hostname = false\n"
    << "\trdns = false\n"
    << "[realms]\n"
    << "\t" << kRealm << " = {\n\t\tkdc = 127.0.0.1\n\t\tadmin_server = 127.0.0.1\n\t}\n"
    << "[domain_realm]\n"
    << "\t." << kDnsDomain << " = " << kRealm << "\n"
    << "\t" << kDnsDomain << " = " << kRealm << "\n"
    << "\tlocalhost = " << kRealm << "\n";
  return o.str();
}

void AppendUser(std::ostringstream& o, std::string_view cn, std::string_view ou, std::string_view sam,
                std::string_view given, std::string_view surname, std::string_view pw64, int uac) {
  o << "dn: CN=" << cn << "," << ou << "\nchangetype: add\nobjectClass: user\n"
    << "sAMAccountName: " << sam << "\nuserPrincipalName: " << sam << "@" << kDnsDomain << "\n";
  if (!given.empty()) o << "givenName: " << given << "\n";
  if (!surname.empty()) o << "sn: " << surname << "\n";
  o << "displayName: " << cn << "\nunicodePwd:: " << pw64 << "\nuserAccountControl: " << uac << "\n\n";
}

// The seed: OUs, users, the action account, Domain Admins membership. Holds
// passwords, so it only ever travels through a pipe.
std::string SeedLdif(std::string_view users_pw, std::string_view svc_pw) {
  const std::string user64 = UnicodePwdBase64(users_pw);
  std::ostringstream o;
  for (std::string_view ou : {kStaffOu, kBulkOu, kOtherOu, kAdminsOu, kServiceOu})
    o << "dn: " << ou << "\nchangetype: add\nobjectClass: organizationalUnit\n\n";
  for (std::string_view sam : kStaff) {
    auto [given, sn] = GivenAndSurname(sam);
    AppendUser(o, given + " " + sn, kStaffOu, sam, given, sn, user64, 512);
  }
  for (int i = 1; i <= kBulkCount; ++i) {
    const std::string sam = BulkUser(i);
    AppendUser(o, sam, kBulkOu, sam, "Bulk", sam, user64, 512);
  }
  for (const auto& [sam, uac] : {std::pair{kPasswordNeverExpiresUser, kPasswordNeverExpiresUac},
                                 std::pair{kSmartcardRequiredUser, kSmartcardRequiredUac}}) {
    auto [given, sn] = GivenAndSurname(sam);
    AppendUser(o, given + " " + sn, kStaffOu, sam, given, sn, user64, uac);
  }
  // Setting SMARTCARD_REQUIRED gives the account a random password (Samba
  // does as Windows does); the users' password is set again afterwards, so
  // that the password a forced reset would not make the user change is known.
  {
    auto [given, sn] = GivenAndSurname(kSmartcardRequiredUser);
    o << "dn: CN=" << given << " " << sn << "," << kStaffOu << "\nchangetype: modify\nreplace: unicodePwd\n"
      << "unicodePwd:: " << user64 << "\n-\n\n";
  }
  for (std::string_view sam : kOthers) {
    auto [given, sn] = GivenAndSurname(sam);
    AppendUser(o, given + " " + sn, kOtherOu, sam, given, sn, user64, 512);
  }
  {
    auto [given, sn] = GivenAndSurname(kDanaAdmin);
    AppendUser(o, given + " " + sn, kAdminsOu, kDanaAdmin, given, sn, user64, 512);
  }
  // 66048 = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD: the action account must not expire.
  AppendUser(o, kActionAccount, kServiceOu, kActionAccount, "", "", UnicodePwdBase64(svc_pw), 66048);
  auto [dgiven, dsn] = GivenAndSurname(kDanaAdmin);
  o << "dn: CN=Domain Admins,CN=Users," << kBaseDn << "\nchangetype: modify\nadd: member\nmember: CN=" << dgiven
    << " " << dsn << "," << kAdminsOu << "\n-\n\n";
  // What AD's SDProp task does within the hour for a member of a protected
  // group (Samba does not run it): adminCount = 1, as Administrator has from
  // provisioning.
  o << "dn: CN=" << dgiven << " " << dsn << "," << kAdminsOu << "\nchangetype: modify\nreplace: adminCount\n"
    << "adminCount: 1\n-\n\n";
  return o.str();
}

bool PortOpen(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

// Lab DCs of any DIR that run in this network namespace: samba processes
// whose stdout is some ".../logs/samba.out". Returns "DIR (pid N)" lines.
std::vector<std::string> OtherLabDcs() {
  std::vector<std::string> found;
  std::error_code ec;
  const fs::path our_net = fs::read_symlink("/proc/self/ns/net", ec);
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::error_code lec;
    if (fs::read_symlink(entry.path() / "exe", lec).filename() != "samba" || lec) continue;
    if (fs::read_symlink(entry.path() / "ns" / "net", lec) != our_net) continue;
    const fs::path out = fs::read_symlink(entry.path() / "fd" / "1", lec);
    if (lec || out.filename() != "samba.out" || out.parent_path().filename() != "logs") continue;
    found.push_back(out.parent_path().parent_path().string() + " (pid " + name + ")");
  }
  return found;
}

// Called with the lab's own DC already stopped: whoever answers is someone else.
Status PortsFree() {
  for (int port : {636, 389, 88}) {
    if (!PortOpen(port)) continue;
    const std::vector<std::string> labs = OtherLabDcs();
    if (!labs.empty())
      return Fail(Error::FailedPrecondition(
          "port " + std::to_string(port) + " on 127.0.0.1 is held by the lab DC of " + labs.front() +
          ": stop it with `cordon lab down --dir " + labs.front().substr(0, labs.front().rfind(" (pid")) +
          "`, or run this lab in its own network namespace (unshare -n)"));
    return Fail(Error::FailedPrecondition(
        "port " + std::to_string(port) +
        " on 127.0.0.1 is already in use by another program (a directory server or a Kerberos KDC): stop it "
        "first, or run the lab in its own network namespace (unshare -n)"));
  }
  return {};
}

// The seed version of the snapshot on disk; 0 when there is none (a snapshot
// made before snapshots were versioned holds seed 1, but says nothing).
int SnapshotSeed(const Paths& p) {
  if (!fs::exists(p.snapshot())) return 0;
  std::ifstream in(p.seed_version());
  int version = 0;
  if (!(in >> version) || version <= 0) return 0;
  return version;
}

pid_t ReadPidFile(const fs::path& path) {
  std::ifstream in(path);
  long pid = -1;
  if (!(in >> pid) || pid <= 0) return -1;
  return static_cast<pid_t>(pid);
}

// Samba processes of this lab, found by their executable and by an open
// descriptor on this lab's samba.out (their stdout): samba rewrites its
// command line, and a pid file can be stale or lost. Nothing broader matches.
std::vector<pid_t> DcProcessesOf(const fs::path& samba_out) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::error_code lec;
    if (fs::read_symlink(entry.path() / "exe", lec).filename() != "samba" || lec) continue;
    for (const auto& fd : fs::directory_iterator(entry.path() / "fd", lec)) {
      std::error_code fec;
      if (fs::read_symlink(fd.path(), fec) == samba_out) {
        pids.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
    }
  }
  return pids;
}

// An exclusive lock on DIR/.lock for the life of the object.
class DirLock {
 public:
  static Result<DirLock> Acquire(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(Error::Internal("cannot open lock file " + path.string()));
    if (::flock(fd, LOCK_EX) != 0) {
      ::close(fd);
      return Fail(Error::Internal("cannot lock " + path.string()));
    }
    return DirLock(fd);
  }
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

Status MakeDirs(const Paths& p) {
  std::error_code ec;
  fs::create_directories(p.dir, ec);
  if (ec) return Fail(Error::Internal("cannot create " + p.dir.string() + ": " + ec.message()));
  fs::create_directories(p.logs(), ec);
  fs::create_directories(p.snapshot_dir(), ec);
  if (ec) return Fail(Error::Internal("cannot create folders under " + p.dir.string() + ": " + ec.message()));
  return {};
}

Status MakeCertificates(const Paths& p) {
  const fs::path ca = p.ca_dir();
  const std::string ca_key = (ca / "ca.key").string(), ca_pem = (ca / "ca.pem").string();
  const std::string dc_key = (ca / "dc.key").string(), dc_pem = (ca / "dc.pem").string();
  const std::string dc_csr = (ca / "dc.csr").string(), ext = (ca / "dc.ext").string();
  auto r = RunStep("create the lab CA",
                   {.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out",
                             ca_pem, "-days", "3650", "-subj", "/CN=Cordon Lab CA", "-addext",
                             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}});
  if (!r) return Fail(r.error());
  if (auto s = WriteFile(ext,
                         "subjectAltName=DNS:dc1.corp.example.test,DNS:localhost,IP:127.0.0.1\n"
                         "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
                         "keyUsage=critical,digitalSignature,keyEncipherment\n",
                         0644);
      !s)
    return s;
  r = RunStep("create the DC key", {.argv = {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", dc_key,
                                             "-out", dc_csr, "-subj", "/CN=dc1.corp.example.test"}});
  if (!r) return Fail(r.error());
  r = RunStep("sign the DC certificate",
              {.argv = {"openssl", "x509", "-req", "-in", dc_csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
                        "-out", dc_pem, "-days", "825", "-extfile", ext}});
  if (!r) return Fail(r.error());
  for (const auto& key : {ca_key, dc_key}) ::chmod(key.c_str(), 0600);
  return {};
}

Status WriteSecret(const fs::path& path, std::string_view value) { return WriteFile(path, value, 0600); }

// A server certificate from the lab CA (SAN localhost, 127.0.0.1) for an
// emulator: `folder`/server.pem and server.key (0600).
Status MakeServerCertificate(const Paths& p, const fs::path& folder, std::string_view what) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return Fail(Error::Internal("cannot create " + folder.string() + ": " + ec.message()));
  const std::string ca_key = (p.ca_dir() / "ca.key").string(), ca_pem = p.ca_pem().string();
  const std::string key = (folder / "server.key").string(), pem = (folder / "server.pem").string();
  const std::string csr = (folder / "server.csr").string(), ext = (folder / "server.ext").string();
  if (auto s = WriteFile(ext,
                         "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                         "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
                         0644);
      !s)
    return s;
  auto r = RunStep("create the " + std::string(what) + "'s key",
                   {.argv = {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj",
                             "/CN=localhost"}});
  if (!r) return Fail(r.error());
  ::chmod(key.c_str(), 0600);
  r = RunStep("sign the " + std::string(what) + "'s certificate",
              {.argv = {"openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
                        "-out", pem, "-days", "825", "-extfile", ext}});
  if (!r) return Fail(r.error());
  return {};
}

// The Okta emulator's files, new on every start: a server certificate from
// the lab CA, an API token, and the key pair of the service app that signs
// its client assertions.
Status PrepareOkta(const Paths& p) {
  if (auto s = MakeServerCertificate(p, p.okta(), "Okta emulator"); !s) return s;
  auto r = RunStep("create the Okta client's key pair",
                   {.argv = {"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                             p.okta_client_key().string()}});
  if (!r) return Fail(r.error());
  ::chmod(p.okta_client_key().c_str(), 0600);
  r = RunStep("export the Okta client's public key", {.argv = {"openssl", "pkey", "-in", p.okta_client_key().string(),
                                                               "-pubout", "-out", (p.okta() / "client.pub").string()}});
  if (!r) return Fail(r.error());
  auto token = RandomPassword();
  if (!token) return Fail(token.error());
  return WriteSecret(p.okta_token(), "00" + *token);
}

// The Graph emulator's files, new on every start: a server certificate from
// the lab CA, the app's client secret, and the app's key with a self-signed
// certificate registered on the app (client assertions).
Status PrepareEntra(const Paths& p) {
  if (auto s = MakeServerCertificate(p, p.entra(), "Graph emulator"); !s) return s;
  std::error_code ec;
  fs::remove(p.entra_client_key(), ec);
  auto r = RunStep("create the Entra app's key and certificate",
                   {.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             p.entra_client_key().string(), "-out", p.entra_client_cert().string(), "-days", "825",
                             "-subj", "/CN=Cordon Lab Entra app"}});
  if (!r) return Fail(r.error());
  ::chmod(p.entra_client_key().c_str(), 0600);
  auto secret = RandomPassword();
  if (!secret) return Fail(secret.error());
  return WriteSecret(p.entra_secret(), "lab~" + *secret);
}

// A binary objectSid (MS-DTYP 2.4.2.2) as its string form S-1-5-21-….
std::string SidString(std::string_view raw) {
  if (raw.size() < 8 || raw.size() != 8 + 4 * static_cast<size_t>(static_cast<unsigned char>(raw[1]))) return {};
  uint64_t authority = 0;
  for (int i = 2; i < 8; ++i) authority = (authority << 8) | static_cast<unsigned char>(raw[static_cast<size_t>(i)]);
  std::string sid = "S-" + std::to_string(static_cast<unsigned char>(raw[0])) + "-" + std::to_string(authority);
  for (size_t at = 8; at + 4 <= raw.size(); at += 4) {
    uint32_t sub = 0;
    for (int b = 3; b >= 0; --b) sub = (sub << 8) | static_cast<unsigned char>(raw[at + static_cast<size_t>(b)]);
    sid += "-" + std::to_string(sub);
  }
  return sid;
}

std::string Base64Decode(std::string_view b64) {
  std::string out(b64.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) --len;
  out.resize(len);
  return out;
}

// The objectSid of every user of the running DC, by sAMAccountName, read
// over LDAPS as the lab's Administrator into DIR/entra/people.json, where
// the Graph emulator finds the SIDs its synced users carry.
Status ExportPeople(const Paths& p) {
  auto r = RunStep("read the users' SIDs (ldapsearch)",
                   {.argv = {"ldapsearch", "-x", "-H", "ldaps://127.0.0.1", "-D", "Administrator@" + std::string(kDnsDomain),
                             "-y", p.admin_pw().string(), "-b", std::string(kBaseDn), "-LLL", "-o", "ldif-wrap=no",
                             "-E", "pr=500/noprompt", "(&(objectCategory=person)(objectClass=user))", "sAMAccountName",
                             "objectSid"},
                    .env = LdapEnv(p),
                    .timeout = seconds(60)});
  if (!r) return Fail(r.error());
  nlohmann::json sids = nlohmann::json::object();
  std::string sam, sid;
  auto flush = [&] {
    if (!sam.empty() && !sid.empty()) sids[sam] = sid;
    sam.clear();
    sid.clear();
  };
  std::istringstream in(r->out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("dn:", 0) == 0) flush();
    if (line.rfind("sAMAccountName: ", 0) == 0) sam = line.substr(16);
    if (line.rfind("objectSid:: ", 0) == 0) sid = SidString(Base64Decode(line.substr(12)));
  }
  flush();
  return WriteFile(p.entra_people(), nlohmann::json{{"sids", sids}}.dump(1) + "\n", 0644);
}

// An emulator's process, if it runs: its pid file names it.
pid_t EmulatorPid(const fs::path& pid_file) {
  const pid_t pid = ReadPidFile(pid_file);
  return pid > 0 && IsProcessAlive(pid) ? pid : -1;
}
pid_t OktaPid(const Paths& p) { return EmulatorPid(p.okta_pid()); }
pid_t EntraPid(const Paths& p) { return EmulatorPid(p.entra_pid()); }

// Starts an emulator as `argv` with `--dir DIR`, records its pid, and waits
// until it has written its port file (it does once it listens).
Status StartEmulator(const Paths& p, std::vector<std::string> argv, std::string_view what, const fs::path& pid_file,
                     const fs::path& port_file, const std::string& log, const ProgressFn& progress) {
  argv.push_back("--dir");
  argv.push_back(p.dir.string());
  auto proc = Process::Start({.argv = argv, .stdout_file = log, .stderr_file = log});
  if (!proc) return Fail(proc.error());
  const pid_t pid = proc->Release();
  if (auto s = WriteFile(pid_file, std::to_string(pid) + "\n", 0644); !s) return s;
  const auto deadline = Clock::now() + seconds(20);
  while (Clock::now() < deadline) {
    if (!IsProcessAlive(pid))
      return Fail(Error::Unavailable("the " + std::string(what) + " exited during start: " + Tail(ReadFile(log), 600)));
    if (fs::exists(port_file)) {
      if (progress)
        progress(std::string(what) + " on https://127.0.0.1:" + ReadFile(port_file) + " (pid " + std::to_string(pid) + ")");
      return {};
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  (void)StopProcess(pid, seconds(3));
  return Fail(Error::Unavailable("the " + std::string(what) + " did not start listening within 20 s; see " + log));
}

std::string LocalHostName() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return {};
  std::string name(buf.data());
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return {};
  return name;
}

}  // namespace

std::vector<std::string> StaffUsers() { return {kStaff.begin(), kStaff.end()}; }
std::vector<std::string> OtherUsers() { return {kOthers.begin(), kOthers.end()}; }
std::vector<std::string> DomainAdmins() { return {"Administrator", std::string(kDanaAdmin)}; }

std::string BulkUser(int i) {
  std::string digits = std::to_string(i);
  if (digits.size() < static_cast<std::size_t>(kBulkDigits))
    digits.insert(0, static_cast<std::size_t>(kBulkDigits) - digits.size(), '0');
  return std::string(kBulkPrefix) + digits;
}

Lab::Lab(fs::path dir, ProgressFn progress) : dir_(fs::absolute(std::move(dir)).lexically_normal()),
                                               progress_(std::move(progress)) {
  if (!dir_.empty() && dir_.filename().empty()) dir_ = dir_.parent_path();
}

void Lab::Progress(std::string_view line) const {
  if (progress_) progress_(line);
}

// A lab that is half up is not up: what failed after the DC started stops it
// again, so the next `lab up` starts from nothing instead of finding its ports taken.
Error Lab::Abandon(Error cause) {
  if (auto s = StopRunning(); !s) Progress("could not stop what had started: " + s.error().message);
  return cause;
}

Status Lab::StopRunning() {
  const Paths p{dir_};
  if (auto s = StopEntra(); !s) return s;
  if (auto s = StopOkta(); !s) return s;
  // Found by their open samba.out, so a stale or missing pid file does not matter.
  const std::vector<pid_t> pids = DcProcessesOf(p.samba_out());
  for (pid_t pid : pids) {
    Progress("stopping the lab DC (pid " + std::to_string(pid) + ")");
    if (auto s = StopProcess(pid, seconds(5)); !s) return s;
  }
  std::error_code ec;
  fs::remove(p.pid_file(), ec);
  return {};
}

Status Lab::StopOkta() {
  const Paths p{dir_};
  if (const pid_t pid = OktaPid(p); pid > 0) {
    Progress("stopping the Okta emulator (pid " + std::to_string(pid) + ")");
    if (auto s = StopProcess(pid, seconds(5)); !s) return s;
  }
  std::error_code ec;
  fs::remove(p.okta_pid(), ec);
  fs::remove(p.okta_port(), ec);
  return {};
}

Status Lab::StartOkta() {
  const Paths p{dir_};
  if (auto s = StopOkta(); !s) return s;
  return StartEmulator(p, okta_argv_, "Okta emulator", p.okta_pid(), p.okta_port(), (p.logs() / "okta.log").string(),
                       progress_);
}

Status Lab::StopEntra() {
  const Paths p{dir_};
  if (const pid_t pid = EntraPid(p); pid > 0) {
    Progress("stopping the Graph emulator (pid " + std::to_string(pid) + ")");
    if (auto s = StopProcess(pid, seconds(5)); !s) return s;
  }
  std::error_code ec;
  fs::remove(p.entra_pid(), ec);
  fs::remove(p.entra_port(), ec);
  return {};
}

Status Lab::StartEntra() {
  const Paths p{dir_};
  if (auto s = StopEntra(); !s) return s;
  // The SIDs of the DC as it runs now; without them the synced users have none.
  if (auto s = ExportPeople(p); !s) {
    Progress("the Graph emulator's users get no onPremisesSecurityIdentifier: " + s.error().message);
    (void)WriteFile(p.entra_people(), "{\"sids\": {}}\n", 0644);
  }
  return StartEmulator(p, entra_argv_, "Graph emulator", p.entra_pid(), p.entra_port(),
                       (p.logs() / "entra.log").string(), progress_);
}

Result<pid_t> Lab::StartDc() {
  const Paths p{dir_};
  if (auto s = PortsFree(); !s) return Fail(s.error());
  std::error_code ec;
  for (const char* sub : {"cache", "run"}) fs::create_directories(p.dc() / sub, ec);
  if (auto s = WriteFile(p.smb_conf(), SmbConf(p), 0644); !s) return Fail(s.error());
  auto proc = Process::Start({.argv = {"samba", "-s", p.smb_conf().string(), "-M", "single", "--foreground",
                                       "--no-process-group"},
                              .stdout_file = p.samba_out().string(),
                              .stderr_file = p.samba_out().string()});
  if (!proc) return Fail(proc.error());
  const pid_t pid = proc->Release();
  if (auto s = WriteFile(p.pid_file(), std::to_string(pid) + "\n", 0644); !s) return Fail(s.error());
  if (auto s = WaitUntilAnswering(pid); !s) {
    (void)StopProcess(pid, seconds(3));
    fs::remove(p.pid_file(), ec);
    return Fail(s.error());
  }
  return pid;
}

Status Lab::WaitUntilAnswering(pid_t pid) {
  const Paths p{dir_};
  const auto deadline = Clock::now() + seconds(60);
  std::string last;
  while (Clock::now() < deadline) {
    if (!IsProcessAlive(pid))
      return Fail(Error::Unavailable("the lab DC exited during start; see " + (p.logs() / "samba.log").string() +
                                     ": " + Tail(ReadFile(p.samba_out()), 600)));
    auto r = RunProgram({.argv = {"ldapsearch", "-x", "-H", "ldaps://127.0.0.1", "-o", "nettimeout=2", "-b", "", "-s",
                           "base", "-LLL", "dnsHostName"},
                  .env = LdapEnv(p),
                  .timeout = seconds(5)});
    if (r && r->ok() && r->out.find("dnsHostName") != std::string::npos) return {};
    if (r) last = r->err;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Fail(Error::Timeout("the lab DC did not answer on ldaps://127.0.0.1 within 60 s: " + Tail(last, 400)));
}

Status Lab::Provision() {
  const Paths p{dir_};
  const auto start = Clock::now();
  Progress("provisioning a Samba AD DC in " + dir_.string() + " (once per lab; 1-2 minutes, most of it seeding 1,000+ users)");
  std::error_code ec;
  // The old snapshot goes first: the passwords and the CA are made anew, so
  // a provisioning that fails half-way must not leave a snapshot behind that
  // no longer matches them.
  fs::remove(p.seed_version(), ec);
  fs::remove(p.snapshot(), ec);
  for (const fs::path& d : {p.dc(), p.ca_dir(), p.secrets()}) {
    fs::remove_all(d, ec);
    fs::create_directories(d, ec);
    if (ec) return Fail(Error::Internal("cannot create " + d.string() + ": " + ec.message()));
  }
  ::chmod(p.secrets().c_str(), 0700);
  ::chmod(p.ca_dir().c_str(), 0700);

  auto admin_pw = RandomPassword();
  auto svc_pw = RandomPassword();
  auto users_pw = RandomPassword();
  if (!admin_pw || !svc_pw || !users_pw) return Fail(Error::Internal("cannot generate lab passwords"));
  for (const auto& [path, value] : {std::pair{p.admin_pw(), *admin_pw}, {p.svc_pw(), *svc_pw}, {p.users_pw(), *users_pw}})
    if (auto s = WriteSecret(path, value); !s) return s;

  Progress("creating the lab CA and the DC certificate");
  if (auto s = MakeCertificates(p); !s) return s;
  if (auto s = WriteFile(p.krb5_conf(), Krb5Conf(), 0644); !s) return s;

  Progress("samba-tool domain provision");
  auto prov = RunProgram({.argv = {"samba-tool", "domain", "provision", "--targetdir=" + p.dc().string(),
                            "--realm=" + std::string(kRealm), "--domain=" + std::string(kDomain), "--server-role=dc",
                            "--dns-backend=NONE", "--use-rfc2307", "--host-name=dc1", "--host-ip=127.0.0.1",
                            "--option=interfaces=127.0.0.1", "--option=bind interfaces only=yes",
                            "--option=server services = ldap, cldap, kdc"},
                   .timeout = seconds(300)});
  if (!prov) return Fail(prov.error());
  (void)WriteFile(p.logs() / "provision.log", WithoutPasswordLines(prov->out + prov->err), 0600);
  if (!prov->ok())
    return Fail(Error::Internal("samba-tool domain provision failed (" + prov->Describe() + "), see " +
                                (p.logs() / "provision.log").string() + ": " + Tail(WithoutPasswordLines(prov->err), 600)));
  if (auto s = WriteFile(p.smb_conf(), SmbConf(p), 0644); !s) return s;
  const std::string conf = p.smb_conf().string();
  const std::string sam_ldb = (p.dc() / "private" / "sam.ldb").string();

  auto r = RunStep("relax the password policy",
                   {.argv = {"samba-tool", "domain", "passwordsettings", "set", "-s", conf, "--complexity=off",
                             "--min-pwd-age=0", "--max-pwd-age=0", "--history-length=0", "--min-pwd-length=1"}});
  if (!r) return Fail(r.error());
  // Through stdin, so the password never shows in a process list. Samba's python
  // modules belong to the system interpreter (samba-tool's own), not a pyenv one.
  r = RunStep("set the Administrator password",
              {.argv = {"/usr/bin/python3", "-c", std::string(kSetAdminPasswordPy), conf}, .stdin_text = *admin_pw + "\n"});
  if (!r) return Fail(r.error());

  Progress("starting the DC to seed it");
  auto pid = StartDc();
  if (!pid) return Fail(pid.error());
  auto stop_dc = [&] { (void)StopProcess(*pid, seconds(5)); };

  Progress("seeding OUs and " + std::to_string(kStaff.size() + kBulkCount + kOthers.size() + 4) + " users over LDAPS");
  r = RunStep("seed the directory (ldapmodify)",
              {.argv = {"ldapmodify", "-x", "-H", "ldaps://127.0.0.1", "-D", "Administrator@" + std::string(kDnsDomain),
                        "-y", p.admin_pw().string(), "-c"},
               .stdin_text = SeedLdif(*users_pw, *svc_pw),
               .env = LdapEnv(p),
               .timeout = seconds(600)});
  if (r) (void)WriteFile(p.logs() / "seed.log", r->out, 0600);
  if (!r) {
    stop_dc();
    return Fail(r.error());
  }

  Progress("delegating Reset Password, userAccountControl, pwdLastSet, lockoutTime on OU=Staff to svc-cordon");
  r = RunStep("read the SID of svc-cordon", {.argv = {"samba-tool", "user", "show", std::string(kActionAccount),
                                                      "--attributes=objectSid", "-H", sam_ldb, "-s", conf}});
  if (!r) {
    stop_dc();
    return Fail(r.error());
  }
  std::string sid;
  if (const auto at = r->out.find("objectSid: "); at != std::string::npos) {
    sid = r->out.substr(at + 11);
    sid = sid.substr(0, sid.find_first_of("\r\n"));
  }
  if (sid.rfind("S-1-5-21-", 0) != 0) {
    stop_dc();
    return Fail(Error::Internal("could not read the SID of svc-cordon"));
  }
  std::string sddl = "(OA;CIIO;CR;" + std::string(kResetPasswordGuid) + ";" + std::string(kUserClassGuid) + ";" + sid + ")";
  for (std::string_view attr : {kUserAccountControlGuid, kPwdLastSetGuid, kLockoutTimeGuid})
    sddl += "(OA;CIIO;RPWP;" + std::string(attr) + ";" + std::string(kUserClassGuid) + ";" + sid + ")";
  r = RunStep("samba-tool dsacl set", {.argv = {"samba-tool", "dsacl", "set", "-H", sam_ldb, "-s", conf,
                                                "--objectdn=" + std::string(kStaffOu), "--sddl=" + sddl}});
  if (!r) {
    stop_dc();
    return Fail(r.error());
  }

  Progress("adding SPN ldap/localhost to DC1$ and exporting the svc-cordon keytab");
  std::vector<std::string> spns = {"ldap/localhost"};
  // libldap may canonicalise "localhost" to the machine's own name before asking for a ticket.
  if (const std::string host = LocalHostName(); !host.empty() && host != "localhost") spns.push_back("ldap/" + host);
  for (const auto& spn : spns) {
    r = RunStep("samba-tool spn add " + spn, {.argv = {"samba-tool", "spn", "add", spn, "DC1$", "-H", sam_ldb, "-s", conf}});
    if (!r) {
      stop_dc();
      return Fail(r.error());
    }
  }
  r = RunStep("samba-tool domain exportkeytab",
              {.argv = {"samba-tool", "domain", "exportkeytab", p.keytab().string(),
                        "--principal=" + std::string(kActionAccount) + "@" + std::string(kRealm), "-s", conf}});
  if (!r) {
    stop_dc();
    return Fail(r.error());
  }
  ::chmod(p.keytab().c_str(), 0600);

  Progress("verifying the delegation");
  struct Probe {
    std::string dn;
    bool allowed;
    int uac = 512;  // written back as it was seeded: the probe changes nothing
  };
  auto staff_dn = [](std::string_view sam, std::string_view ou) {
    const auto [given, sn] = GivenAndSurname(sam);
    return "CN=" + given + " " + sn + "," + std::string(ou);
  };
  const std::vector<Probe> probes = {
      {staff_dn(kStaff[0], kStaffOu), true},
      {"CN=" + BulkUser(1) + "," + std::string(kBulkOu), true},
      {staff_dn(kPasswordNeverExpiresUser, kStaffOu), true, kPasswordNeverExpiresUac},
      {staff_dn(kSmartcardRequiredUser, kStaffOu), true, kSmartcardRequiredUac},
      {"CN=Administrator,CN=Users," + std::string(kBaseDn), false},
      {staff_dn(kOthers[0], kOtherOu), false},
  };
  for (const auto& probe : probes) {
    const std::string ldif = "dn: " + probe.dn +
                             "\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: -1\n-\n"
                             "replace: userAccountControl\nuserAccountControl: " +
                             std::to_string(probe.uac) + "\n-\n";
    auto m = RunProgram({.argv = {"ldapmodify", "-x", "-H", "ldaps://127.0.0.1", "-D",
                           std::string(kActionAccount) + "@" + std::string(kDnsDomain), "-y", p.svc_pw().string()},
                  .stdin_text = ldif,
                  .env = LdapEnv(p),
                  .timeout = seconds(30)});
    const bool ok = m && m->ok();
    const bool denied = m && m->exit_code == 50;
    if ((probe.allowed && !ok) || (!probe.allowed && !denied)) {
      stop_dc();
      return Fail(Error::Internal("delegation check failed on " + probe.dn + ": expected " +
                                  (probe.allowed ? "success" : "insufficient access (50)") + ", got " +
                                  (m ? m->Describe() + " " + Tail(m->err, 300) : m.error().message)));
    }
  }

  // The seed runs with -c (continue on errors): the users that later need
  // their known password are checked here rather than at a test's failure.
  for (std::string_view sam : {kPasswordNeverExpiresUser, kSmartcardRequiredUser}) {
    auto bind = RunProgram({.argv = {"ldapsearch", "-x", "-H", "ldaps://127.0.0.1", "-o", "nettimeout=10", "-D",
                                     std::string(sam) + "@" + std::string(kDnsDomain), "-y", p.users_pw().string(),
                                     "-b", "", "-s", "base", "-LLL", "dnsHostName"},
                            .env = LdapEnv(p),
                            .timeout = seconds(30)});
    if (!bind || !bind->ok()) {
      stop_dc();
      return Fail(Error::Internal("seeding failed: " + std::string(sam) + " cannot sign in with the users' password: " +
                                  (bind ? bind->Describe() + " " + Tail(bind->err, 300) : bind.error().message)));
    }
  }

  Progress("stopping the DC and saving the snapshot");
  if (auto s = StopProcess(*pid, seconds(10)); !s) return s;
  fs::remove(p.pid_file(), ec);
  const fs::path tmp = p.snapshot().string() + ".tmp";
  r = RunStep("tar the snapshot", {.argv = {"tar", "-C", p.dc().string(), "-cf", tmp.string(), "."}, .timeout = seconds(120)});
  if (!r) return Fail(r.error());
  ::chmod(tmp.c_str(), 0600);
  fs::rename(tmp, p.snapshot(), ec);
  if (ec) return Fail(Error::Internal("cannot save the snapshot: " + ec.message()));
  if (auto s = WriteFile(p.seed_version(), std::to_string(kSeedVersion) + "\n", 0644); !s) return s;
  Progress("provisioned in " + std::to_string(static_cast<int>(SecondsSince(start))) + " s");
  return {};
}

Result<UpReport> Lab::Up() {
  const Paths p{dir_};
  if (auto s = MakeDirs(p); !s) return Fail(s.error());
  auto lock = DirLock::Acquire(p.lock());
  if (!lock) return Fail(lock.error());
  std::error_code ec;
  fs::remove(p.lab_json(), ec);
  if (auto s = StopRunning(); !s) return Fail(s.error());
  if (auto s = PortsFree(); !s) return Fail(s.error());

  UpReport report;
  const int seed = SnapshotSeed(p);
  if (fs::exists(p.snapshot()) && seed != kSeedVersion)
    Progress("the snapshot holds seed " + (seed == 0 ? std::string("1 (unversioned)") : std::to_string(seed)) +
             ", this Cordon seeds " + std::to_string(kSeedVersion) + ": provisioning again");
  if (seed != kSeedVersion || !fs::exists(p.admin_pw()) || !fs::exists(p.ca_pem())) {
    const auto t = Clock::now();
    if (auto s = Provision(); !s) return Fail(s.error());
    report.provisioned = true;
    report.provision_seconds = SecondsSince(t);
  }

  const auto start = Clock::now();
  // A fresh working copy every time: tests rely on a clean directory.
  fs::remove_all(p.dc(), ec);
  fs::create_directories(p.dc(), ec);
  if (ec) return Fail(Error::Internal("cannot create " + p.dc().string() + ": " + ec.message()));
  auto r = RunStep("restore the snapshot",
                   {.argv = {"tar", "-C", p.dc().string(), "-xf", p.snapshot().string()}, .timeout = seconds(120)});
  if (!r) return Fail(r.error());
  if (auto s = WriteFile(p.krb5_conf(), Krb5Conf(), 0644); !s) return Fail(s.error());
  auto pid = StartDc();
  if (!pid) return Fail(pid.error());
  if (!okta_argv_.empty()) {
    if (auto s = PrepareOkta(p); !s) return Fail(Abandon(s.error()));
    if (auto s = StartOkta(); !s) return Fail(Abandon(s.error()));
  }
  if (!entra_argv_.empty()) {
    if (auto s = PrepareEntra(p); !s) return Fail(Abandon(s.error()));
    if (auto s = StartEntra(); !s) return Fail(Abandon(s.error()));
  }
  if (auto s = WriteLabJson(); !s) return Fail(Abandon(s.error()));
  report.start_seconds = SecondsSince(start);
  report.pid = *pid;
  report.lab_json = p.lab_json();
  return report;
}

Status Lab::Down() {
  const Paths p{dir_};
  if (!fs::exists(dir_)) return {};
  auto lock = DirLock::Acquire(p.lock());
  if (!lock) return Fail(lock.error());
  // Without a running DC the description would only mislead a test into timeouts.
  std::error_code ec;
  fs::remove(p.lab_json(), ec);
  return StopRunning();
}

// Down() leaves the working copy in place (only the next Up() replaces it):
// stopping for a later Start() is the same act.
Status Lab::Stop() { return Down(); }

Result<UpReport> Lab::Start() {
  const Paths p{dir_};
  if (auto s = MakeDirs(p); !s) return Fail(s.error());
  auto lock = DirLock::Acquire(p.lock());
  if (!lock) return Fail(lock.error());
  const auto start = Clock::now();
  UpReport report;
  report.lab_json = p.lab_json();
  const std::vector<pid_t> running = DcProcessesOf(p.samba_out());
  if (!running.empty()) {
    const pid_t recorded = ReadPidFile(p.pid_file());
    const pid_t pid = std::find(running.begin(), running.end(), recorded) != running.end() ? recorded : running.front();
    Progress("the lab DC already runs (pid " + std::to_string(pid) + ")");
    if (auto s = WaitUntilAnswering(pid); !s) return Fail(s.error());
    if (!okta_argv_.empty() && OktaPid(p) < 0 && fs::exists(p.okta_token())) {
      if (auto s = StartOkta(); !s) return Fail(s.error());
    }
    if (!entra_argv_.empty() && EntraPid(p) < 0 && fs::exists(p.entra_secret())) {
      if (auto s = StartEntra(); !s) return Fail(s.error());
    }
    if (auto s = WriteLabJson(); !s) return Fail(s.error());
    report.already_running = true;
    report.pid = pid;
    report.start_seconds = SecondsSince(start);
    return report;
  }
  if (SnapshotSeed(p) != kSeedVersion || !fs::exists(p.sam_ldb()) || !fs::exists(p.admin_pw()) ||
      !fs::exists(p.ca_pem()))
    return Fail(Error::FailedPrecondition("no working copy of the current lab directory in " + p.dc().string() +
                                          " (never started, or seeded by an older Cordon): `cordon lab up --dir " +
                                          dir_.string() + "` makes a fresh one"));
  std::error_code ec;
  fs::remove(p.lab_json(), ec);
  Progress("starting the lab DC on its working copy " + p.dc().string());
  if (auto s = WriteFile(p.krb5_conf(), Krb5Conf(), 0644); !s) return Fail(s.error());
  auto pid = StartDc();
  if (!pid) return Fail(pid.error());
  if (!okta_argv_.empty()) {
    if (!fs::exists(p.okta_token()) || !fs::exists(p.okta() / "server.pem")) {
      if (auto s = PrepareOkta(p); !s) return Fail(Abandon(s.error()));
    }
    if (auto s = StartOkta(); !s) return Fail(Abandon(s.error()));
  }
  if (!entra_argv_.empty()) {
    if (!fs::exists(p.entra_secret()) || !fs::exists(p.entra_client_cert()) || !fs::exists(p.entra() / "server.pem")) {
      if (auto s = PrepareEntra(p); !s) return Fail(Abandon(s.error()));
    }
    if (auto s = StartEntra(); !s) return Fail(Abandon(s.error()));
  }
  if (auto s = WriteLabJson(); !s) return Fail(Abandon(s.error()));
  report.pid = *pid;
  report.start_seconds = SecondsSince(start);
  return report;
}

Status Lab::Reset() {
  if (auto s = Down(); !s) return s;
  std::error_code ec;
  fs::remove_all(Paths{dir_}.snapshot_dir(), ec);
  if (ec) return Fail(Error::Internal("cannot remove the snapshot: " + ec.message()));
  return {};
}

Result<LabState> Lab::Status() const {
  const Paths p{dir_};
  LabState st;
  st.dir = dir_;
  st.snapshot_seed = SnapshotSeed(p);
  st.snapshot = st.snapshot_seed == kSeedVersion;
  st.snapshot_outdated = !st.snapshot && fs::exists(p.snapshot());
  st.working_copy = fs::exists(p.sam_ldb());
  st.ldaps_url = "ldaps://127.0.0.1";
  const std::vector<pid_t> pids = DcProcessesOf(p.samba_out());
  st.running = !pids.empty();
  if (st.running) {
    const pid_t recorded = ReadPidFile(p.pid_file());
    st.pid = std::find(pids.begin(), pids.end(), recorded) != pids.end() ? recorded : pids.front();
    auto r = RunProgram({.argv = {"ldapsearch", "-x", "-H", "ldaps://127.0.0.1", "-o", "nettimeout=2", "-b", "", "-s", "base",
                           "-LLL", "dnsHostName"},
                  .env = LdapEnv(p),
                  .timeout = seconds(5)});
    st.answering = r && r->ok();
  }
  if (fs::exists(p.lab_json())) {
    try {
      const auto j = nlohmann::json::parse(ReadFile(p.lab_json()));
      st.staff_users = static_cast<int>(j.at("staff_users").size());
      st.bulk_users = j.at("bulk_users").at("count").get<int>();
      st.other_users = static_cast<int>(j.at("other_users").size());
      st.special_users = static_cast<int>(j.value("special_users", nlohmann::json::object()).size());
      st.domain_admins = static_cast<int>(j.at("domain_admins").size());
    } catch (const std::exception& e) {
      return Fail(Error::Internal(p.lab_json().string() + " is malformed: " + e.what()));
    }
  }
  return st;
}

Status Lab::WriteLabJson() const {
  const Paths p{dir_};
  nlohmann::json j;
  j["realm"] = kRealm;
  j["domain"] = kDomain;
  j["base_dn"] = kBaseDn;
  j["dc_host"] = kDcHost;
  j["ldaps_url"] = "ldaps://127.0.0.1";
  j["ldap_url"] = "ldap://127.0.0.1";
  j["gssapi_url"] = "ldap://localhost";
  j["ca_file"] = p.ca_pem().string();
  j["krb5_conf"] = p.krb5_conf().string();
  j["admin"] = {{"sam", "Administrator"},
                {"bind_dn", "Administrator@" + std::string(kDnsDomain)},
                {"password_file", p.admin_pw().string()}};
  j["action_account"] = {{"sam", kActionAccount},
                         {"bind_dn", std::string(kActionAccount) + "@" + std::string(kDnsDomain)},
                         {"password_file", p.svc_pw().string()},
                         {"keytab", p.keytab().string()},
                         {"principal", std::string(kActionAccount) + "@" + std::string(kRealm)}};
  j["user_password_file"] = p.users_pw().string();
  j["staff_ou"] = kStaffOu;
  j["staff_users"] = StaffUsers();
  j["bulk_ou"] = kBulkOu;
  j["bulk_users"] = {{"prefix", kBulkPrefix}, {"count", kBulkCount}, {"digits", kBulkDigits}};
  j["special_users"] = {{"password_never_expires", kPasswordNeverExpiresUser},
                        {"smartcard_required", kSmartcardRequiredUser}};
  j["other_ou"] = kOtherOu;
  j["other_users"] = OtherUsers();
  j["domain_admins"] = DomainAdmins();
  j["pid_file"] = p.pid_file().string();
  j["log_file"] = (p.logs() / "samba.log").string();
  if (const pid_t okta = OktaPid(p); okta > 0 && fs::exists(p.okta_port())) {
    j["okta"] = {{"url", "https://127.0.0.1:" + ReadFile(p.okta_port())},
                 {"ca_file", p.ca_pem().string()},
                 {"token_file", p.okta_token().string()},
                 {"client_id", kOktaClientId},
                 {"private_key_file", p.okta_client_key().string()},
                 {"scopes", {"okta.users.manage"}},
                 {"pid_file", p.okta_pid().string()},
                 {"log_file", (p.logs() / "okta.log").string()}};
  }
  if (const pid_t entra = EntraPid(p); entra > 0 && fs::exists(p.entra_port())) {
    const std::string origin = "https://127.0.0.1:" + ReadFile(p.entra_port());
    j["entra"] = {{"authority", origin},
                  {"graph_url", origin},
                  {"tenant", kEntraTenantId},
                  {"client_id", kEntraClientId},
                  {"client_secret_file", p.entra_secret().string()},
                  {"certificate_file", p.entra_client_cert().string()},
                  {"private_key_file", p.entra_client_key().string()},
                  {"ca_file", p.ca_pem().string()},
                  {"pid_file", p.entra_pid().string()},
                  {"log_file", (p.logs() / "entra.log").string()}};
  }
  const fs::path tmp = p.lab_json().string() + ".tmp";
  if (auto s = WriteFile(tmp, j.dump(2) + "\n", 0644); !s) return s;
  std::error_code ec;
  fs::rename(tmp, p.lab_json(), ec);
  if (ec) return Fail(Error::Internal("cannot write " + p.lab_json().string() + ": " + ec.message()));
  return {};
}

}  // namespace cordon::lab
