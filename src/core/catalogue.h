// The action catalogue: which provider offers which response action, and
// which action reverses it. Who may run an action is a separate question
// (authz/permissions.h); what an action does on the wire is the connector's.
//
// Thread-safety: constant data and pure functions.
#pragma once

#include <optional>
#include <span>

#include "core/action.h"

namespace cordon {

struct CatalogueEntry {
  Provider provider;
  ActionType type;
  std::optional<ActionType> undo;  // none: irreversible (say so to the analyst)
};

// Every offered (provider, action), in the order the console lists them.
[[nodiscard]] std::span<const CatalogueEntry> Catalogue();

// Does `provider` offer `type` at all?
[[nodiscard]] bool CatalogueHas(Provider provider, ActionType type);

// The action that reverses `type` at `provider`, if the catalogue offers both.
[[nodiscard]] std::optional<ActionType> UndoOf(Provider provider, ActionType type);

}  // namespace cordon
