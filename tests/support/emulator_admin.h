// OktaAdmin and GraphAdmin: the lab's Okta and Graph emulators as their
// administrators see them, for end-to-end tests that check what a provider
// holds without going through Cordon. Written on okta_wire.h (libcurl), with
// the lab's own credentials (Okta's SSWS token, the Graph app's client
// secret); nothing of Cordon's connectors.
//
// Helpers that set a test's starting state (ResetToDefaults, EnsureActive,
// Restore, Settings, Faults) record a gtest failure when the emulator refuses.
//
// Thread-safety: use an object from one thread at a time.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "support/lab_info.h"
#include "support/okta_wire.h"

namespace cordon::testing {

// Okta's API and the lab routes with the lab's SSWS token.
class OktaAdmin {
 public:
  explicit OktaAdmin(const LabInfo& lab = TheLab());

  WireResponse Send(const std::string& method, const std::string& path, const std::string& body = "") const;
  nlohmann::json User(const std::string& id_or_login) const;
  std::string Status(const std::string& id_or_login) const;  // "" when Okta has no such user
  nlohmann::json Sessions(const std::string& id) const;
  void AddSession(const std::string& id, int oauth_tokens) const;
  void Settings(const nlohmann::json& settings) const;
  void Faults(const nlohmann::json& faults) const;
  // The emulator's defaults (src/lab/okta/README.md); new rate limits also start fresh windows.
  void ResetToDefaults() const;
  // Brings a user back to ACTIVE (from SUSPENDED or DEPROVISIONED) directly.
  void EnsureActive(const std::string& login) const;
  // Creates an ACTIVE user with a password (Okta's create-user call); its id, "" if refused.
  std::string CreateUser(const nlohmann::json& profile, const std::string& password) const;
  // Deactivates and then deletes a user, as Okta's two DELETEs do.
  void DeleteUser(const std::string& id) const;

 private:
  LabOkta lab_;
  std::string token_;
};

// Graph and the lab routes with a token of the lab's app (client secret).
class GraphAdmin {
 public:
  explicit GraphAdmin(const LabInfo& lab = TheLab());

  // Waits out 429s and renews the token on a 401 (a test may have shortened
  // its lifetime), as anyone's reads would.
  WireResponse Send(const std::string& method, const std::string& path, const std::string& body = "");
  nlohmann::json User(const std::string& id_or_upn);
  bool Enabled(const std::string& upn);
  nlohmann::json Risk(const std::string& object_id);
  nlohmann::json Sessions(const std::string& upn);
  void AddSession(const std::string& upn);
  void Settings(const nlohmann::json& settings);
  void Faults(const nlohmann::json& faults);
  nlohmann::json Stats();
  void ClearStats();
  // The emulator's defaults (src/lab/entra/README.md).
  void ResetToDefaults();
  // Enabled, and not marked at risk, directly.
  void Restore(const std::string& upn);
  // Creates a cloud-only user (Graph's create-user call, with User.ReadWrite.All
  // granted to the app for the call and taken back after); its object id, "" if refused.
  std::string CreateUser(const nlohmann::json& user);

  // The application permissions the lab's app holds by default.
  static const nlohmann::json& LabRoles();

 private:
  std::string Token();

  LabEntra lab_;
  std::string token_;
};

}  // namespace cordon::testing
