// Lab: a throwaway Active Directory (Samba AD DC) on loopback for trying
// Cordon and for its tests.
//
// Everything lives under one state folder DIR:
//   DIR/snapshot/dc.tar    the provisioned and seeded directory (made once)
//   DIR/snapshot/seed-version  which seed (kSeedVersion) the snapshot holds
//   DIR/dc/                the working copy, restored from the snapshot on every
//                          Up(); Stop() and Start() keep it
//   DIR/ca/                the lab CA and the DC's certificate (keys 0600)
//   DIR/secrets/           random passwords (*.pw, 0600, no trailing newline) and
//                          the action account's keytab
//   DIR/krb5.conf          Kerberos client config pointing at 127.0.0.1
//   DIR/logs/              samba's log, provisioning and seeding output
//   DIR/samba.pid          pid of the running DC
//   DIR/okta/              the Okta emulator's certificate, its client's public
//                          key, pid and port files (src/lab/okta/README.md)
//   DIR/entra/             the Graph emulator's certificate, its app's
//                          certificate, the users' SIDs (people.json), pid and
//                          port files (src/lab/entra/README.md)
//   DIR/lab.json           what clients need, present only while the DC runs
//                          (src/lab/README.md)
//
// The DC listens on the fixed ports 88/389/636 of 127.0.0.1, so only one lab
// runs per network namespace.
//
// Thread-safety: a Lab object is not synchronised; use one per thread. Several
// processes calling Up()/Down()/Start()/Stop() on the same DIR are serialised
// by a lock file.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cordon::lab {

// Fixed facts of the lab's directory (what lab.json describes).
inline constexpr std::string_view kRealm = "CORP.EXAMPLE.TEST";
inline constexpr std::string_view kDomain = "CORP";
inline constexpr std::string_view kDnsDomain = "corp.example.test";
inline constexpr std::string_view kBaseDn = "DC=corp,DC=example,DC=test";
inline constexpr std::string_view kDcHost = "dc1.corp.example.test";
inline constexpr std::string_view kStaffOu = "OU=Staff,DC=corp,DC=example,DC=test";
inline constexpr std::string_view kBulkOu = "OU=Bulk,OU=Staff,DC=corp,DC=example,DC=test";
inline constexpr std::string_view kOtherOu = "OU=Contractors,DC=corp,DC=example,DC=test";
inline constexpr std::string_view kAdminsOu = "OU=Admins,DC=corp,DC=example,DC=test";
inline constexpr std::string_view kServiceOu = "OU=ServiceAccounts,DC=corp,DC=example,DC=test";
inline constexpr std::string_view kActionAccount = "svc-cordon";
inline constexpr std::string_view kBulkPrefix = "bulk";
inline constexpr int kBulkCount = 1000;
inline constexpr int kBulkDigits = 4;
// Staff users on which a forced password reset forces nothing (AD accepts
// pwdLastSet = 0, but the user is never made to change the password): one
// whose password never expires (userAccountControl 0x10200), one who must
// sign in with a smart card (0x40200). They are not among StaffUsers().
inline constexpr std::string_view kPasswordNeverExpiresUser = "nora.noexpiry";
inline constexpr std::string_view kSmartcardRequiredUser = "sam.smartcard";
inline constexpr int kPasswordNeverExpiresUac = 0x10200;
inline constexpr int kSmartcardRequiredUac = 0x40200;
// What Provision() seeds, versioned: a snapshot seeded by another version
// (an older Cordon, without the users added since) is provisioned again by
// the next Up(). Raise it whenever the seed changes.
inline constexpr int kSeedVersion = 3;
// The service app the lab registers with its Okta emulator (private_key_jwt).
inline constexpr std::string_view kOktaClientId = "0oa1cordonlab0client";
// The lab's Entra ID tenant and the app registered in it (client secret and
// certificate), served by its Graph emulator.
inline constexpr std::string_view kEntraTenantId = "5f3c2b7e-8a41-4d6b-9c2e-0a1b2c3d4e5f";
inline constexpr std::string_view kEntraClientId = "8d2e6c1a-3b4f-4e7a-9f10-2c3d4e5f6a7b";

