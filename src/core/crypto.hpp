#pragma once
// Random tokens, hashes and encodings on OpenSSL. All functions are thread-safe.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace parley::crypto {

/// n bytes from the OS CSPRNG (RAND_bytes); throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);
/// prefix + base64url(random n bytes), e.g. random_token("sk_", 32).
std::string random_token(std::string_view prefix, std::size_t n);
/// prefix + lowercase base32 of random bytes, `chars` characters long.
std::string random_id(std::string_view prefix, std::size_t chars);

/// Raw 32-byte SHA-256 digest.
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

/// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace parley::crypto
