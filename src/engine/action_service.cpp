#include "engine/action_service.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>
#include <unordered_set>
#include <utility>

#include "core/catalogue.h"
#include "engine/engine.h"

namespace cordon {
namespace {

constexpr size_t kMaxIdLen = kMaxActionIdBytes;

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

bool HasControlChars(std::string_view s, bool allow_newlines) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (allow_newlines && (c == '\n' || c == '\t' || c == '\r')) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// C1 controls (U+0080..U+009F, e.g. the 8-bit CSI that drives terminals) and
// bidirectional overrides (U+202A..U+202E, U+2066..U+2069, which make a name
// display as another) have no place in an account name. Expects valid UTF-8.
bool HasInvisibleFormatting(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    auto c0 = static_cast<unsigned char>(s[i]);
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c0 == 0xc2 && c1 >= 0x80 && c1 <= 0x9f) return true;
    if (c0 == 0xe2 && i + 2 < s.size()) {
      auto c2 = static_cast<unsigned char>(s[i + 2]);
      if (c1 == 0x80 && c2 >= 0xaa && c2 <= 0xae) return true;
      if (c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9) return true;
    }
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string BulkId() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "bulk_";
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

Status CheckId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLen || HasControlChars(id, false) || !IsValidUtf8(id))
    return Fail(Error::InvalidArgument("the action id is not valid"));
  return {};
}

}  // namespace

ActionService::ActionService(Store& store, Engine* engine, std::set<Provider> configured_providers,
                             ActionServiceOptions options)
    : store_(store), engine_(engine), providers_(std::move(configured_providers)), options_(options) {}

Status ActionService::CheckActor(const Actor& actor) const {
  if (actor.name.empty()) return Fail(Error::InvalidArgument("the requester (actor) is required"));
  if (actor.name.size() > options_.max_actor_len || HasControlChars(actor.name, false) || !IsValidUtf8(actor.name))
    return Fail(Error::InvalidArgument("the requester (actor) name is not valid"));
  if (actor.token_id.size() > kMaxIdLen || HasControlChars(actor.token_id, false) || !IsValidUtf8(actor.token_id))
    return Fail(Error::InvalidArgument("the requester's token id is not valid"));
  return {};
}

TimePoint ActionService::DeadlineFrom(TimePoint now) const {
  if (options_.time_budget.count() <= 0) return TimePoint{};
  return now + options_.time_budget;
}

Status ActionService::CheckReason(std::string_view reason, bool required) const {
  if (required && Trim(reason).empty()) return Fail(Error::InvalidArgument("a reason is required"));
  if (reason.size() > options_.max_reason_len)
    return Fail(
        Error::InvalidArgument("the reason is longer than " + std::to_string(options_.max_reason_len) + " bytes"));
  if (HasControlChars(reason, true) || !IsValidUtf8(reason))
    return Fail(Error::InvalidArgument("the reason contains control characters or invalid UTF-8"));
  return {};
}

void ActionService::WakeEngine() {
  if (engine_ != nullptr) engine_->Wake();
}

Result<std::vector<Action>> ActionService::Submit(const SubmitRequest& request) {
  const std::string provider(ToString(request.provider));
  const std::string type(ToString(request.type));
  if (!CatalogueHas(request.provider, request.type))
    return Fail(Error::InvalidArgument("provider " + provider + " offers no action " + type));
  if (providers_.count(request.provider) == 0)
    return Fail(Error::InvalidArgument("provider " + provider + " is not configured on this server"));
  if (auto s = CheckActor(request.actor); !s) return Fail(s.error());
  if (auto s = CheckReason(request.reason, true); !s) return Fail(s.error());
  if (request.targets.empty()) return Fail(Error::InvalidArgument("at least one target account is required"));
  if (request.targets.size() > options_.max_bulk)
    return Fail(Error::InvalidArgument("a request may name at most " + std::to_string(options_.max_bulk) +
                                       " accounts; this one names " + std::to_string(request.targets.size())));

  if (request.also_on_prem) {
    if (request.provider != Provider::kEntra || request.type != ActionType::kSuspend)
      return Fail(Error::InvalidArgument("alsoOnPrem applies to an entra suspend only (it adds the ad disable of the "
                                         "same person); this request is " +
                                         provider + " " + type));
    if (providers_.count(Provider::kActiveDirectory) == 0)
      return Fail(Error::InvalidArgument("alsoOnPrem needs provider ad, which is not configured on this server"));
  }

  std::vector<NewAction> actions;
  actions.reserve(request.targets.size() * (request.also_on_prem ? 2 : 1));
  // Account names are case-insensitive at every provider (sAMAccountName,
  // UPN, SID and GUID strings, Okta logins), so dedupe ignores ASCII case.
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const std::string& raw = request.targets[i];
    std::string where = request.targets.size() == 1 ? "the target" : "target #" + std::to_string(i + 1);
    if (raw.size() > options_.max_target_len)
      return Fail(
          Error::InvalidArgument(where + " is longer than " + std::to_string(options_.max_target_len) + " bytes"));
    if (HasControlChars(raw, false) || !IsValidUtf8(raw) || HasInvisibleFormatting(raw))
      return Fail(Error::InvalidArgument(where + " contains control characters or invalid UTF-8"));
    std::string_view target = Trim(raw);
    if (target.empty()) return Fail(Error::InvalidArgument(where + " is empty"));
    if (!seen.insert(AsciiLower(target)).second) continue;
    NewAction n;
    n.type = request.type;
    n.provider = request.provider;
    n.target = std::string(target);
    n.requested_by = request.actor.name;
    n.requested_by_token = request.actor.token_id;
    n.reason = request.reason;
    n.max_attempts = options_.max_attempts;
    if (request.also_on_prem) {
      // The on-premises account by the same name: the AD connector resolves
      // a userPrincipalName as readily as a sAMAccountName.
      n.link_group = "person-" + std::to_string(i);
      NewAction on_prem = n;
      on_prem.type = ActionType::kDisable;
      on_prem.provider = Provider::kActiveDirectory;
      actions.push_back(std::move(n));
      actions.push_back(std::move(on_prem));
      continue;
    }
    actions.push_back(std::move(n));
  }
  const size_t people = request.also_on_prem ? actions.size() / 2 : actions.size();
  if (request.bulk || people > 1) {
    std::string bulk = BulkId();
    for (NewAction& n : actions) n.bulk_id = bulk;
  }

  const TimePoint now = Now();
  for (NewAction& n : actions) n.deadline = DeadlineFrom(now);
  auto created = store_.CreateActions(actions, now);
  if (!created) return created;
  WakeEngine();
  return created;
}

