#pragma once
// Splits a byte stream into MQTT control packets (fixed header + body), bounded.
//
// Design: the reader keeps at most the ≤5 bytes of a fixed header being read, the body of the one
// packet in progress (a vector that grows only as bytes arrive, never reserved for a length that was
// merely declared, and never beyond the declared length), and the complete frames not yet taken with
// next(). A complete body is moved, not copied, into the frame's shared_bytes: each packet is copied
// exactly once, from the caller's read buffer into its own buffer, and a decoded PUBLISH payload is a
// slice of that buffer. A declared remaining length of 256 MB followed by silence costs a few bytes.
// Thread-safety: none; one reader per connection, used by one thread.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <tollgate/common/bytes.hpp>
#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::mqtt {

/// Why bytes could not be framed or decoded. `code` is the reason code the spec names for the
/// failure: malformed_packet, protocol_error, packet_too_large, unsupported_protocol_version,
/// client_identifier_not_valid (3.1.1 empty client id without clean session [MQTT-3.1.3-8]),
/// topic_name_invalid, topic_alias_invalid or payload_format_invalid. A v5 server sends it in CONNACK
/// (CONNECT errors) or DISCONNECT; a 3.1.1 server closes the connection, except for the CONNACK
/// return codes 1 and 2 (v311_connack_code()).
struct decode_error {
    reason_code code = reason_code::malformed_packet;
    std::string message;  ///< for logs; never contains packet contents (no secrets)
    friend bool operator==(const decode_error&, const decode_error&) = default;
};

/// One complete control packet as it arrived.
struct frame {
    std::uint8_t first_byte = 0;  ///< packet type (high nibble) and flags (low nibble)
    common::shared_bytes body;    ///< the remaining-length bytes (variable header + payload)
    std::size_t total_size = 0;   ///< fixed header + body, as counted by Maximum Packet Size

    [[nodiscard]] packet_type type() const noexcept { return static_cast<packet_type>(first_byte >> 4); }
    [[nodiscard]] std::uint8_t flags() const noexcept { return first_byte & 0x0F; }
};

class frame_reader {
  public:
    /// `max_packet_size` bounds a packet's total size (fixed header included, as MQTT 5's Maximum
    /// Packet Size does). Must be at least 2; values above 268435460 (the protocol maximum) behave as
    /// the protocol maximum.
    explicit frame_reader(std::uint32_t max_packet_size);

    /// Applies to packets whose fixed header is not yet complete (a broker lowers it after CONNECT).
    void set_max_packet_size(std::uint32_t max_packet_size);
    [[nodiscard]] std::uint32_t max_packet_size() const noexcept { return max_packet_size_; }

    /// Takes any number of bytes (0 included). After an error, further bytes are ignored.
    void feed(std::span<const std::uint8_t> bytes);

    /// The next complete frame, std::monostate when more bytes are needed, or the framing error
    /// (packet_too_large as soon as a fixed header declares a packet over the limit; malformed_packet
    /// for a 5-byte or non-minimal remaining length [MQTT-1.5.5-1], or packet type 0). Frames that
    /// completed before an error are returned first; once an error is returned, every later call
    /// returns it again.
    std::variant<std::monostate, frame, decode_error> next();

    /// Bytes received and not yet handed out by next().
    [[nodiscard]] std::size_t buffered() const noexcept;
    /// Bytes of memory the reader holds for them (buffer capacities), for limit tests and metrics.
    [[nodiscard]] std::size_t memory_held() const noexcept;

  private:
    void fail(reason_code code, std::string message);
    std::size_t consume_header_byte(std::uint8_t byte);
    std::size_t consume_body(std::span<const std::uint8_t> bytes);
    void finish_frame();

    std::uint32_t max_packet_size_;
    std::uint8_t header_[5] = {};
    std::size_t header_len_ = 0;
    bool header_done_ = false;
    std::size_t remaining_ = 0;
    std::vector<std::uint8_t> body_;
    std::deque<frame> ready_;
    std::size_t ready_bytes_ = 0;
    std::optional<decode_error> error_;
};

}  // namespace tollgate::mqtt
