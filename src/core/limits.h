// The sizes Cordon accepts from a request, in one place: the REST API refuses
// larger input before parsing further, and the ActionService (the door every
// front end goes through) enforces the same bounds again.
//
// Thread-safety: constants.
#pragma once

#include <cstddef>

namespace cordon {

// An account as an analyst names it: sAMAccountName, UPN, SID, GUID, an Okta
// login or an Entra object id all fit with room to spare.
inline constexpr std::size_t kMaxAccountBytes = 256;
inline constexpr std::size_t kMaxReasonBytes = 1024;
// Accounts in one bulk request (one transaction).
inline constexpr std::size_t kMaxBulkAccounts = 10000;
// A requester's name (an API token's name).
inline constexpr std::size_t kMaxActorBytes = 128;
inline constexpr std::size_t kMaxActionIdBytes = 64;

}  // namespace cordon
