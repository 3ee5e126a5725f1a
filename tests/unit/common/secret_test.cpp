#include <gtest/gtest.h>

#include <tollgate/common/secret.hpp>

using namespace tollgate::common;

TEST(secret, sha256_known_vector) {
    // FIPS 180-2 example: SHA-256("abc")
    EXPECT_EQ(to_hex(sha256(std::string_view("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(secret, fingerprint_is_short_and_stable) {
    EXPECT_EQ(secret_fingerprint("abc"), "ba7816bf8f01");
}

TEST(secret, constant_time_equal) {
    EXPECT_TRUE(constant_time_equal(std::string_view("secret"), std::string_view("secret")));
    EXPECT_FALSE(constant_time_equal(std::string_view("secret"), std::string_view("secreT")));
    EXPECT_FALSE(constant_time_equal(std::string_view("secret"), std::string_view("secret1")));
    EXPECT_TRUE(constant_time_equal(std::string_view(""), std::string_view("")));
}

TEST(secret, random_bytes_differ) {
    EXPECT_EQ(random_bytes(32).size(), 32U);
    EXPECT_NE(random_bytes(32), random_bytes(32));
}