Result<Action> ActionService::Cancel(std::string_view id, const Actor& actor, std::string_view reason) {
  if (auto s = CheckId(id); !s) return Fail(s.error());
  if (auto s = CheckActor(actor); !s) return Fail(s.error());
  if (auto s = CheckReason(reason, false); !s) return Fail(s.error());
  return store_.Cancel(id, actor, reason, Now());
}

Status ActionService::Undoable(const Action& original) const {
  const std::string what = std::string(ToString(original.provider)) + " " + std::string(ToString(original.type));
  if (!UndoOf(original.provider, original.type))
    return Fail(Error::FailedPrecondition(what + " cannot be undone (irreversible)"));
  if (original.status != ActionStatus::kSucceeded)
    return Fail(Error::FailedPrecondition("action " + original.id + " is " + std::string(ToString(original.status)) +
                                          "; only a succeeded action can be undone"));
  if (!original.undone_by.empty())
    return Fail(Error::FailedPrecondition("action " + original.id + " was already undone by " + original.undone_by));
  // What the account looked like before the first attempt decides; an
  // action that only ever found its account in the target state changed
  // nothing. (Stores written before observations existed fall back on the
  // last attempt's finding.)
  const bool changed_nothing = original.prior_in_target.value_or(original.already_in_state);
  if (changed_nothing)
    return Fail(Error::FailedPrecondition(
        "action " + original.id + " changed nothing (" +
        (original.prior_state.empty() ? std::string("the account was already in that state")
                                      : "the account was already in that state: " + original.prior_state) +
        "), so there is nothing to undo"));
  if (providers_.count(original.provider) == 0)
    return Fail(Error::FailedPrecondition("provider " + std::string(ToString(original.provider)) +
                                          " is not configured on this server"));
  return {};
}

Result<std::vector<Action>> ActionService::LinkedActions(const Action& original) {
  std::vector<Action> out;
  for (const std::string& id : original.linked_actions) {
    auto linked = store_.GetAction(id);
    if (!linked) return Fail(linked.error());
    out.push_back(std::move(*linked));
  }
  return out;
}

Result<Action> ActionService::Undo(std::string_view id, const Actor& actor, std::string_view reason) {
  auto result = UndoWithLinked(id, actor, reason);
  if (!result) return Fail(result.error());
  if (result->undos.empty()) return Fail(Error::Internal("no undo was created"));
  return std::move(result->undos.front());
}

Result<UndoResult> ActionService::UndoWithLinked(std::string_view id, const Actor& actor, std::string_view reason) {
  if (auto s = CheckId(id); !s) return Fail(s.error());
  if (auto s = CheckActor(actor); !s) return Fail(s.error());
  if (auto s = CheckReason(reason, true); !s) return Fail(s.error());
  auto original = store_.GetAction(id);
  if (!original) return Fail(original.error());
  if (auto s = Undoable(*original); !s) return Fail(s.error());
  auto linked = LinkedActions(*original);
  if (!linked) return Fail(linked.error());

  UndoResult result;
  std::vector<const Action*> reversed{&*original};
  for (const Action& other : *linked) {
    const std::string what = "linked action " + other.id + " (" + std::string(ToString(other.provider)) + " " +
                             std::string(ToString(other.type)) + ")";
    if (!IsTerminal(other.status))
      return Fail(Error::FailedPrecondition(
          "action " + original->id + " is undone together with " + what + ", which is still " +
          std::string(ToString(other.status)) + "; wait for it to finish or cancel it, then ask again"));
    if (auto s = Undoable(other); !s) {
      result.notes.push_back(what + " is left as it is: " + s.error().message);
      continue;
    }
    reversed.push_back(&other);
  }

  const TimePoint now = Now();
  std::vector<NewAction> undos;
  for (const Action* a : reversed) {
    NewAction undo;
    undo.type = *UndoOf(a->provider, a->type);
    undo.provider = a->provider;
    undo.target = a->target;
    undo.account_id = a->account_id;
    undo.requested_by = actor.name;
    undo.requested_by_token = actor.token_id;
    undo.reason = std::string(reason);
    undo.undo_of = a->id;
    undo.max_attempts = options_.max_attempts;
    undo.deadline = DeadlineFrom(now);
    undos.push_back(std::move(undo));
  }
  auto created = store_.CreateUndos(undos, now);
  if (!created) return Fail(created.error());
  result.undos = std::move(*created);
  WakeEngine();
  return result;
}

}  // namespace cordon
