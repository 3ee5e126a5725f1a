#pragma once
// Every limit and switch of the broker, each with a safe default. apps/tollgate exposes them in
// the [broker] section of the TOML file (docs/configuration.md). A value of 0 never means
// "unlimited" unless the field says so. validate() names the first bad field.
// Thread-safety: a plain value type, copied into the broker at construction.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace tollgate::broker {

struct broker_config {
    /// Largest packet (fixed header included) accepted after CONNECT, advertised to v5 clients as
    /// Maximum Packet Size in CONNACK. Over it: v5 DISCONNECT 0x95, v3.1.1 close. Default 1 MiB.
    std::uint32_t max_packet_size = 1024 * 1024;
    /// Largest packet accepted before the connection is authenticated (the CONNECT itself and AUTH
    /// exchanges). Over it: v5 CONNACK 0x95, v3.1.1 close. Default 64 KiB.
    std::uint32_t max_packet_size_before_connect = 64 * 1024;
    /// Receive Maximum we advertise: QoS 1/2 PUBLISHes a client may have unacknowledged towards us.
    /// Exceeded: DISCONNECT 0x93. Also bounds the QoS 2 packet ids awaiting PUBREL. 1..65535; 100.
    std::uint16_t receive_maximum = 100;
    /// Our cap on QoS 1/2 messages in flight to one client; the window is min(this, the client's
    /// Receive Maximum). 1..65535; default 20.
    std::uint16_t max_inflight_out = 20;
    /// Messages queued for one session (waiting + in flight). When full: QoS 0 messages for it are
    /// dropped (counted in stats().dropped_queue_full); QoS 1/2 messages are never dropped: the
    /// publishers feeding it are paused until it drains (backpressure). Default 1000.
    std::uint32_t max_queued_messages = 1000;
    /// Bytes of payload queued for one session; past it QoS 0 messages are dropped as above
    /// (QoS 1/2 are governed by max_queued_messages). Default 16 MiB.
    std::size_t max_queued_bytes = 16 * 1024 * 1024;
    /// Topic levels in a topic name or filter. Over: PUBLISH → 0x90, SUBSCRIBE filter → 0x8F. 128.
    std::size_t max_topic_levels = 128;
    /// Subscriptions one session may hold. A new one over it gets SUBACK 0x97. Default 1000.
    std::size_t max_subscriptions_per_session = 1000;
    /// Time from accept to a completed CONNECT (and authentication). Exceeded: the connection is
    /// closed. Default 10 s.
    std::chrono::seconds connect_timeout{10};
    /// Longest keep alive accepted; a v5 client asking more gets Server Keep Alive = this, a v3.1.1
    /// client is held to it silently. 0 from the client (no keep alive) is respected. Default 600 s.
    std::uint16_t max_keepalive = 600;
    /// Topic Alias Maximum we advertise (client → server aliases). 0 disables. Default 10.
    std::uint16_t topic_alias_maximum = 10;
    /// Longest client identifier accepted (bytes). Over: CONNACK 0x85 / v3.1.1 rc 2. Default 256.
    std::size_t max_client_id_length = 256;
    /// Cap on the Session Expiry Interval a client may ask (seconds); 0xFFFFFFFF asks "never" and is
    /// capped too. v3.1.1 clean session = 0 means this cap. Default 7 days.
    std::uint32_t max_session_expiry = 7 * 24 * 3600;
    /// User properties per property list accepted from clients (codec limit). Default 32.
    std::size_t max_user_properties = 32;
    /// Total bytes of the user properties of one property list. Default 8 KiB.
    std::size_t max_user_property_bytes = 8192;
    /// How long a QoS 2 packet id may wait for the client's PUBREL. Older ids are forgotten when
    /// room is needed (the receive maximum is reached) and when the connection ends; the message was
    /// already delivered, a late PUBREL gets PUBCOMP 0x92. Bounds the awaiting-PUBREL state. 60 s.
    std::chrono::seconds awaiting_pubrel_timeout{60};
    /// Accept clients without credentials. Only consulted by anonymous_authenticator users (the
    /// app picks the authenticator); kept here so one config describes the broker. Default false.
    bool allow_anonymous = false;
    /// Assign a client identifier to v5 clients that send an empty one (clean start required for
    /// v3.1.1 [MQTT-3.1.3-8]). Default true.
    bool assign_client_ids = true;
    /// Feature switches advertised in CONNACK and enforced.
    bool retain_available = true;                   ///< off: PUBLISH with retain → DISCONNECT 0x9A
    bool wildcard_subscription_available = true;    ///< off: filters with + or # → SUBACK 0xA2
    bool shared_subscription_available = true;      ///< off: $share/ filters → SUBACK 0x9E
    bool subscription_identifier_available = true;  ///< off: SUBSCRIBE with an identifier → 0xA1
    /// Maximum QoS the broker accepts from publishers (0..2). Above: DISCONNECT 0x9B. Default 2.
    std::uint8_t maximum_qos = 2;

    // --- Token lifetime policies (docs/auth.md, "Session lifetime") ---
    /// When the token of a live session expires (principal::expires_at) the connection ends (v5
    /// DISCONNECT with the principal's expiry reason, v3.1.1 close). Publish the will then? Default
    /// false: the will would be published on the authority of a credential that just lapsed, and an
    /// expiry is the broker ending the connection on schedule, not the client vanishing. A client
    /// that reconnects with a fresh token within its Will Delay Interval never had a will anyway.
    bool token_expiry_publishes_will = false;
    /// Cap (seconds) on the Session Expiry Interval of a session whose connection ended because its
    /// token expired: the session (subscriptions, queued QoS 1/2 messages) waits at most this long
    /// for the client to come back with a fresh token. 0: the session ends with the connection.
    /// Default 0xFFFFFFFF: no extra cap (the negotiated interval, itself capped by
    /// max_session_expiry, applies). Only a principal with the same issuer and subject can resume a
    /// session (see resume_requires_same_subject), so the state stays with its owner.
    std::uint32_t token_expiry_session_expiry = 0xFFFFFFFF;
    /// A session held by one authenticated identity (issuer + subject of its principal) is resumed
    /// only by the same identity; a CONNECT with clean start 0 by another identity for that client
    /// identifier starts a new session (Session Present 0) and the old one is discarded, so its
    /// subscriptions and queued messages never reach a principal that was not authorized for them.
    /// Default true.
    bool resume_requires_same_subject = true;
    /// What an unauthorized PUBLISH from an MQTT 3.1.1 client gets, which has no negative
    /// acknowledgement [MQTT-3.3.5-2]: `drop` (acknowledged as usual and discarded) or `disconnect`
    /// (the network connection is closed; the will applies). MQTT 5 always gets PUBACK/PUBREC 0x87
    /// (QoS 0: discarded). Default drop.
    enum class unauthorized_publish_policy { drop, disconnect };
    unauthorized_publish_policy v311_unauthorized_publish = unauthorized_publish_policy::drop;

    /// nullopt when every field is in range, otherwise the name of the first bad field and why.
    [[nodiscard]] std::optional<std::string> validate() const;
};

}  // namespace tollgate::broker
