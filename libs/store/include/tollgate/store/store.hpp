#pragma once
// tollgate::store: a thin SQL layer over sqlite3 and libpq (docs/adr/0004-store.md).
// Include this for the whole API.
#include <tollgate/store/database.hpp>
#include <tollgate/store/migrate.hpp>
#include <tollgate/store/pool.hpp>
#include <tollgate/store/value.hpp>
