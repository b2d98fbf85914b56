#include "connectors/ad/ldap_error.h"

#include <gtest/gtest.h>
#include <ldap.h>

namespace cordon::ad {
namespace {

struct Row {
  int code;
  ErrorCode expected;
  bool retryable;
  Blame blame = Blame::kAction;
};

constexpr Blame kDc = Blame::kProvider;

TEST(ClassifyLdapError, FollowsTheRetryPolicyTable) {
  const Row rows[] = {
      {LDAP_SERVER_DOWN, ErrorCode::kUnavailable, true, kDc},
      {LDAP_CONNECT_ERROR, ErrorCode::kUnavailable, true, kDc},
      {LDAP_BUSY, ErrorCode::kUnavailable, true, kDc},
      {LDAP_UNAVAILABLE, ErrorCode::kUnavailable, true, kDc},
      {LDAP_ENCODING_ERROR, ErrorCode::kUnavailable, true, kDc},
      {LDAP_DECODING_ERROR, ErrorCode::kUnavailable, true, kDc},
      {LDAP_TIMEOUT, ErrorCode::kTimeout, true, kDc},
      {LDAP_TIMELIMIT_EXCEEDED, ErrorCode::kTimeout, true, kDc},
      {LDAP_ADMINLIMIT_EXCEEDED, ErrorCode::kResourceExhausted, true, kDc},
      {LDAP_NO_SUCH_ATTRIBUTE, ErrorCode::kConflict, true},
      {LDAP_TYPE_OR_VALUE_EXISTS, ErrorCode::kConflict, true},
      {LDAP_INSUFFICIENT_ACCESS, ErrorCode::kPermissionDenied, false},
      {LDAP_NO_SUCH_OBJECT, ErrorCode::kNotFound, false},
      {LDAP_REFERRAL, ErrorCode::kNotFound, false},
      {LDAP_CONSTRAINT_VIOLATION, ErrorCode::kInvalidArgument, false},
      {LDAP_INVALID_SYNTAX, ErrorCode::kInvalidArgument, false},
      {LDAP_FILTER_ERROR, ErrorCode::kInvalidArgument, false},
      {LDAP_UNWILLING_TO_PERFORM, ErrorCode::kFailedPrecondition, false},
      {LDAP_INVALID_CREDENTIALS, ErrorCode::kUnauthenticated, true, kDc},
      {LDAP_STRONG_AUTH_REQUIRED, ErrorCode::kUnauthenticated, true, kDc},
      {LDAP_INAPPROPRIATE_AUTH, ErrorCode::kUnauthenticated, true, kDc},
      {LDAP_OTHER, ErrorCode::kInternal, false},
      {LDAP_OPERATIONS_ERROR, ErrorCode::kInternal, false},
      {LDAP_LOCAL_ERROR, ErrorCode::kInternal, false},
  };
  for (const Row& r : rows) {
    Error e = ClassifyLdapError(r.code, "", "");
    EXPECT_EQ(e.code, r.expected) << "ldap " << r.code;
    EXPECT_EQ(e.retryable, r.retryable) << "ldap " << r.code;
    EXPECT_EQ(e.blame, r.blame) << "ldap " << r.code;
    EXPECT_EQ(e.provider_code, "ldap:" + std::to_string(r.code));
  }
}

TEST(ClassifyLdapError, KeepsTheDcsWordsAndTheContext) {
  const char* diag =
      "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0";
  Error e = ClassifyLdapError(LDAP_INSUFFICIENT_ACCESS, diag, "disable CN=Administrator,CN=Users");
  EXPECT_EQ(e.provider_code, "ldap:50");
  EXPECT_EQ(e.provider_detail, diag);
  EXPECT_NE(e.message.find("disable CN=Administrator,CN=Users"), std::string::npos);
  EXPECT_NE(e.message.find("INSUFF_ACCESS_RIGHTS"), std::string::npos);
  EXPECT_NE(e.message.find("(50)"), std::string::npos);
}

TEST(IsConnectionLost, OnlyForTransportFailures) {
  EXPECT_TRUE(IsConnectionLost(LDAP_SERVER_DOWN));
  EXPECT_TRUE(IsConnectionLost(LDAP_CONNECT_ERROR));
  EXPECT_TRUE(IsConnectionLost(LDAP_TIMEOUT));
  EXPECT_FALSE(IsConnectionLost(LDAP_INSUFFICIENT_ACCESS));
  EXPECT_FALSE(IsConnectionLost(LDAP_BUSY));
  EXPECT_FALSE(IsConnectionLost(LDAP_SUCCESS));
}

}  // namespace
}  // namespace cordon::ad
