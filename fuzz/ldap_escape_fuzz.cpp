// libFuzzer harness for the AD connector's filter building
// (src/connectors/ad/account_filter.h): whatever the account name, the
// escaped value holds no filter metacharacter and unescapes to the input,
// the account filter stays one balanced expression, and SID/GUID parsing
// round-trips.
//
// Built and run by `make fuzz` (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "connectors/ad/account_filter.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string Unescape(std::string_view escaped) {
  std::string out;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      out.push_back(escaped[i]);
      continue;
    }
    Check(i + 2 < escaped.size());
    int hi = Hex(escaped[i + 1]), lo = Hex(escaped[i + 2]);
    Check(hi >= 0 && lo >= 0);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Parentheses balance outside escapes, and the filter is one expression.
void CheckBalanced(std::string_view filter) {
  int depth = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    char c = filter[i];
    Check(c != '\0');
    if (c == '(') ++depth;
    if (c == ')') {
      --depth;
      Check(depth >= 0);
      if (depth == 0) Check(i + 1 == filter.size());
    }
  }
  Check(depth == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace cordon::ad;

  std::string escaped = EscapeFilterValue(input);
  for (char c : escaped) {
    Check(c != '*' && c != '(' && c != ')' && c != '\0');
    Check(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  }
  Check(Unescape(escaped) == input);

  if (auto id = ParseAccountId(input)) {
    CheckBalanced(AccountFilter(*id));
    if (id->kind == AccountIdKind::kObjectSid) Check(*FormatSid(id->binary) == id->canonical);
    if (id->kind == AccountIdKind::kObjectGuid) Check(*FormatGuid(id->binary) == id->canonical);
  }
  // ParseSid accepts revision 1 only; FormatSid prints any revision.
  if (auto sid = FormatSid(input); sid && input[0] == 1) {
    auto back = ParseSid(*sid);
    Check(back.has_value() && *back == input);
  }
  if (auto guid = FormatGuid(input)) Check(*ParseGuid(*guid) == input);
  return 0;
}
