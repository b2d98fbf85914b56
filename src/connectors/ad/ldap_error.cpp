#include "connectors/ad/ldap_error.h"

#include <ldap.h>

namespace cordon::ad {
namespace {

struct Class {
  ErrorCode code;
  bool retryable;
  Blame blame = Blame::kAction;
};

// Why the contested rows are what they are:
// * LDAP_UNWILLING_TO_PERFORM (53): AD uses it for policy refusals
//   ("0000209A: SvcErr: ... problem 5003 (WILL_NOT_PERFORM)"), e.g. a change
//   to a protected object or an attribute it will not let anyone write. A
//   retry gets the same answer, so it fails at once with the DC's words
//   rather than burning attempts and hiding the cause for minutes.
// * LDAP_INVALID_CREDENTIALS (49), LDAP_STRONG_AUTH_REQUIRED (8) and the
//   other authentication results only ever answer the action account's own
//   bind: every action would get the same answer until someone fixes the
//   password (a rotation) or the configuration. The provider's problem, not
//   the action's: the engine pauses AD and probes it, spending no attempts.
// * A DC that cannot be reached, times out, is busy or unavailable, or whose
//   stream breaks is likewise the provider's problem: every action would wait
//   on it the same way.
// * LDAP_NO_SUCH_ATTRIBUTE (16) and LDAP_TYPE_OR_VALUE_EXISTS (20) answer
//   the optimistic delete-old/add-new modify: someone changed the value in
//   between, and a retry re-reads it.
// * LDAP_ENCODING_ERROR/DECODING_ERROR (-3/-4) come from a broken stream and
//   are treated like a lost connection.
Class Classify(int rc) {
  switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_ENCODING_ERROR:
    case LDAP_DECODING_ERROR:
      return {ErrorCode::kUnavailable, true, Blame::kProvider};
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
      return {ErrorCode::kTimeout, true, Blame::kProvider};
    case LDAP_ADMINLIMIT_EXCEEDED:
      return {ErrorCode::kResourceExhausted, true, Blame::kProvider};
    case LDAP_NO_SUCH_ATTRIBUTE:
    case LDAP_TYPE_OR_VALUE_EXISTS:
      return {ErrorCode::kConflict, true};
    case LDAP_INSUFFICIENT_ACCESS:
      return {ErrorCode::kPermissionDenied, false};
    case LDAP_NO_SUCH_OBJECT:
    case LDAP_REFERRAL:
      return {ErrorCode::kNotFound, false};
    case LDAP_CONSTRAINT_VIOLATION:
    case LDAP_INVALID_SYNTAX:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_OBJECT_CLASS_VIOLATION:
    case LDAP_FILTER_ERROR:
      return {ErrorCode::kInvalidArgument, false};
    case LDAP_UNWILLING_TO_PERFORM:
      return {ErrorCode::kFailedPrecondition, false};
    case LDAP_INVALID_CREDENTIALS:
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_AUTH_UNKNOWN:
      return {ErrorCode::kUnauthenticated, true, Blame::kProvider};
    default:
      return {ErrorCode::kInternal, false};
  }
}

}  // namespace

std::string ProviderCode(int ldap_result) { return "ldap:" + std::to_string(ldap_result); }

Error ClassifyLdapError(int ldap_result, std::string_view diagnostic, std::string_view context) {
  Class c = Classify(ldap_result);
  std::string message(context);
  if (!message.empty()) message += ": ";
  message += ldap_err2string(ldap_result);
  message += " (" + std::to_string(ldap_result) + ")";
  if (!diagnostic.empty()) {
    message += " ";
    message += diagnostic;
  }
  Error e;
  e.code = c.code;
  e.message = std::move(message);
  e.retryable = c.retryable;
  e.blame = c.blame;
  return std::move(e).WithProvider(ProviderCode(ldap_result), std::string(diagnostic));
}

bool IsConnectionLost(int ldap_result) {
  return ldap_result == LDAP_SERVER_DOWN || ldap_result == LDAP_CONNECT_ERROR || ldap_result == LDAP_TIMEOUT ||
         ldap_result == LDAP_ENCODING_ERROR || ldap_result == LDAP_DECODING_ERROR;
}

}  // namespace cordon::ad
