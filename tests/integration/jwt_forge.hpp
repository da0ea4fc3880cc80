#pragma once
// Builds access tokens by hand (HS256 over OpenSSL HMAC) to test what the server must refuse:
// expired tokens, foreign signatures, "alg": "none", tampered claims.
#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

namespace parley::test {

/// The claims the server puts in an access token.
struct Claims {
  std::string iss = "parley";
  std::string app;
  std::string sub;
  std::string sid = "ses_forged";
  std::int64_t gen = 0;
  std::int64_t iat = 0;
  std::int64_t exp = 0;

  boost::json::object to_json() const;
};

/// header.payload.signature with HS256 under `key`.
std::string sign_hs256(const boost::json::object& header, const boost::json::object& payload, const std::string& key);
std::string sign_hs256(const Claims& claims, const std::string& key);
/// An unsigned token: {"alg":"none"} and an empty signature.
std::string unsigned_token(const Claims& claims);
/// The payload of a JWT, decoded (not verified).
boost::json::object jwt_payload(const std::string& token);
/// Seconds since the Unix epoch.
std::int64_t unix_now();

}  // namespace parley::test
