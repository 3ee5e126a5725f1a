// Out-of-line destructors of the broker's interfaces (one vtable home each), the allow-anonymous
// authenticator and authorizer, and broker_config::validate().
#include <utility>

#include <tollgate/broker/auth.hpp>
#include <tollgate/broker/broker.hpp>
#include <tollgate/broker/config.hpp>
#include <tollgate/broker/executor.hpp>
#include <tollgate/broker/persistence.hpp>
#include <tollgate/broker/transport.hpp>

namespace tollgate::broker {

executor::~executor() = default;
transport::~transport() = default;
authenticator::~authenticator() = default;
authorizer::~authorizer() = default;
persistence::~persistence() = default;
connection::~connection() = default;

void anonymous_authenticator::authenticate(auth_request request, std::function<void(auth_result)> done) {
    auth_result r;
    if (!allow_) {
        r.result = auth_result::outcome::failure;
        r.reason = mqtt::reason_code::not_authorized;
        r.reason_string = "anonymous access is disabled";
        done(std::move(r));
        return;
    }
    if (request.method) {
        r.result = auth_result::outcome::failure;
        r.reason = mqtt::reason_code::bad_authentication_method;  // [MQTT-4.12.0-1]
        done(std::move(r));
        return;
    }
    auto who = std::make_shared<principal>();
    who->client_id = request.client_id;
    who->username = request.username;
    r.result = auth_result::outcome::success;
    r.reason = mqtt::reason_code::success;
    r.who = std::move(who);
    done(std::move(r));
}

std::optional<verdict> allow_all_authorizer::check(const principal&, action, std::string_view, std::uint8_t,
                                                   bool, std::function<void(verdict)>) {
    return verdict{true, "allow_all", {}};
}

std::optional<std::string> broker_config::validate() const {
    if (max_packet_size < 16 || max_packet_size > 268435460) {
        return "max_packet_size: must be between 16 and 268435460";
    }
    if (max_packet_size_before_connect < 16 || max_packet_size_before_connect > 268435460) {
        return "max_packet_size_before_connect: must be between 16 and 268435460";
    }
    if (receive_maximum == 0) {
        return "receive_maximum: must be at least 1";
    }
    if (max_inflight_out == 0) {
        return "max_inflight_out: must be at least 1";
    }
    if (max_queued_messages == 0) {
        return "max_queued_messages: must be at least 1";
    }
    if (max_queued_bytes == 0) {
        return "max_queued_bytes: must be at least 1";
    }
    if (max_topic_levels == 0) {
        return "max_topic_levels: must be at least 1";
    }
    if (max_subscriptions_per_session == 0) {
        return "max_subscriptions_per_session: must be at least 1";
    }
    if (connect_timeout.count() <= 0) {
        return "connect_timeout: must be positive";
    }
    if (max_client_id_length < 23) {
        return "max_client_id_length: must be at least 23 ([MQTT-3.1.3-5])";
    }
    if (maximum_qos > 2) {
        return "maximum_qos: must be 0, 1 or 2";
    }
    if (awaiting_pubrel_timeout.count() <= 0) {
        return "awaiting_pubrel_timeout: must be positive";
    }
    return std::nullopt;
}

}  // namespace tollgate::broker
