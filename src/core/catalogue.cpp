#include "core/catalogue.h"

#include <array>

namespace cordon {
namespace {

using enum ActionType;

constexpr std::array<CatalogueEntry, 14> kCatalogue{{
    {Provider::kActiveDirectory, kDisable, kEnable},
    {Provider::kActiveDirectory, kEnable, kDisable},
    {Provider::kActiveDirectory, kForcePasswordReset, kClearPasswordReset},
    {Provider::kActiveDirectory, kClearPasswordReset, kForcePasswordReset},
    {Provider::kEntra, kSuspend, kUnsuspend},
    {Provider::kEntra, kUnsuspend, kSuspend},
    {Provider::kEntra, kRevokeSessions, std::nullopt},
    {Provider::kEntra, kMarkCompromised, kDismissRisk},
    {Provider::kEntra, kDismissRisk, kMarkCompromised},
    {Provider::kOkta, kSuspend, kUnsuspend},
    {Provider::kOkta, kUnsuspend, kSuspend},
    {Provider::kOkta, kDeactivate, kActivate},
    {Provider::kOkta, kActivate, kDeactivate},
    {Provider::kOkta, kRevokeSessions, std::nullopt},
}};

const CatalogueEntry* Find(Provider provider, ActionType type) {
  for (const CatalogueEntry& e : kCatalogue)
    if (e.provider == provider && e.type == type) return &e;
  return nullptr;
}

}  // namespace

std::span<const CatalogueEntry> Catalogue() { return kCatalogue; }

bool CatalogueHas(Provider provider, ActionType type) { return Find(provider, type) != nullptr; }

std::optional<ActionType> UndoOf(Provider provider, ActionType type) {
  const CatalogueEntry* e = Find(provider, type);
  if (e == nullptr || !e->undo || !CatalogueHas(provider, *e->undo)) return std::nullopt;
  return e->undo;
}

}  // namespace cordon