// sAMAccountNames of the seeded users.
[[nodiscard]] std::vector<std::string> StaffUsers();
[[nodiscard]] std::vector<std::string> OtherUsers();
[[nodiscard]] std::vector<std::string> DomainAdmins();
// The i-th bulk user, 1-based: BulkUser(1) == "bulk0001".
[[nodiscard]] std::string BulkUser(int i);

// Progress lines for long steps (the CLI prints them on stderr).
using ProgressFn = std::function<void(std::string_view)>;

struct UpReport {
  bool provisioned = false;      // true if this Up() built the snapshot first
  bool already_running = false;  // Start() found the DC running and left it be
  double provision_seconds = 0;
  double start_seconds = 0;  // (restore +) start + wait for LDAPS
  pid_t pid = -1;
  std::filesystem::path lab_json;
};

struct LabState {
  std::filesystem::path dir;
  bool snapshot = false;           // a snapshot of this seed version exists (Up() will be fast)
  bool snapshot_outdated = false;  // a snapshot of another seed exists (Up() provisions again)
  int snapshot_seed = 0;           // the seed version of the snapshot on disk; 0 = none or unversioned
  bool working_copy = false;       // DIR/dc holds a directory Start() can run
  bool running = false;            // the DC process is alive
  bool answering = false;          // LDAPS answers with the CA verified
  pid_t pid = -1;
  std::string ldaps_url;
  int staff_users = 0;
  int bulk_users = 0;
  int other_users = 0;
  int special_users = 0;
  int domain_admins = 0;
};

class Lab {
 public:
  explicit Lab(std::filesystem::path dir, ProgressFn progress = {});

  // Provisions on first use, then restores a clean copy of the snapshot and
  // starts the DC; returns once LDAPS answers. Stops a DC of this DIR that
  // is still running; fails if another program holds the DC ports.
  [[nodiscard]] Result<UpReport> Up();
  // Stops the DC (SIGTERM, then SIGKILL after a grace period) and removes
  // lab.json, which only describes a running lab. Keeps the snapshot; the
  // working copy is replaced by the next Up().
  [[nodiscard]] ::cordon::Status Down();
  // A DC reboot, in two halves. Stop() stops the DC as Down() does and keeps
  // its working copy; Start() starts the DC again on that working copy, as it
  // was left (what was changed in the directory since Up() is still there),
  // and returns once LDAPS answers. Start() on a running DC only rewrites
  // lab.json; without a working copy of the current seed it fails, naming
  // `lab up`.
  [[nodiscard]] ::cordon::Status Stop();
  [[nodiscard]] Result<UpReport> Start();
  [[nodiscard]] Result<LabState> Status() const;
  // Removes the snapshot so that the next Up() provisions from scratch.
  [[nodiscard]] ::cordon::Status Reset();

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // Up() and Start() also start the Okta emulator, as this program (its
  // argv, to which `--dir DIR` is appended): e.g. {"/usr/bin/cordon", "lab",
  // "okta"}. It runs until Down() or Stop(). Without it the lab has no Okta.
  void EnableOkta(std::vector<std::string> serve_argv) { okta_argv_ = std::move(serve_argv); }
  // Likewise the Graph emulator (Entra ID), started after the Okta one, e.g.
  // {"/usr/bin/cordon", "lab", "entra"}. Without it the lab has no Entra ID.
  void EnableEntra(std::vector<std::string> serve_argv) { entra_argv_ = std::move(serve_argv); }

 private:
  [[nodiscard]] ::cordon::Status Provision();
  [[nodiscard]] ::cordon::Status StopRunning();
  // Stops what a failed Up() or Start() had started; returns `cause`.
  [[nodiscard]] Error Abandon(Error cause);
  [[nodiscard]] Result<pid_t> StartDc();
  [[nodiscard]] ::cordon::Status WaitUntilAnswering(pid_t pid);
  [[nodiscard]] ::cordon::Status WriteLabJson() const;
  [[nodiscard]] ::cordon::Status StartOkta();
  [[nodiscard]] ::cordon::Status StopOkta();
  [[nodiscard]] ::cordon::Status StartEntra();
  [[nodiscard]] ::cordon::Status StopEntra();
  void Progress(std::string_view line) const;

  std::filesystem::path dir_;
  ProgressFn progress_;
  std::vector<std::string> okta_argv_;
  std::vector<std::string> entra_argv_;
};

}  // namespace cordon::lab
