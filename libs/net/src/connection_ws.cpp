// connection<Stream> for WebSocket and WebSocket over TLS.
#include <boost/beast/websocket/ssl.hpp>

#include "connection_impl.hpp"

namespace tollgate::net::detail {

template class connection<ws_stream>;
template class connection<wss_stream>;

void start_ws_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                         slot_guard slot) {
    std::make_shared<connection<ws_stream>>(std::move(listener), std::move(socket), worker, std::move(slot))
        ->start();
}

void start_wss_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                          slot_guard slot) {
    std::make_shared<connection<wss_stream>>(std::move(listener), std::move(socket), worker, std::move(slot))
        ->start();
}

}  // namespace tollgate::net::detail
