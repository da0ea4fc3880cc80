#include "jwt_forge.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <stdexcept>

#include "core/crypto.hpp"

namespace parley::test {

namespace json = boost::json;

json::object Claims::to_json() const {
  return {{"iss", iss}, {"app", app}, {"sub", sub}, {"sid", sid}, {"gen", gen}, {"iat", iat}, {"exp", exp}};
}

std::string sign_hs256(const json::object& header, const json::object& payload, const std::string& key) {
  std::string signing_input =
      crypto::base64url_encode(json::serialize(header)) + "." + crypto::base64url_encode(json::serialize(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len)) {
    throw std::runtime_error("HMAC failed");
  }
  return signing_input + "." + crypto::base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

std::string sign_hs256(const Claims& claims, const std::string& key) {
  return sign_hs256(json::object{{"alg", "HS256"}, {"typ", "JWT"}}, claims.to_json(), key);
}

std::string unsigned_token(const Claims& claims) {
  return crypto::base64url_encode(json::serialize(json::object{{"alg", "none"}, {"typ", "JWT"}})) + "." +
         crypto::base64url_encode(json::serialize(claims.to_json())) + ".";
}

json::object jwt_payload(const std::string& token) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) throw std::runtime_error("not a JWT: " + token);
  auto payload = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) throw std::runtime_error("JWT payload is not base64url: " + token);
  return json::parse(*payload).as_object();
}

std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace parley::test
