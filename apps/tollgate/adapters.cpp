#include "adapters.hpp"

#include <string>

namespace tollgate::app {

unsigned pool_executor::worker_count() const {
    return pool_.size();
}

void pool_executor::post(unsigned worker, std::function<void()> fn) {
    pool_.post(worker, std::move(fn));
}

void link_transport::send(common::shared_bytes bytes) {
    link_->send(std::move(bytes));
}

void link_transport::close() {
    link_->close();
}

void link_transport::abort() {
    link_->abort();
}

void link_transport::pause_reading() {
    link_->pause_reading();
}

void link_transport::resume_reading() {
    link_->resume_reading();
}

std::size_t link_transport::queued_bytes() const {
    return link_->queued_bytes();
}

void broker_connection_handler::on_data(std::span<const std::uint8_t> bytes) {
    connection_->on_bytes(bytes);
}

void broker_connection_handler::on_drained() {
    connection_->on_drained();
}

void broker_connection_handler::on_closed(std::error_code /*reason*/) {
    // The broker does not distinguish why the transport went away: a will is due either way
    // unless the client sent DISCONNECT, which the broker saw in the byte stream.
    connection_->on_closed();
}

broker::connection_info to_connection_info(const net::peer_info& peer) {
    broker::connection_info info;
    info.listener = peer.listener;
    info.transport = std::string(net::to_string(peer.kind));
    info.remote_address = peer.remote_address;
    info.remote_port = peer.remote_port;
    info.client_certificate_der = peer.client_certificate_der;
    info.client_certificate_subject = peer.client_certificate_subject;
    return info;
}

net::handler_factory make_handler_factory(broker::broker& b) {
    return [&b](std::shared_ptr<net::link> link) -> std::shared_ptr<net::connection_handler> {
        const unsigned worker = link->worker();
        broker::connection_info info = to_connection_info(link->peer());
        auto transport = std::make_shared<link_transport>(std::move(link));
        auto connection = b.accept(worker, std::move(transport), std::move(info));
        if (!connection) {
            return nullptr;
        }
        return std::make_shared<broker_connection_handler>(std::move(connection));
    };
}

}  // namespace tollgate::app
