// Turns an LDAP result into a Cordon Error: is it worth retrying, and what
// did the DC say.
//
// The classification is one pure function over the result code, so the
// engine's retry policy for AD is visible in one table (ldap_error.cpp) and
// tested row by row.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace cordon::ad {

// "ldap:50", the form stored in ProviderAnswer::code / Error::provider_code.
[[nodiscard]] std::string ProviderCode(int ldap_result);

// Classifies a failed LDAP result code (anything but LDAP_SUCCESS).
// `context` says what Cordon was doing ("disable CN=...: modify"); the result
// carries the code, retryable flag, provider_code and the DC's diagnostic
// text (e.g. "00002098: SecErr: DSID-..., problem 4003 (INSUFF_ACCESS_RIGHTS)").
[[nodiscard]] Error ClassifyLdapError(int ldap_result, std::string_view diagnostic, std::string_view context);

// True for results after which the connection must be dropped and reopened.
[[nodiscard]] bool IsConnectionLost(int ldap_result);

}  // namespace cordon::ad
