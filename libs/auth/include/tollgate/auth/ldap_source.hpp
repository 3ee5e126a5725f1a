#pragma once
// ldap_source: MQTT authorization rules from an LDAP directory (OpenLDAP's libldap), a
// policy_source for policy_authorizer (docs/auth.md "LDAP").
//
// For a principal, load():
//   1. picks the identifying value (config.identity: the MQTT user name, the token's subject or the
//      MQTT client id); an empty or absent value means no user: no rules (abstain);
//   2. searches user_base_dn (subtree) with user_filter, its placeholders replaced by RFC 4515-escaped
//      values; no entry: no rules; more than one entry: std::runtime_error (ambiguous, fail closed);
//   3. searches group_base_dn (subtree) with group_filter ({dn} = the user's DN, escaped) unless
//      group_filter is empty; then, when the filter uses {dn}, follows nested groups breadth first:
//      the groups whose filter matches a group found at the level before ({dn} = that group's DN;
//      one search per level, the level's DNs OR-ed), up to max_group_depth levels in all. A group
//      already reached is not followed again (cycles end there). A group beyond max_group_depth,
//      or more than max_groups groups reached in all: std::runtime_error (fail closed, since a deny
//      rule of an unreached group would be missed);
//   4. returns the rule_attribute values of the user entry and of every reached group, each parsed as
//        <allow|deny> <pub|sub|all> <topic filter>
//      (fields separated by spaces or tabs, keywords in any case; the filter is the rest of the value,
//      taken literally, spaces included; it may hold the placeholders {client_id} {sub} {username},
//      '{' and '}' delimit nothing else). A value that does not parse, or whose filter cannot become
//      a valid, non-shared topic filter, is skipped with a warning naming the entry's DN. Each rule's
//      source is "ldap <dn of the entry it came from>".
//
// Connections: a bounded pool (max_connections). A load takes an idle connection or opens one (connect,
// StartTLS when asked, then per bind_method: a simple bind as bind_dn, anonymous when bind_dn is
// empty, or SASL EXTERNAL with the TLS client certificate) and returns it after
// a successful load; a connection that failed is dropped, and a load that failed on a reused
// connection is retried once on a fresh one (so a restarted server or an idle connection the server
// closed costs no failure).
// Referrals are never chased. Every operation is bounded by the timeouts: opening a connection (the
// TCP connect and, for ldaps://, the TLS handshake, which libldap 2.5 does not bound itself) by
// connect_timeout, enforced by a watchdog that shuts the socket down at the deadline; StartTLS, the
// bind and each search by operation_timeout.
//
// Errors: load() throws std::runtime_error when the directory cannot answer (unreachable, bind
// refused, TLS failure, timeout, size limit exceeded, ambiguous user, groups nested too deep); the
// authorizer then denies.
// Messages and logs never contain the bind password.
//
// Thread-safety: load() may be called from several threads at once (each call uses its own
// connection); the object must outlive every call.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/auth/policy_source.hpp>

namespace tollgate::auth {

/// Which principal value identifies the directory user ({user} in the filters).
enum class ldap_identity { username, subject, client_id };

enum class ldap_tls {
    none,      ///< plain ldap:// (allowed with a bind password only on a loopback host)
    starttls,  ///< ldap:// then StartTLS (RFC 4511 §4.14); a failed StartTLS is an error
    ldaps,     ///< implied by an ldaps:// URL
};

enum class ldap_bind_method {
    simple,         ///< bind_dn + bind_password (RFC 4513 §5.1.3), or anonymous when bind_dn is empty
    sasl_external,  ///< SASL EXTERNAL (RFC 4513 §5.2.3): the identity of the TLS client certificate
};

struct ldap_config {
    std::string url;            ///< ldap://host:port or ldaps://host:port (one server)
    std::string bind_dn;        ///< empty: anonymous
    std::string bind_password;  ///< a secret: never logged
    std::string base_dn;        ///< required
    std::string user_base_dn;   ///< empty: base_dn
    std::string group_base_dn;  ///< empty: base_dn
    /// Placeholders {user} (the identity value), {username}, {sub}, {client_id}: RFC 4515-escaped.
    /// A placeholder whose value is absent or empty gives no user (no rules).
    std::string user_filter = "(&(objectClass=inetOrgPerson)(uid={user}))";
    /// As user_filter, plus {dn}: the user's DN. Empty: no group rules.
    std::string group_filter =
        "(|(&(objectClass=groupOfNames)(member={dn}))(&(objectClass=groupOfUniqueNames)(uniqueMember={dn})))";
    std::string rule_attribute = "mqttRule";
    ldap_identity identity = ldap_identity::subject;
    ldap_tls tls = ldap_tls::none;  ///< ldaps:// URLs force ldaps
    std::string ca_file;            ///< PEM CA bundle for TLS; empty: the system's (ldap.conf)
    std::string cert_file;          ///< PEM client certificate for TLS (with key_file); empty: none
    std::string key_file;           ///< PEM private key of cert_file (a path; the key is never logged)
    ldap_bind_method bind_method = ldap_bind_method::simple;  ///< sasl_external needs TLS + cert_file
    std::chrono::milliseconds connect_timeout{5000};          ///< TCP connect + the ldaps:// TLS handshake
    std::chrono::milliseconds operation_timeout{5000};        ///< each bind / StartTLS / search
    std::size_t max_connections = 4;  ///< concurrent connections (loads beyond wait, bounded)
    std::size_t max_groups = 256;     ///< more groups for one user (all levels): std::runtime_error
    /// Levels of group membership followed: 1 = the user's own groups only, 2 = also the groups
    /// containing those, ... A group further away: std::runtime_error.
    std::size_t max_group_depth = 4;
    std::size_t max_rules = 1024;       ///< more rule values for one user: std::runtime_error
    std::size_t max_rule_bytes = 4096;  ///< a longer value is skipped
    std::string label;                  ///< name() is "ldap" or "ldap <label>"
};

/// Checks a configuration without connecting: url scheme (ldap/ldaps) and form, base_dn present,
/// filters balanced, rule_attribute a valid attribute description, limits positive, a bind password
/// not sent in clear to a non-loopback host, cert_file and key_file given together, sasl_external
/// only over TLS with a client certificate and without bind_dn / bind_password. Returns the first
/// problem, or nullopt.
std::optional<std::string> validate_ldap_config(const ldap_config& config);

/// The LDAP source. Throws std::invalid_argument when validate_ldap_config finds a problem.
/// No connection is opened until the first load().
std::unique_ptr<policy_source> make_ldap_source(ldap_config config);

/// RFC 4515 §3 assertion-value escaping: NUL, '*', '(', ')', '\' and every byte outside 0x20..0x7E
/// become "\XX" (two lower-case hex digits). The result can be put in a filter as an equality
/// value without changing the filter's structure.
std::string ldap_escape_filter_value(std::string_view value);

/// Parses one rule value ("allow pub devices/{client_id}/#"). On failure returns nullopt and sets
/// *why (when given). The filter is checked to be a valid topic filter once placeholders are
/// filled with a safe value. Never throws on content.
std::optional<policy_rule> parse_ldap_rule(std::string_view value, std::string source,
                                           std::string* why = nullptr);

}  // namespace tollgate::auth
