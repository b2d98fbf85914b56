#include "api/graph_mapping.h"

#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace cordon::api {
namespace {

struct ActionName {
  GraphAction action;
  std::string_view name;
};

constexpr std::array<ActionName, 6> kActionNames{{
    {GraphAction::kDisable, "disable"},
    {GraphAction::kEnable, "enable"},
    {GraphAction::kForcePasswordReset, "forcePasswordReset"},
    {GraphAction::kRevokeAllSessions, "revokeAllSessions"},
    {GraphAction::kRequireUserToSignInAgain, "requireUserToSignInAgain"},
    {GraphAction::kMarkUserAsCompromised, "markUserAsCompromised"},
}};

struct Mapping {
  GraphAction action;
  Provider provider;
  ActionType type;
};

constexpr std::array<Mapping, 11> kMappings{{
    {GraphAction::kDisable, Provider::kActiveDirectory, ActionType::kDisable},
    {GraphAction::kDisable, Provider::kEntra, ActionType::kSuspend},
    {GraphAction::kDisable, Provider::kOkta, ActionType::kSuspend},
    {GraphAction::kEnable, Provider::kActiveDirectory, ActionType::kEnable},
    {GraphAction::kEnable, Provider::kEntra, ActionType::kUnsuspend},
    {GraphAction::kEnable, Provider::kOkta, ActionType::kUnsuspend},
    {GraphAction::kForcePasswordReset, Provider::kActiveDirectory, ActionType::kForcePasswordReset},
    {GraphAction::kRevokeAllSessions, Provider::kEntra, ActionType::kRevokeSessions},
    {GraphAction::kRevokeAllSessions, Provider::kOkta, ActionType::kRevokeSessions},
    {GraphAction::kRequireUserToSignInAgain, Provider::kEntra, ActionType::kRevokeSessions},
    {GraphAction::kMarkUserAsCompromised, Provider::kEntra, ActionType::kMarkCompromised},
}};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view ToString(GraphAction action) {
  for (const ActionName& n : kActionNames)
    if (n.action == action) return n.name;
  return "unknownFutureValue";
}

std::optional<GraphAction> ParseGraphAction(std::string_view s) {
  for (const ActionName& n : kActionNames)
    if (n.name == s) return n.action;
  return std::nullopt;
}

std::string_view GraphProviderName(Provider provider) {
  switch (provider) {
    case Provider::kActiveDirectory: return "activeDirectory";
    case Provider::kEntra: return "entraID";
    case Provider::kOkta: return "okta";
  }
  return "unknownFutureValue";
}

std::optional<Provider> ParseGraphProvider(std::string_view s) {
  for (const Provider p : kAllProviders)
    if (GraphProviderName(p) == s) return p;
  return std::nullopt;
}

std::optional<ActionType> CordonActionFor(GraphAction action, Provider provider) {
  for (const Mapping& m : kMappings)
    if (m.action == action && m.provider == provider) return m.type;
  return std::nullopt;
}

std::vector<GraphAction> GraphActionsAt(Provider provider) {
  std::vector<GraphAction> out;
  for (const GraphAction a : kAllGraphActions)
    if (CordonActionFor(a, provider)) out.push_back(a);
  return out;
}

std::string KnownGraphActions() {
  std::string out;
  for (const ActionName& n : kActionNames) out += (out.empty() ? "" : ", ") + std::string(n.name);
  return out;
}

std::string KnownGraphProviders() {
  std::string out;
  for (const Provider p : kAllProviders) out += (out.empty() ? "" : ", ") + std::string(GraphProviderName(p));
  return out;
}

std::optional<std::string> CloudSecurityIdentifier(std::string_view object_id) {
  // 8-4-4-4-12 hex digits; the first three groups are stored little-endian
  // by Guid.ToByteArray, the last two as written.
  if (object_id.size() != 36) return std::nullopt;
  std::array<uint8_t, 16> text_order{};
  size_t n = 0;
  for (size_t i = 0; i < object_id.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (object_id[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexDigit(object_id[i]);
    const int lo = HexDigit(object_id[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    text_order[n++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  const std::array<uint8_t, 16> bytes{text_order[3],  text_order[2],  text_order[1],  text_order[0],
                                      text_order[5],  text_order[4],  text_order[7],  text_order[6],
                                      text_order[8],  text_order[9],  text_order[10], text_order[11],
                                      text_order[12], text_order[13], text_order[14], text_order[15]};
  std::array<uint32_t, 4> parts{};
  for (size_t k = 0; k < 4; ++k)
    parts[k] = static_cast<uint32_t>(bytes[4 * k]) | static_cast<uint32_t>(bytes[4 * k + 1]) << 8 |
               static_cast<uint32_t>(bytes[4 * k + 2]) << 16 | static_cast<uint32_t>(bytes[4 * k + 3]) << 24;
  return fmt::format("S-1-12-1-{}-{}-{}-{}", parts[0], parts[1], parts[2], parts[3]);
}

}  // namespace cordon::api
