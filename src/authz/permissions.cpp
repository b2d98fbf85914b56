#include "authz/permissions.h"

#include <array>
#include <initializer_list>
#include <utility>

namespace cordon {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 5> kRoleNames{{
    {Role::kSecurityReader, "security_reader"},
    {Role::kResponseManager, "response_manager"},
    {Role::kSecurityOperator, "security_operator"},
    {Role::kSecurityAdministrator, "security_administrator"},
    {Role::kGlobalAdministrator, "global_administrator"},
}};

// Who may run an action, by row of the catalogue.
enum class Tier {
  kResponse,       // Response (manage), Security Operator, Security Administrator, Global Administrator
  kSecurityAdmin,  // Security Administrator, Global Administrator
  kGlobalAdmin,    // Global Administrator
};

// Provider x action -> tier, for the entries of the catalogue (core/catalogue.h).
std::optional<Tier> TierOf(Provider provider, ActionType type) {
  if (!CatalogueHas(provider, type)) return std::nullopt;
  switch (provider) {
    case Provider::kActiveDirectory:
      switch (type) {
        case ActionType::kDisable:
        case ActionType::kEnable:
        case ActionType::kForcePasswordReset:
        case ActionType::kClearPasswordReset: return Tier::kResponse;
        // Cordon's own risk level, as Entra's: Security Administrator and up.
        case ActionType::kMarkCompromised:
        case ActionType::kDismissRisk: return Tier::kSecurityAdmin;
        default: return std::nullopt;
      }
    case Provider::kEntra:
      switch (type) {
        case ActionType::kMarkCompromised:
        case ActionType::kDismissRisk: return Tier::kSecurityAdmin;
        case ActionType::kSuspend:
        case ActionType::kUnsuspend:
        case ActionType::kRevokeSessions: return Tier::kGlobalAdmin;
        default: return std::nullopt;
      }
    case Provider::kOkta:
      switch (type) {
        case ActionType::kSuspend:
        case ActionType::kUnsuspend:
        case ActionType::kDeactivate:
        case ActionType::kActivate:
        case ActionType::kRevokeSessions: return Tier::kResponse;
        case ActionType::kMarkCompromised:
        case ActionType::kDismissRisk: return Tier::kSecurityAdmin;
        default: return std::nullopt;
      }
  }
  return std::nullopt;
}

bool RoleHasTier(Role role, Tier tier) {
  switch (tier) {
    case Tier::kResponse:
      return role == Role::kResponseManager || role == Role::kSecurityOperator ||
             role == Role::kSecurityAdministrator || role == Role::kGlobalAdministrator;
    case Tier::kSecurityAdmin:
      return role == Role::kSecurityAdministrator || role == Role::kGlobalAdministrator;
    case Tier::kGlobalAdmin:
      return role == Role::kGlobalAdministrator;
  }
  return false;
}

}  // namespace

std::string_view ToString(Role r) {
  for (const auto& [role, name] : kRoleNames)
    if (role == r) return name;
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view s) {
  for (const auto& [role, name] : kRoleNames)
    if (name == s) return role;
  return std::nullopt;
}

bool MayRun(Role role, Provider provider, ActionType type) {
  const auto tier = TierOf(provider, type);
  return tier && RoleHasTier(role, *tier);
}

bool MaySyncInventory(Role role) { return role != Role::kSecurityReader; }

}  // namespace cordon
