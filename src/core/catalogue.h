// The action catalogue: which provider offers which response action, which
// action reverses it, and what that reverse does not bring back. Who may run an action is a separate question
// (authz/permissions.h); what an action does on the wire is the connector's.
//
// Thread-safety: constant data and pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/action.h"

namespace cordon {

struct CatalogueEntry {
  Provider provider;
  ActionType type;
  std::optional<ActionType> undo;  // none: irreversible (say so to the analyst)
  // What the undo does not restore, in the analyst's words; empty when it
  // puts the account back as it was. An action with limits is confirmed
  // before it is asked for (the CLI prompts, or wants --yes).
  std::string_view undo_limits = {};
  // Carried out by Cordon alone: the provider has nothing of its own to
  // change (an AD or Okta account marked compromised gets Cordon's own risk
  // level only). The engine resolves the account with the connector's Lookup
  // and never calls Execute for it.
  bool cordon_only = false;
  // What the action does, where, in the analyst's words, for the dialog that
  // confirms it; "{account}" stands for the account (WhatItDoes fills it in).
  std::string_view what = {};
};

// Every offered (provider, action), in the order the console lists them.
[[nodiscard]] std::span<const CatalogueEntry> Catalogue();

// Does `provider` offer `type` at all?
[[nodiscard]] bool CatalogueHas(Provider provider, ActionType type);

// The action that reverses `type` at `provider`, if the catalogue offers both.
[[nodiscard]] std::optional<ActionType> UndoOf(Provider provider, ActionType type);

// Is `type` at `provider` carried out by Cordon alone (CatalogueEntry::cordon_only)?
[[nodiscard]] bool IsCordonOnly(Provider provider, ActionType type);

// What running `type` at `provider` on `account` does (CatalogueEntry::what
// with the account named); empty when the catalogue does not offer it.
[[nodiscard]] std::string WhatItDoes(Provider provider, ActionType type, std::string_view account);

// What that undo does not bring back; empty when it restores everything, and
// when there is no undo.
[[nodiscard]] std::string_view UndoLimitsOf(Provider provider, ActionType type);

}  // namespace cordon
