#include "webhooks/signature.hpp"

#include <stdexcept>

#include "core/crypto.hpp"

namespace parley::webhooks {

namespace {
constexpr std::string_view kPrefix = "whsec_";
}

std::string new_secret() { return std::string(kPrefix) + crypto::base64_encode(crypto::random_bytes(24)); }

std::optional<std::string> secret_key(std::string_view secret) {
  if (!secret.starts_with(kPrefix)) return std::nullopt;
  auto key = crypto::base64_decode(secret.substr(kPrefix.size()));
  if (!key || key->size() < 16) return std::nullopt;
  return key;
}

std::string sign(std::string_view secret, std::string_view message_id, std::int64_t timestamp_s,
                 std::string_view body) {
  auto key = secret_key(secret);
  if (!key) throw std::invalid_argument("not a webhook secret");
  std::string content;
  content.reserve(message_id.size() + body.size() + 24);
  content.append(message_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
  return "v1," + crypto::base64_encode(crypto::hmac_sha256(*key, content));
}

std::string signature_header(const std::vector<std::string>& secrets, std::string_view message_id,
                             std::int64_t timestamp_s, std::string_view body) {
  std::string out;
  for (const auto& s : secrets) {
    if (!out.empty()) out += ' ';
    out += sign(s, message_id, timestamp_s, body);
  }
  return out;
}

}  // namespace parley::webhooks
