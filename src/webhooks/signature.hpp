#pragma once
// Standard Webhooks signatures (https://www.standardwebhooks.com): a secret is "whsec_" and the
// base64 of random bytes; a message is signed as HMAC-SHA256 over "<webhook-id>.<webhook-
// timestamp>.<body>" with the decoded secret, sent as "v1,<base64>" in webhook-signature (one
// per secret, space-separated, while a rotated-out secret still signs). Thread-safe functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::webhooks {

/// A new secret: "whsec_" + base64 of 24 random bytes.
std::string new_secret();
/// The key bytes of a "whsec_…" secret; nullopt when it is not one.
std::optional<std::string> secret_key(std::string_view secret);
/// "v1,<base64 HMAC-SHA256>" of one message under one secret (which must be a valid secret).
std::string sign(std::string_view secret, std::string_view message_id, std::int64_t timestamp_s, std::string_view body);
/// The webhook-signature header value: one signature per secret, space-separated.
std::string signature_header(const std::vector<std::string>& secrets, std::string_view message_id,
                             std::int64_t timestamp_s, std::string_view body);

}  // namespace parley::webhooks
