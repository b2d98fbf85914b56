#include "inventory/correlate.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include <openssl/evp.h>

namespace cordon {
namespace {

int ProviderRank(Provider p) {
  switch (p) {
    case Provider::kActiveDirectory: return 0;
    case Provider::kEntra: return 1;
    case Provider::kOkta: return 2;
  }
  return 3;
}

// The anchor order: AD before Entra before Okta, then the lowest id.
bool AnchorsBefore(const AccountKeys& a, const AccountKeys& b) {
  return std::make_tuple(ProviderRank(a.provider), std::string_view(a.id)) <
         std::make_tuple(ProviderRank(b.provider), std::string_view(b.id));
}

bool EqualIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Union-find over account indexes, with path halving and union by size.
class Components {
 public:
  explicit Components(size_t n) : parent_(n), size_(n, 1) { std::iota(parent_.begin(), parent_.end(), size_t{0}); }
  size_t Find(size_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  void Join(size_t a, size_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
  }

 private:
  std::vector<size_t> parent_;
  std::vector<size_t> size_;
};

std::string DomainOfUpn(std::string_view upn) {
  const size_t at = upn.rfind('@');
  if (at == std::string_view::npos || at + 1 >= upn.size()) return {};
  return LowerAscii(upn.substr(at + 1));
}

IdentityHeader HeaderOfAnchor(const AccountKeys& anchor) {
  IdentityHeader h;
  h.id = IdentityIdOf(anchor.provider, anchor.id);
  h.display_name = anchor.display_name.empty() ? anchor.login : anchor.display_name;
  h.domain = DomainOfUpn(anchor.upn);
  if (h.domain.empty() && anchor.provider == Provider::kActiveDirectory) h.domain = DnsDomainOfDn(anchor.dn);
  return h;
}

}  // namespace

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

AccountKeys KeysOf(const AccountView& account) {
  AccountKeys k;
  k.provider = account.provider;
  k.id = account.id;
  k.login = account.login;
  k.display_name = account.display_name;
  k.upn = account.upn;
  k.sid = account.sid;
  k.mail = account.mail;
  if (account.provider == Provider::kActiveDirectory) {
    const auto dn = account.identifiers.find("dn");
    if (dn != account.identifiers.end()) k.dn = dn->second;
  }
  return k;
}

std::string IdentityIdOf(Provider provider, std::string_view account_id) {
  const std::string name = std::string(ToString(provider)) + ":" + std::string(account_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(name.data(), name.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 || size < 16) {
    // SHA-256 failing means OpenSSL itself is broken; an id that collides
    // would merge people, so stop rather than go on.
    std::abort();
  }
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5 (name-based, here SHA-256)
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool IsIdentityId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string DnsDomainOfDn(std::string_view dn) {
  std::string out;
  size_t start = 0;
  while (start <= dn.size()) {
    // RDNs are separated by unescaped commas; a DC value holds no comma.
    size_t comma = start;
    while (comma < dn.size() && dn[comma] != ',') comma += dn[comma] == '\\' ? 2 : 1;
    std::string_view rdn = dn.substr(start, std::min(comma, dn.size()) - start);
    while (!rdn.empty() && rdn.front() == ' ') rdn.remove_prefix(1);
    if (rdn.size() > 3 && (rdn[0] == 'D' || rdn[0] == 'd') && (rdn[1] == 'C' || rdn[1] == 'c') && rdn[2] == '=') {
      if (!out.empty()) out += '.';
      out += LowerAscii(rdn.substr(3));
    }
    if (comma >= dn.size()) break;
    start = comma + 1;
  }
  return out;
}

IdentityHeader HeaderOf(std::span<const AccountKeys> members) {
  if (members.empty()) return {};
  const AccountKeys* anchor = &members.front();
  for (const AccountKeys& m : members)
    if (AnchorsBefore(m, *anchor)) anchor = &m;
  return HeaderOfAnchor(*anchor);
}

Correlation Correlate(std::span<const AccountKeys> accounts) {
  const size_t n = accounts.size();
  Components components(n);
  {
    // Each key, with its kind, names the first account that had it; any
    // later account with the same key joins that one's component. The same
    // (provider, id) twice is one account, whatever its keys say. Keys are
    // found by a hash of their lower-case text and then compared as text, so
    // the table holds no copy of them (at 300,000 accounts, a hundred MB
    // less); the rare key whose hash another key already holds goes to a
    // table of its own, by its text.
    std::unordered_map<uint64_t, uint32_t> first;
    std::unordered_map<std::string, size_t> collided;
    first.reserve(n * 3);
    std::string text;
    auto value_of = [&](size_t i, char kind) -> std::string_view {
      const AccountKeys& a = accounts[i];
      switch (kind) {
        case 's': return a.sid;
        case 'u': return a.upn;
        case 'm': return a.mail;
        default: return a.id;
      }
    };
    auto key = [&](size_t i, char kind, std::string_view value) {
      if (value.empty()) return;
      text.assign(1, kind);
      text += ':';
      text += LowerAscii(value);
      const uint64_t hash = std::hash<std::string_view>{}(text);
      const auto [it, inserted] = first.emplace(hash, static_cast<uint32_t>(i));
      if (inserted) return;
      const size_t other = it->second;
      if (EqualIgnoringAsciiCase(value_of(other, kind), value)) {
        components.Join(i, other);
        return;
      }
      const auto [same, new_text] = collided.emplace(text, i);
      if (!new_text) components.Join(i, same->second);
    };
    for (size_t i = 0; i < n; ++i) {
      const AccountKeys& a = accounts[i];
      key(i, 's', a.sid);
      key(i, 'u', a.upn);
      key(i, 'm', a.mail);
      key(i, static_cast<char>('0' + ProviderRank(a.provider)), a.id);
    }
  }

  // Each component's anchor; the component's root is whichever account the
  // order of joins left there, the anchor is not.
  std::vector<size_t> anchor_of_root(n, n);
  for (size_t i = 0; i < n; ++i) {
    const size_t root = components.Find(i);
    size_t& anchor = anchor_of_root[root];
    if (anchor == n || AnchorsBefore(accounts[i], accounts[anchor])) anchor = i;
  }
  Correlation out;
  std::vector<size_t> header_of_root(n, n);
  for (size_t root = 0; root < n; ++root) {
    if (anchor_of_root[root] == n) continue;
    header_of_root[root] = out.identities.size();
    out.identities.push_back(HeaderOfAnchor(accounts[anchor_of_root[root]]));
  }
  // Ordered by id, so the result does not depend on the input's order.
  std::vector<size_t> order(out.identities.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return out.identities[a].id < out.identities[b].id; });
  std::vector<size_t> rank(order.size());
  std::vector<IdentityHeader> sorted;
  sorted.reserve(order.size());
  for (size_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = r;
    sorted.push_back(std::move(out.identities[order[r]]));
  }
  out.identities = std::move(sorted);
  out.identity_of.resize(n);
  for (size_t i = 0; i < n; ++i) out.identity_of[i] = rank[header_of_root[components.Find(i)]];
  return out;
}

}  // namespace cordon
