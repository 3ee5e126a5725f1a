#pragma once
// Internals of ldap_source (not installed, not public): opening, securing and binding one libldap
// connection, with every step bounded in time.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/time.h>

#include <ldap.h>

#include <tollgate/auth/ldap_source.hpp>

namespace tollgate::auth::detail {

struct ldap_closer {
    void operator()(LDAP* ld) const noexcept { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using ldap_ptr = std::unique_ptr<LDAP, ldap_closer>;

/// An LDAP failure of the connection or the server: the connection is not reused. The text never
/// holds the bind password (libldap's messages do not either).
class ldap_failure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

timeval to_timeval(std::chrono::milliseconds ms) noexcept;

/// "what: <libldap error> (<server diagnostic>)".
std::string describe(LDAP* ld, std::string_view what, int rc);

/// A connected handle: TCP connect and, for ldaps://, the TLS handshake within connect_timeout;
/// StartTLS when configured; then the bind of config.bind_method. Throws ldap_failure.
/// Thread-safe (each call builds its own handle).
ldap_ptr open_ldap_connection(const ldap_config& config);

}  // namespace tollgate::auth::detail
