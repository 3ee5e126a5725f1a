#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include <tollgate/common/log.hpp>

using namespace tollgate::common;

TEST(logging, json_lines_escape_the_message) {
    const auto path =
        std::filesystem::temp_directory_path() / ("tollgate-log-test-" + std::to_string(::getpid()));
    std::filesystem::remove(path);
    configure_logging({.level = "info", .format = log_format::json, .file = path.string()});
    logger("test")->info("say \"hi\" \\ then\nnext\x01");
    logger("test")->flush();
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find(R"("area":"test","msg":"say \"hi\" \\ then\u000anext\u0001"})"),
              std::string::npos)
        << text.str();
    configure_logging({});
    std::filesystem::remove(path);
}

TEST(logging, unknown_level_names_the_key) {
    try {
        configure_logging({.level = "loud", .format = log_format::text, .file = ""});
        FAIL() << "accepted an unknown level";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("log.level"), std::string::npos);
    }
}
