#include "inventory/search_terms.h"

#include <algorithm>

namespace cordon {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A byte of a word: an ASCII letter or digit, or any byte of a non-ASCII
// UTF-8 character (so "Zoë" and "Ōtsuka" stay whole).
bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Cuts at kMaxTermBytes without splitting a UTF-8 character.
std::string Cut(std::string s) {
  if (s.size() <= kMaxTermBytes) return s;
  size_t end = kMaxTermBytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  s.resize(end);
  return s;
}

void AddName(std::vector<std::string>& terms, std::string_view name) {
  const std::string whole = NormalizeSearchText(name);
  if (whole.empty()) return;
  terms.push_back(whole);
  for (size_t i = 0; i < whole.size();) {
    while (i < whole.size() && !IsWordByte(whole[i])) ++i;
    size_t end = i;
    while (end < whole.size() && IsWordByte(whole[end])) ++end;
    if (end > i) terms.push_back(whole.substr(i, end - i));
    i = end;
  }
}

void AddTerm(std::vector<std::string>& terms, std::string_view value) {
  std::string term = NormalizeSearchText(value);
  if (!term.empty()) terms.push_back(std::move(term));
}

}  // namespace

std::string NormalizeSearchText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return Cut(std::move(out));
}

std::string PrefixEnd(std::string_view prefix) { return std::string(prefix) + "\xff"; }

std::vector<std::string> SearchTermsOf(std::string_view display_name, std::span<const AccountKeys> members) {
  std::vector<std::string> terms;
  AddName(terms, display_name);
  for (const AccountKeys& m : members) {
    AddName(terms, m.display_name);
    AddTerm(terms, m.upn);
    AddTerm(terms, m.login);
    AddTerm(terms, m.mail);
    AddTerm(terms, m.sid);
    AddTerm(terms, m.id);
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

}  // namespace cordon
