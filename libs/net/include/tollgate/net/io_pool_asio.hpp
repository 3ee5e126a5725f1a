#pragma once
// For code that uses Asio directly (timers, resolvers, clients in tests): the io_context of a
// worker. Including this pulls in Asio; most code should include io_pool.hpp only.
#include <boost/asio/io_context.hpp>

#include <tollgate/net/io_pool.hpp>

namespace tollgate::net {

/// The io_context of worker `worker` (< pool.size()). Objects bound to it must be used on that
/// worker's thread only.
boost::asio::io_context& io_context_of(io_pool& pool, unsigned worker);

}  // namespace tollgate::net
