// libFuzzer harness for RFC 3339 parsing (src/core/action.h), used on query
// parameters such as createdAfter: whatever the text, ParseTime returns
// rather than crashes; a time it accepts is printed back by FormatTime as the
// same calendar time (date and clock fields as written, the fraction cut to
// milliseconds), and what FormatTime prints parses to the same instant.
//
// Built and run by `make fuzz` (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/action.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = cordon::ParseTime(input);
  if (!parsed) return 0;

  const std::string printed = cordon::FormatTime(*parsed);
  // "YYYY-MM-DDTHH:MM:SS" as written, but for the case of the 'T'.
  Check(input.size() >= 20 && printed.size() == 24);
  for (size_t i = 0; i < 19; ++i) Check(i == 10 ? printed[i] == 'T' : printed[i] == input[i]);
  // The fraction, cut (never rounded) to milliseconds.
  std::string millis = "000";
  if (input[19] == '.')
    for (size_t i = 0; i < 3 && 20 + i < input.size() && input[20 + i] >= '0' && input[20 + i] <= '9'; ++i)
      millis[i] = input[20 + i];
  Check(printed.substr(19) == "." + millis + "Z");

  const auto again = cordon::ParseTime(printed);
  Check(again.has_value() && *again == *parsed);
  return 0;
}
