#include <gtest/gtest.h>

#include <tollgate/common/bytes.hpp>

using tollgate::common::shared_bytes;

TEST(shared_bytes, copies_share_storage) {
    shared_bytes a = shared_bytes::copy_of(std::string_view("hello world"));
    shared_bytes b = a;  // NOLINT(performance-unnecessary-copy-initialization)
    EXPECT_EQ(a.data(), b.data());
    EXPECT_EQ(a.use_count(), 2);
    EXPECT_EQ(b.as_string_view(), "hello world");
}

TEST(shared_bytes, slice_keeps_storage_alive) {
    shared_bytes s;
    {
        shared_bytes a = shared_bytes::copy_of(std::string_view("hello world"));
        s = a.slice(6, 5);
    }
    EXPECT_EQ(s.as_string_view(), "world");
    EXPECT_EQ(s.use_count(), 1);
    EXPECT_THROW((void)s.slice(3, 3), std::out_of_range);
}

TEST(shared_bytes, equality_compares_contents) {
    EXPECT_EQ(shared_bytes::copy_of(std::string_view("x")), shared_bytes::copy_of(std::string_view("x")));
    EXPECT_FALSE(shared_bytes::copy_of(std::string_view("x")) == shared_bytes::copy_of(std::string_view("y")));
    EXPECT_TRUE(shared_bytes().empty());
}
