#pragma once
#include <vector>

#include <tollgate/store/migrate.hpp>

namespace tollgate::oauth::detail {

/// The ordered schema steps of component "oauth".
const std::vector<store::migration>& schema_steps();

}  // namespace tollgate::oauth::detail
