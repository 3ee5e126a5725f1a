// Strict base64url (RFC 7515 §2, RFC 4648 §5) and strict JSON (RFC 8725 §3.7 / RFC 8259).
#include <string>

#include <gtest/gtest.h>

#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/json.hpp>

namespace tollgate::jose {
namespace {

TEST(Base64url, Rfc4648Section10VectorsWithoutPadding) {
    EXPECT_EQ(base64url_encode(std::string_view("")), "");
    EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
    EXPECT_EQ(base64url_encode(std::string_view("fo")), "Zm8");
    EXPECT_EQ(base64url_encode(std::string_view("foo")), "Zm9v");
    EXPECT_EQ(base64url_encode(std::string_view("foob")), "Zm9vYg");
    EXPECT_EQ(base64url_encode(std::string_view("fooba")), "Zm9vYmE");
    EXPECT_EQ(base64url_encode(std::string_view("foobar")), "Zm9vYmFy");
    EXPECT_EQ(*base64url_decode_string("Zm9vYmE"), "fooba");
    EXPECT_EQ(*base64url_decode_string(""), "");
}

TEST(Base64url, UrlAlphabet) {
    const std::string bytes{'\xfb', '\xff', '\xbf'};
    EXPECT_EQ(base64url_encode(bytes), "-_-_");
    EXPECT_EQ(*base64url_decode_string("-_-_"), bytes);
}

TEST(Base64url, RoundTripEveryLength) {
    std::string data;
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(*base64url_decode_string(base64url_encode(data)), data);
        data.push_back(static_cast<char>(i * 37 + 11));
    }
}

TEST(Base64url, NonCanonicalInputIsRejected) {
    // RFC 7515 §2: no padding; RFC 4648 §3.5: non-zero pad bits make a second spelling.
    for (std::string_view bad : {"Zg==", "Zg=", "Zm8=", "Zm9v\n", " Zm9v", "Zm+v", "Zm/v", "Zm9vY", "Zh",
                                 "Zm9", "Zm-", "Z", "Zm9vY\xc3\xa9", "Zm\x00v"}) {
        EXPECT_EQ(base64url_decode(bad).error(), errc::bad_base64) << bad;
    }
    // "Zh" differs from "Zg" only in the unused low bits: both would decode to "f".
    EXPECT_TRUE(base64url_decode("Zg"));
    EXPECT_TRUE(base64url_decode("Zm8"));
    EXPECT_FALSE(base64url_decode("Zm9"));
}

TEST(StrictJson, AcceptsAnObject) {
    auto o = parse_json_object(R"( {"a":1,"b":[true,null,"x"],"c":{"d":2.5}} )");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->at("a").as_int64(), 1);
    EXPECT_EQ(o->at("c").as_object().at("d").as_double(), 2.5);
}

TEST(StrictJson, DuplicateMembersAreRejectedAtEveryLevel) {
    for (std::string_view bad :
         {R"({"exp":1,"exp":9999999999})", R"({"alg":"none","alg":"RS256"})", R"({"sub":"a","sub":"admin"})",
          R"({"a":{"x":1,"x":2}})", R"({"a":[{"x":1,"y":2,"x":3}]})", R"({"a\u0062":1,"ab":2})"}) {
        EXPECT_EQ(parse_json_object(bad).error(), errc::duplicate_member) << bad;
    }
    // The same name in sibling objects is fine.
    EXPECT_TRUE(parse_json_object(R"({"a":{"x":1},"b":{"x":2}})"));
}

TEST(StrictJson, DepthLimit) {
    std::string deep(10'000, '[');
    deep = "{\"a\":" + deep;
    EXPECT_EQ(parse_json_object(deep).error(), errc::json_too_deep);
    std::string ok = "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}";
    EXPECT_TRUE(parse_json_object(ok));
    std::string nested_objects;
    for (int i = 0; i < 100'000; ++i) {
        nested_objects += "{\"a\":";
    }
    json_limits roomy;
    roomy.max_bytes = 1 << 20;
    EXPECT_EQ(parse_json_object(nested_objects, roomy).error(), errc::json_too_deep);
    EXPECT_EQ(parse_json_object(nested_objects).error(), errc::json_too_large);  // 500 KB > 64 KiB
}

TEST(StrictJson, SizeMemberAndStringLimits) {
    json_limits limits{.max_bytes = 64, .max_depth = 4, .max_members = 3, .max_string_bytes = 5};
    EXPECT_EQ(parse_json_object(std::string(65, ' '), limits).error(), errc::json_too_large);
    EXPECT_EQ(parse_json_object(R"({"a":1,"b":2,"c":3,"d":4})", limits).error(), errc::json_too_large);
    EXPECT_EQ(parse_json_object(R"({"a":"123456"})", limits).error(), errc::json_too_large);
    EXPECT_EQ(parse_json_object(R"({"abcdef":1})", limits).error(), errc::json_too_large);
    EXPECT_TRUE(parse_json_object(R"({"a":"12345"})", limits));
}

TEST(StrictJson, InvalidJsonIsRejected) {
    for (std::string_view bad : {"", "[]", "\"x\"", "1", "{", R"({"a":1,})", R"({"a":1} x)", R"({"a":1}{})",
                                 "\xef\xbb\xbf{}", R"({"a":"\ud800"})", "{\"a\":\"\xff\"}", R"({"a":NaN})",
                                 R"({"a":1e400})", R"({/*c*/"a":1})", R"({'a':1})"}) {
        EXPECT_FALSE(parse_json_object(bad)) << bad;
    }
}

}  // namespace
}  // namespace tollgate::jose
