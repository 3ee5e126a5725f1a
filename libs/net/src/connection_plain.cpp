// connection<Stream> for TCP and TLS.
#include "connection_impl.hpp"

namespace tollgate::net::detail {

peer_info make_peer(const listener_config& config, const tcp::socket& socket) {
    peer_info peer;
    peer.kind = config.kind;
    peer.listener = config.name;
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (!ec) {
        peer.remote_address = remote.address().to_string();
        peer.remote_port = remote.port();
    }
    return peer;
}

template class connection<tcp::socket>;
template class connection<tls_stream>;

void start_tcp_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                          slot_guard slot) {
    std::make_shared<connection<tcp::socket>>(std::move(listener), std::move(socket), worker, std::move(slot))
        ->start();
}

void start_tls_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                          slot_guard slot) {
    std::make_shared<connection<tls_stream>>(std::move(listener), std::move(socket), worker, std::move(slot))
        ->start();
}

}  // namespace tollgate::net::detail
