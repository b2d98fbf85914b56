#include "api/graph_query.h"

#include <algorithm>
#include <cctype>

namespace cordon::api {
namespace {

constexpr std::string_view kFilterHelp =
    "Invalid filter clause: this API filters on displayName (eq, startswith) and domain (eq), joined by 'and', "
    "with values as OData string literals such as 'Alice'";

Error BadFilter() { return Error::InvalidArgument(std::string(kFilterHelp)); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

enum class TokenKind { kEnd, kWord, kString, kOpen, kClose, kComma };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // a word as written, or a string literal's value
};

// A recursive-descent reader of the grammar
//   filter := term ('and' term)*
//   term   := '(' filter ')' | property 'eq' string | 'startswith' '(' property ',' string ')'
// Words are compared ignoring case, as Graph does.
class FilterReader {
 public:
  explicit FilterReader(std::string_view text) : text_(text) {}

  Result<GraphFilter> Read() {
    if (auto st = Next(); !st) return Fail(st.error());
    if (auto st = Filter(0); !st) return Fail(st.error());
    if (token_.kind != TokenKind::kEnd) return Fail(BadFilter());
    return out_;
  }

 private:
  Status Filter(int depth) {
    if (depth > kGraphMaxFilterDepth) return Fail(BadFilter());
    for (;;) {
      if (auto st = Term(depth); !st) return st;
      if (token_.kind != TokenKind::kWord || !EqualsNoCase(token_.text, "and")) return {};
      if (auto st = Next(); !st) return st;
    }
  }

  Status Term(int depth) {
    if (token_.kind == TokenKind::kOpen) {
      if (auto st = Next(); !st) return st;
      if (auto st = Filter(depth + 1); !st) return st;
      return Expect(TokenKind::kClose);
    }
    if (token_.kind != TokenKind::kWord) return Fail(BadFilter());
    if (EqualsNoCase(token_.text, "startswith")) {
      if (auto st = Next(); !st) return st;
      if (auto st = Expect(TokenKind::kOpen); !st) return st;
      if (token_.kind != TokenKind::kWord || !EqualsNoCase(token_.text, "displayName"))
        return Fail(Error::InvalidArgument(
            "Invalid filter clause: startswith applies to displayName only, e.g. startswith(displayName,'Al')"));
      if (auto st = Next(); !st) return st;
      if (auto st = Expect(TokenKind::kComma); !st) return st;
      auto value = Literal();
      if (!value) return Fail(value.error());
      if (auto st = Expect(TokenKind::kClose); !st) return st;
      return Set(out_.display_name_prefix, std::move(*value));
    }
    std::optional<std::string>* slot = nullptr;
    if (EqualsNoCase(token_.text, "displayName")) {
      slot = &out_.display_name;
    } else if (EqualsNoCase(token_.text, "domain")) {
      slot = &out_.domain;
    } else {
      return Fail(BadFilter());
    }
    if (auto st = Next(); !st) return st;
    if (token_.kind != TokenKind::kWord || !EqualsNoCase(token_.text, "eq"))
      return Fail(Error::InvalidArgument(
          "Invalid filter clause: displayName and domain are compared with 'eq' only (and displayName with "
          "startswith)"));
    if (auto st = Next(); !st) return st;
    auto value = Literal();
    if (!value) return Fail(value.error());
    return Set(*slot, std::move(*value));
  }

  static Status Set(std::optional<std::string>& slot, std::string value) {
    if (slot)
      return Fail(Error::InvalidArgument("Invalid filter clause: each condition may appear once in a filter"));
    slot = std::move(value);
    return {};
  }

  Result<std::string> Literal() {
    if (token_.kind != TokenKind::kString) return Fail(BadFilter());
    std::string value = std::move(token_.text);
    if (auto st = Next(); !st) return Fail(st.error());
    return value;
  }

  Status Expect(TokenKind kind) {
    if (token_.kind != kind) return Fail(BadFilter());
    return Next();
  }

