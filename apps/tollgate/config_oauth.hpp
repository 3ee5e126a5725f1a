#pragma once
// The [oauth] section: the built-in authorization server (docs/configuration.md).
#include "config_reader.hpp"

namespace tollgate::app::detail {

/// Reads [oauth] into out (absent keys keep their defaults). Throws config_error naming the key.
void read_oauth(table_reader& r, oauth_settings& out);

/// Cross-key checks of [oauth] (TLS files go together, issuer form). Throws config_error.
void validate_oauth(const oauth_settings& o);

}  // namespace tollgate::app::detail
