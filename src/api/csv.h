// CSV as RFC 4180 writes it, made safe to open in a spreadsheet: a cell that
// a spreadsheet would read as a formula (it begins with =, +, -, @, a tab or
// a carriage return) is prefixed with an apostrophe, so that an account name
// or a reason an attacker chose cannot run as a formula on the analyst's
// machine. Used by GET /api/v1/actions/export.
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace cordon::api {

// One cell: neutralised, then quoted when it holds a comma, a quote, CR or LF.
[[nodiscard]] std::string CsvCell(std::string_view value);

// Appends one record, cells separated by commas, ended by CRLF.
void AppendCsvRecord(std::string& out, std::span<const std::string> cells);

}  // namespace cordon::api