  Status Next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    token_ = Token{};
    if (pos_ == text_.size()) return {};
    const char c = text_[pos_];
    if (c == '(' || c == ')' || c == ',') {
      token_.kind = c == '(' ? TokenKind::kOpen : c == ')' ? TokenKind::kClose : TokenKind::kComma;
      ++pos_;
      return {};
    }
    if (c == '\'') {
      ++pos_;
      token_.kind = TokenKind::kString;
      for (;;) {
        if (pos_ == text_.size())
          return Fail(Error::InvalidArgument("Invalid filter clause: a string literal is not closed"));
        const char s = text_[pos_++];
        if (IsControl(s))
          return Fail(Error::InvalidArgument("Invalid filter clause: a string literal holds a control character"));
        if (s != '\'') {
          token_.text += s;
          continue;
        }
        // OData writes a quote inside a literal as two quotes.
        if (pos_ < text_.size() && text_[pos_] == '\'') {
          token_.text += '\'';
          ++pos_;
          continue;
        }
        return {};
      }
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      token_.kind = TokenKind::kWord;
      while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) token_.text += text_[pos_++];
      return {};
    }
    return Fail(BadFilter());
  }

  std::string_view text_;
  size_t pos_ = 0;
  Token token_;
  GraphFilter out_;
};

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Error UnsupportedOption(std::string_view supported) {
  return Error::InvalidArgument("Unsupported query option; this request supports " + std::string(supported));
}

}  // namespace

Result<GraphFilter> ParseGraphFilter(std::string_view text) { return FilterReader(text).Read(); }

Result<std::vector<std::string>> ParseGraphSelect(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const auto known = std::find_if(std::begin(kIdentityAccountsProperties), std::end(kIdentityAccountsProperties),
                                    [&](std::string_view p) { return EqualsNoCase(p, name); });
    if (known == std::end(kIdentityAccountsProperties))
      return Fail(Error::InvalidArgument(
          "Parsing OData Select and Expand failed: $select names a property that "
          "microsoft.graph.security.identityAccounts does not have; it has id, displayName, domain, isEnabled, "
          "onPremisesSecurityIdentifier, cloudSecurityIdentifier, accounts"));
    if (std::find(out.begin(), out.end(), *known) == out.end()) out.emplace_back(*known);
    if (comma == std::string_view::npos) return out;
    text = text.substr(comma + 1);
  }
}

Result<GraphListQuery> ParseGraphListQuery(const std::map<std::string, std::string>& params, size_t max_skiptoken) {
  GraphListQuery query;
  for (const auto& [key, value] : params) {
    if (key == "$filter") {
      auto filter = ParseGraphFilter(value);
      if (!filter) return Fail(std::move(filter.error()));
      query.filter = std::move(*filter);
    } else if (key == "$top") {
      if (!IsDigits(value) || value.size() > 4 || std::stoi(value) < 1 || std::stoi(value) > kGraphMaxTop)
        return Fail(Error::InvalidArgument("Invalid page size specified. Must be between 1 and " +
                                           std::to_string(kGraphMaxTop) + " inclusive."));
      query.top = std::stoi(value);
    } else if (key == "$skiptoken") {
      if (value.empty() || value.size() > max_skiptoken)
        return Fail(Error::InvalidArgument("The $skiptoken is not one this server issued; follow @odata.nextLink"));
      query.skiptoken = value;
    } else if (key == "$select") {
      auto select = ParseGraphSelect(value);
      if (!select) return Fail(std::move(select.error()));
      query.select = std::move(*select);
    } else {
      return Fail(UnsupportedOption("$filter, $top, $select and $skiptoken"));
    }
  }
  return query;
}

Result<std::vector<std::string>> ParseGraphGetQuery(const std::map<std::string, std::string>& params) {
  std::vector<std::string> select;
  for (const auto& [key, value] : params) {
    if (key != "$select") return Fail(UnsupportedOption("$select"));
    auto parsed = ParseGraphSelect(value);
    if (!parsed) return Fail(std::move(parsed.error()));
    select = std::move(*parsed);
  }
  return select;
}

std::string ODataString(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += '\'';
  return out;
}

std::string FormatGraphFilter(const GraphFilter& filter) {
  std::string out;
  auto add = [&](std::string clause) {
    if (!out.empty()) out += " and ";
    out += clause;
  };
  if (filter.display_name) add("displayName eq " + ODataString(*filter.display_name));
  if (filter.display_name_prefix) add("startswith(displayName," + ODataString(*filter.display_name_prefix) + ")");
  if (filter.domain) add("domain eq " + ODataString(*filter.domain));
  return out;
}

}  // namespace cordon::api
