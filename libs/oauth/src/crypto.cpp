#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tollgate/common/secret.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/oauth/crypto.hpp>

namespace tollgate::oauth {
namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct cipher_ctx_free {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;

constexpr std::size_t gcm_nonce = 12;
constexpr std::size_t gcm_tag = 16;

}  // namespace

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), as_bytes(data).data(), data.size(),
             out.data(), &len) == nullptr ||
        len != out.size()) {
        throw std::runtime_error("HMAC-SHA-256 failed");
    }
    return out;
}

server_keys::server_keys(std::span<const std::uint8_t> master) {
    if (master.size() != 32) {
        throw std::invalid_argument("server key must be 32 bytes");
    }
    storage_key_ = hmac_sha256(master, "tollgate oauth storage v1");
    kek_ = hmac_sha256(master, "tollgate oauth key-encryption v1");
    csrf_key_ = hmac_sha256(master, "tollgate oauth csrf v1");
}

std::string server_keys::digest(std::string_view value) const {
    return common::to_hex(hmac_sha256(storage_key_, value));
}

bool server_keys::matches(std::string_view value, std::string_view stored_digest) const {
    return common::constant_time_equal(digest(value), stored_digest);
}

std::string server_keys::csrf_token(std::string_view cookie, std::string_view purpose) const {
    std::string input;
    input.reserve(cookie.size() + purpose.size() + 1);
    input.append(cookie).push_back('|');
    input.append(purpose);
    return jose::base64url_encode(hmac_sha256(csrf_key_, input));
}

bool server_keys::csrf_ok(std::string_view token, std::string_view cookie, std::string_view purpose) const {
    if (cookie.empty() || token.empty()) {
        return false;
    }
    return common::constant_time_equal(csrf_token(cookie, purpose), token);
}

std::string server_keys::seal(std::string_view plaintext, std::string_view aad) const {
    const auto nonce = common::random_bytes(gcm_nonce);
    std::vector<std::uint8_t> out(gcm_nonce + plaintext.size() + gcm_tag);
    std::memcpy(out.data(), nonce.data(), gcm_nonce);
    cipher_ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int total = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, kek_.data(), nonce.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, as_bytes(aad).data(), static_cast<int>(aad.size())) !=
            1 ||
        EVP_EncryptUpdate(ctx.get(), out.data() + gcm_nonce, &len, as_bytes(plaintext).data(),
                          static_cast<int>(plaintext.size())) != 1) {
        throw std::runtime_error("AES-256-GCM encryption failed");
    }
    total = len;
    if (EVP_EncryptFinal_ex(ctx.get(), out.data() + gcm_nonce + total, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, gcm_tag,
                            out.data() + gcm_nonce + plaintext.size()) != 1) {
        throw std::runtime_error("AES-256-GCM encryption failed");
    }
    return jose::base64url_encode(out);
}

std::optional<std::string> server_keys::open(std::string_view box, std::string_view aad) const {
    auto raw = jose::base64url_decode(box);
    if (!raw || raw->size() < gcm_nonce + gcm_tag) {
        return std::nullopt;
    }
    const auto& in = raw.value();
    const std::size_t clen = in.size() - gcm_nonce - gcm_tag;
    std::string out(clen, '\0');
    std::array<std::uint8_t, gcm_tag> tag{};
    std::memcpy(tag.data(), in.data() + gcm_nonce + clen, gcm_tag);
    cipher_ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, kek_.data(), in.data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, as_bytes(aad).data(), static_cast<int>(aad.size())) !=
            1 ||
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                          in.data() + gcm_nonce, static_cast<int>(clen)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, gcm_tag, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
        return std::nullopt;
    }
    return out;
}

std::array<std::uint8_t, 32> load_or_create_key_file(const std::string& path) {
    std::array<std::uint8_t, 32> key{};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        const auto fresh = common::random_bytes(key.size());
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            const auto written = ::write(fd, fresh.data(), fresh.size());
            ::fsync(fd);
            ::close(fd);
            if (written != static_cast<ssize_t>(fresh.size())) {
                throw std::runtime_error("cannot write key file " + path);
            }
        } else if (errno != EEXIST) {
            throw std::runtime_error("cannot create key file " + path + ": " + std::strerror(errno));
        }
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        throw std::runtime_error("cannot open key file " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size != static_cast<off_t>(key.size())) {
        ::close(fd);
        throw std::runtime_error("key file " + path + " must hold exactly 32 bytes");
    }
    if ((st.st_mode & 077) != 0) {
        ::fchmod(fd, 0600);
    }
    const auto got = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (got != static_cast<ssize_t>(key.size())) {
        throw std::runtime_error("cannot read key file " + path);
    }
    return key;
}

std::string random_token(std::string_view prefix) {
    std::string out(prefix);
    out += jose::base64url_encode(common::random_bytes(32));
    return out;
}

std::string hash_password(std::string_view password) {
    constexpr std::uint32_t t_cost = 2;
    constexpr std::uint32_t m_cost = 19 * 1024;
    constexpr std::uint32_t parallelism = 1;
    constexpr std::size_t salt_len = 16;
    constexpr std::size_t hash_len = 32;
    const auto salt = common::random_bytes(salt_len);
    const auto encoded_len = argon2_encodedlen(t_cost, m_cost, parallelism, salt_len, hash_len, Argon2_id);
    std::string encoded(encoded_len, '\0');
    const int rc = argon2id_hash_encoded(t_cost, m_cost, parallelism, password.data(), password.size(),
                                         salt.data(), salt_len, hash_len, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) {
        throw std::runtime_error(std::string("argon2id failed: ") + argon2_error_message(rc));
    }
    encoded.resize(std::strlen(encoded.c_str()));
    return encoded;
}

bool verify_password(std::string_view password, const std::string& phc) {
    if (phc.rfind("$argon2id$", 0) != 0 || password.size() > 4096) {
        return false;
    }
    return argon2id_verify(phc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool is_valid_code_verifier(std::string_view verifier) noexcept {
    if (verifier.size() < 43 || verifier.size() > 128) {
        return false;
    }
    for (const char c : verifier) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool is_valid_code_challenge(std::string_view challenge) noexcept {
    if (challenge.size() != 43) {
        return false;
    }
    for (const char c : challenge) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string pkce_s256_challenge(std::string_view verifier) {
    return jose::base64url_encode(common::sha256(verifier));
}

bool pkce_s256_matches(std::string_view verifier, std::string_view challenge) {
    if (!is_valid_code_verifier(verifier)) {
        return false;
    }
    return common::constant_time_equal(pkce_s256_challenge(verifier), challenge);
}

std::string generate_user_code() {
    std::string code;
    while (code.size() < 8) {
        for (const auto b : common::random_bytes(16)) {
            // 240 = 12 * 20: rejection sampling keeps the distribution uniform.
            if (b < 240 && code.size() < 8) {
                code.push_back(user_code_alphabet[b % user_code_alphabet.size()]);
            }
        }
    }
    return code.substr(0, 4) + "-" + code.substr(4);
}

std::optional<std::string> normalize_user_code(std::string_view typed) {
    if (typed.size() > 32) {
        return std::nullopt;
    }
    std::string out;
    for (char c : typed) {
        if (c == '-' || c == ' ') {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 32);
        }
        if (user_code_alphabet.find(c) == std::string_view::npos) {
            return std::nullopt;
        }
        out.push_back(c);
    }
    if (out.size() != 8) {
        return std::nullopt;
    }
    return out;
}

}  // namespace tollgate::oauth
