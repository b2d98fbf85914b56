#include "support/lab_info.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/secret.h"

#ifndef CORDON_LAB_DIR
#define CORDON_LAB_DIR ""
#endif

namespace cordon::testing {
namespace {

std::string PaddedBulk(std::string_view prefix, int digits, int i) {
  std::string n = std::to_string(i);
  if (n.size() < static_cast<std::size_t>(digits)) n.insert(0, static_cast<std::size_t>(digits) - n.size(), '0');
  return std::string(prefix) + n;
}

LabAccount ReadAccount(const nlohmann::json& j) {
  LabAccount a;
  a.sam = j.at("sam").get<std::string>();
  a.bind_dn = j.at("bind_dn").get<std::string>();
  a.password_file = j.at("password_file").get<std::string>();
  a.keytab = j.value("keytab", "");
  a.principal = j.value("principal", "");
  return a;
}

}  // namespace

std::string LabInfo::BulkUser(int i) const { return PaddedBulk(bulk_prefix, bulk_digits, i); }

std::string LabInfo::Upn(std::string_view sam) const {
  std::string domain_lower;
  // bind_dn is "sam@dns.domain": reuse its domain part rather than re-deriving it from the realm.
  const auto at = admin.bind_dn.find('@');
  domain_lower = at == std::string::npos ? realm : admin.bind_dn.substr(at + 1);
  return std::string(sam) + "@" + domain_lower;
}

Result<LabInfo> LoadLabInfo(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(Error::NotFound("cannot read " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (1u << 20)) return Fail(Error::InvalidArgument(path + " is larger than 1 MiB"));
  try {
    const auto j = nlohmann::json::parse(ss.str());
    LabInfo lab;
    const auto slash = path.find_last_of('/');
    lab.dir = slash == std::string::npos ? "." : path.substr(0, slash);
    lab.realm = j.at("realm").get<std::string>();
    lab.domain = j.at("domain").get<std::string>();
    lab.base_dn = j.at("base_dn").get<std::string>();
    lab.dc_host = j.at("dc_host").get<std::string>();
    lab.ldaps_url = j.at("ldaps_url").get<std::string>();
    lab.ldap_url = j.at("ldap_url").get<std::string>();
    lab.gssapi_url = j.at("gssapi_url").get<std::string>();
    lab.ca_file = j.at("ca_file").get<std::string>();
    lab.krb5_conf = j.at("krb5_conf").get<std::string>();
    lab.admin = ReadAccount(j.at("admin"));
    lab.action_account = ReadAccount(j.at("action_account"));
    lab.user_password_file = j.at("user_password_file").get<std::string>();
    lab.staff_ou = j.at("staff_ou").get<std::string>();
    lab.staff_users = j.at("staff_users").get<std::vector<std::string>>();
    lab.special_users.password_never_expires =
        j.at("special_users").at("password_never_expires").get<std::string>();
    lab.special_users.smartcard_required = j.at("special_users").at("smartcard_required").get<std::string>();
    lab.bulk_ou = j.at("bulk_ou").get<std::string>();
    lab.bulk_prefix = j.at("bulk_users").at("prefix").get<std::string>();
    lab.bulk_count = j.at("bulk_users").at("count").get<int>();
    lab.bulk_digits = j.at("bulk_users").at("digits").get<int>();
    lab.other_ou = j.at("other_ou").get<std::string>();
    lab.other_users = j.at("other_users").get<std::vector<std::string>>();
    lab.domain_admins = j.at("domain_admins").get<std::vector<std::string>>();
    if (const auto o = j.find("okta"); o != j.end() && o->is_object())
      lab.okta = LabOkta{o->value("url", ""), o->value("ca_file", ""), o->value("token_file", ""),
                         o->value("client_id", ""), o->value("private_key_file", "")};
    if (const auto e = j.find("entra"); e != j.end() && e->is_object())
      lab.entra = LabEntra{e->value("authority", ""),          e->value("graph_url", ""),
                           e->value("tenant", ""),             e->value("client_id", ""),
                           e->value("client_secret_file", ""), e->value("certificate_file", ""),
                           e->value("private_key_file", ""),   e->value("ca_file", "")};
    return lab;
  } catch (const std::exception& e) {
    return Fail(Error::InvalidArgument(path + " is not a valid lab description: " + e.what()));
  }
}

const LabInfo& TheLab() {
  static const Result<LabInfo> lab = LoadLabInfo(std::string(CORDON_LAB_DIR) + "/lab.json");
  if (!lab)
    throw std::runtime_error("the lab is not up (" + lab.error().message +
                             "): run `cordon lab up --dir " CORDON_LAB_DIR "`, or run this test through ctest, "
                             "whose fixture `lab.up` starts it");
  return *lab;
}

std::string ReadSecretFile(const std::string& path) {
  auto secret = LoadSecret(SecretRef{.file = path});
  if (!secret) throw std::runtime_error(secret.error().message);
  return secret->Reveal();
}

std::string BulkUser(int i) { return PaddedBulk("bulk", 4, i); }

}  // namespace cordon::testing
