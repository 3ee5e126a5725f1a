// Server TLS contexts and client-certificate extraction (OpenSSL 3).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "listener.hpp"

namespace tollgate::net::detail {

namespace {

// TLS 1.2 suites: ECDHE key exchange and AEAD only. TLS 1.3 uses OpenSSL's default suites (all AEAD).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_errors() {
    std::string text;
    while (unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!text.empty()) {
            text += "; ";
        }
        text += buffer;
    }
    return text.empty() ? std::string("unknown OpenSSL error") : text;
}

void check_readable(const listener_config& config, const char* what, const std::string& path) {
    if (path.empty()) {
        throw std::runtime_error(listener_label(config) + ": " + what + " is not set");
    }
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        const int error = errno;
        throw std::runtime_error(listener_label(config) + ": cannot read " + what + " " + path + ": " +
                                 std::strerror(error));
    }
    std::fclose(file);
}

[[noreturn]] void fail(const listener_config& config, const std::string& what) {
    throw std::runtime_error(listener_label(config) + ": " + what + ": " + openssl_errors());
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_tls_context(const listener_config& config) {
    if (!config.tls) {
        throw std::runtime_error(listener_label(config) + ": kind " + std::string(to_string(config.kind)) +
                                 " needs tls settings (cert_file, key_file)");
    }
    const tls_settings& tls = *config.tls;
    check_readable(config, "cert_file", tls.cert_file);
    check_readable(config, "key_file", tls.key_file);
    const bool request = tls.request_client_cert || tls.require_client_cert;
    if (request) {
        check_readable(config, "ca_file", tls.ca_file);
    }
    int min_version = 0;
    if (tls.min_version == "1.2") {
        min_version = TLS1_2_VERSION;
    } else if (tls.min_version == "1.3") {
        min_version = TLS1_3_VERSION;
    } else {
        throw std::runtime_error(listener_label(config) +
                                 ": tls min_version must be \"1.2\" or \"1.3\", not \"" + tls.min_version +
                                 "\"");
    }

    ERR_clear_error();
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* ctx = context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, min_version);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx,
                        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
        fail(config, "cannot set the TLS 1.2 cipher list");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
        fail(config, "cannot load cert_file " + tls.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        fail(config, "cannot load key_file " + tls.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        fail(config, "key_file " + tls.key_file + " does not match cert_file " + tls.cert_file);
    }
    static constexpr unsigned char session_context[] = "tollgate";
    SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
    if (request) {
        if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1) {
            fail(config, "cannot load ca_file " + tls.ca_file);
        }
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.ca_file.c_str());
        if (names == nullptr) {
            fail(config, "ca_file " + tls.ca_file + " holds no certificate");
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        int mode = SSL_VERIFY_PEER;
        if (tls.require_client_cert) {
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        }
        SSL_CTX_set_verify(ctx, mode, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    return context;
}

std::string certificate_fingerprint(asio::ssl::context& context) {
    X509* cert = SSL_CTX_get0_certificate(context.native_handle());
    unsigned char digest[32];
    unsigned int length = 0;
    if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
        return "none";
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length && i < 8; ++i) {
        out += hex[digest[i] >> 4U];
        out += hex[digest[i] & 0xFU];
    }
    return out;
}

void read_peer_certificate(void* native_ssl, peer_info& peer) {
    auto* ssl = static_cast<SSL*>(native_ssl);
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) {
        return;
    }
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
        const int length = i2d_X509(cert, nullptr);
        if (length > 0) {
            std::vector<std::uint8_t> der(static_cast<std::size_t>(length));
            unsigned char* out = der.data();
            if (i2d_X509(cert, &out) == length) {
                peer.client_certificate_der = common::shared_bytes(std::move(der));
            }
        }
        if (BIO* bio = BIO_new(BIO_s_mem())) {
            if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
                char* data = nullptr;
                const long size = BIO_get_mem_data(bio, &data);
                if (size > 0 && data != nullptr) {
                    peer.client_certificate_subject.assign(data, static_cast<std::size_t>(size));
                }
            }
            BIO_free(bio);
        }
    }
    X509_free(cert);
}

}  // namespace tollgate::net::detail
