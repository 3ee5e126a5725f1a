// application/x-www-form-urlencoded parser: never crashes, and a parsed form survives
// build_query() -> parse_form() unchanged (the encoder and decoder agree).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <tollgate/oauth/form.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto first = tollgate::oauth::parse_form(text);
    if (first.error != tollgate::oauth::form_error::none) {
        return 0;
    }
    tollgate::oauth::form_limits roomy;
    roomy.max_bytes = 1 << 20;
    auto second = tollgate::oauth::parse_form(tollgate::oauth::build_query(first.value.params()), roomy);
    if (second.error != tollgate::oauth::form_error::none || second.value.params() != first.value.params()) {
        std::abort();
    }
    return 0;
}
