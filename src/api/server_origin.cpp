#include "api/server_origin.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <openssl/x509v3.h>

namespace cordon::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsWildcard(std::string_view name) { return name.size() > 2 && name.substr(0, 2) == "*."; }

// RFC 6125 section 6.4.3: "*" stands for exactly one whole left-most label.
bool Matches(std::string_view pattern, std::string_view host) {
  if (!IsWildcard(pattern)) return pattern == host;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size() || host.substr(host.size() - suffix.size()) != suffix) return false;
  const std::string_view label = host.substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

// The host part of a Host header ("name", "name:port", "[v6]", "[v6]:port"),
// lower case, without brackets or a final dot; empty when malformed.
std::string HostPart(std::string_view header) {
  std::string_view host = header;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return {};
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return Lower(host);
}

std::string InUrl(std::string_view name) {
  return name.find(':') == std::string_view::npos ? std::string(name) : fmt::format("[{}]", name);
}

}  // namespace

std::string ServerOrigin::For(std::string_view host_header) const {
  const std::string host = HostPart(host_header);
  std::string chosen;
  if (!host.empty())
    for (const std::string& name : names)
      if (Matches(name, host)) {
        chosen = host;
        break;
      }
  if (chosen.empty()) {
    const auto first = std::find_if(names.begin(), names.end(), [](const std::string& n) { return !IsWildcard(n); });
    chosen = first == names.end() ? "localhost" : *first;
  }
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (default_port) return fmt::format("{}://{}", scheme, InUrl(chosen));
  return fmt::format("{}://{}:{}", scheme, InUrl(chosen), port);
}

std::vector<std::string> CertificateNames(X509* certificate) {
  std::vector<std::string> out;
  if (certificate == nullptr) return out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      out.push_back(Lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                           static_cast<size_t>(ASN1_STRING_length(dns)))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const unsigned char* data = ASN1_STRING_get0_data(ip);
      if (ASN1_STRING_length(ip) == 4) {
        boost::asio::ip::address_v4::bytes_type bytes;
        std::copy(data, data + 4, bytes.begin());
        out.push_back(boost::asio::ip::address_v4(bytes).to_string());
      } else if (ASN1_STRING_length(ip) == 16) {
        boost::asio::ip::address_v6::bytes_type bytes;
        std::copy(data, data + 16, bytes.begin());
        out.push_back(boost::asio::ip::address_v6(bytes).to_string());
      }
    }
  }
  GENERAL_NAMES_free(names);
  // A name with anything but letters, digits, dots, dashes, colons and a
  // leading "*." cannot be a Host we would match; drop it rather than risk
  // writing it into a link.
  std::erase_if(out, [](const std::string& n) {
    const std::string_view rest = IsWildcard(n) ? std::string_view(n).substr(2) : std::string_view(n);
    return rest.empty() || !std::all_of(rest.begin(), rest.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
    });
  });
  return out;
}

ServerOrigin MakeServerOrigin(bool tls, std::string_view address, uint16_t port, X509* certificate) {
  ServerOrigin origin;
  origin.scheme = tls ? "https" : "http";
  origin.port = port;
  origin.names = CertificateNames(certificate);
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(std::string(address == "localhost" ? "127.0.0.1" : address), ec);
  const bool unspecified = !ec && ip.is_unspecified();
  auto add = [&](std::string name) {
    if (std::find(origin.names.begin(), origin.names.end(), name) == origin.names.end())
      origin.names.push_back(std::move(name));
  };
  if (!address.empty() && !unspecified) add(Lower(address));
  if (!ec && ip.is_loopback()) add("localhost");
  return origin;
}

}  // namespace cordon::api
