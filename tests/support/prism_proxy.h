// PrismProxy: Stoplight Prism (the copy scripts/install-deps.sh puts in
// tools/prism) as a validating proxy between a client under test and an HTTP
// server, checking both sides against an OpenAPI description — by default
// Okta's own (specs/okta/okta-management-users.yaml).
//
// It runs `prism proxy SPEC UPSTREAM --errors --host 127.0.0.1 --port P` as a
// child process (plain HTTP on loopback; Prism speaks no TLS towards the
// client), waits until Prism says it listens, and keeps its log in a temp dir.
// With --errors Prism answers a request that breaks the description with 422
// (problem+json, type .../errors#UNPROCESSABLE_ENTITY) without forwarding it,
// and replaces an upstream answer that breaks it with 500 (type
// .../errors#VIOLATIONS, the details also in an `sl-violations` header). Its
// log names each such exchange in one line:
//   [8:49:07 AM] › [HTTP SERVER] get /api/v1/users/x ✖  error     Request terminated with error: https://stoplight.io/prism/errors#VIOLATIONS: Request/Response not valid
// Some breaches Prism only warns about and lets through (an answer whose
// status the operation does not list, for one), in a line of its own after
// the exchange, without method or path:
//   [9:02:39 AM] ›     [VALIDATOR] ⚠  warning   Violation: response Unable to match the returned status code with those defined in the document: 200,403,404,429
// Violations() reads both kinds of line. A warning about an answer takes its
// path and status from Prism's latest "The upstream call to PATH has returned
// N" line before it (with exchanges in flight at once, the latest to come
// back), one about a request the path of the latest request received;
// ParseProblem() reads the details from a refused answer's body. The child is
// stopped when the PrismProxy dies.
//
// Prism logs at level info: debug would copy every request's Authorization
// header into the log.
//
// Thread-safety: use one PrismProxy from one thread at a time; ParseProblem()
// is reentrant.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/subprocess.h"
#include "support/temp_dir.h"

namespace cordon::testing {

struct PrismOptions {
  std::string spec;          // empty: Okta's description in specs/okta
  std::string upstream_url;  // e.g. "http://127.0.0.1:41234" or an https:// URL
  // An https:// upstream's CA (PEM), trusted by Prism in addition to Node's
  // own bundle (NODE_EXTRA_CA_CERTS); empty: Node's bundle only.
  std::string upstream_ca_file;
  std::string prism;         // empty: tools/prism/node_modules/.bin/prism
  std::chrono::milliseconds start_timeout{std::chrono::seconds(60)};
};

// One breach of the description Prism logged: an exchange it refused, or
// one it warned about and let through.
struct PrismViolation {
  enum class Side {
    kRequest,   // UNPROCESSABLE_ENTITY: the client's request breaks the description (422, not forwarded)
    kResponse,  // VIOLATIONS: the upstream's answer breaks it (500)
    kRoute,     // NO_PATH_MATCHED_ERROR / NO_METHOD_MATCHED_ERROR: the description has no such operation
    kOther,     // any other error (e.g. the upstream unreachable or its certificate not trusted: "FetchError")
  };
  Side side = Side::kOther;
  std::string method;  // lower case, as Prism logs it: "get"
  std::string path;    // without the query
  std::string type;    // Prism's error name, e.g. "VIOLATIONS"; "WARNING" for a warning
  bool refused = true;  // false: a warning, the exchange went through unchanged
  int status = 0;       // a warning about an answer: the upstream's status; else 0
  std::string message;  // a warning's text after "Violation: request|response "
  std::string line;     // the whole log line
};

// One entry of the `validation` array of a Prism problem document.
struct PrismValidation {
  std::string location;  // e.g. "response.body.status", "query.sendemail"
  std::string code;      // e.g. "enum", "type", "required"
  std::string message;
};

class PrismProxy {
 public:
  [[nodiscard]] static Result<std::unique_ptr<PrismProxy>> Start(const PrismOptions& options);
  ~PrismProxy();
  PrismProxy(const PrismProxy&) = delete;
  PrismProxy& operator=(const PrismProxy&) = delete;

  // Where clients send their requests: "http://127.0.0.1:PORT".
  [[nodiscard]] const std::string& base_url() const { return base_url_; }
  // Everything Prism wrote so far (stdout and stderr).
  [[nodiscard]] std::string Output() const;
  // Every refusal and warning Prism logged so far, in order.
  [[nodiscard]] std::vector<PrismViolation> Violations() const;
  // Waits (up to `timeout`) until Prism has logged more than `seen` refused
  // exchanges or warnings — it logs a line just after it answers — and
  // returns them all.
  [[nodiscard]] std::vector<PrismViolation> WaitForViolations(std::size_t seen,
                                                              std::chrono::milliseconds timeout) const;

  // The `validation` entries of a Prism problem document; empty if `body` is not one.
  [[nodiscard]] static std::vector<PrismValidation> ParseProblem(std::string_view body);
  // Parses one log line; Side::kOther with an empty type if it reports no
  // refusal or warning. A warning's method, path and status are not in its
  // line: Violations() fills them in.
  [[nodiscard]] static PrismViolation ParseLogLine(std::string_view line);

  // The installed Prism and Okta's description in the source tree.
  [[nodiscard]] static std::string DefaultPrism();
  [[nodiscard]] static std::string OktaSpec();

 private:
  PrismProxy() : dir_("cordon-prism") {}
  TempDir dir_;
  Process process_;
  std::string base_url_;
};

}  // namespace cordon::testing
