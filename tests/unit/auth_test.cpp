#include <gtest/gtest.h>

#include "auth/jwt.hpp"
#include "auth/rate_limiter.hpp"
#include "core/crypto.hpp"

namespace parley::auth {
namespace {

AccessClaims claims(std::int64_t exp) { return {"app_1", "alice", "ses_1", 3, 1000, exp}; }

TEST(Jwt, SignedTokensVerifyAndCarryTheirClaims) {
  std::string key = crypto::random_bytes(32);
  auto token = sign_access_token(claims(2000), key);
  EXPECT_EQ(peek_app_id(token).value(), "app_1");
  auto c = verify_access_token(token, key, 1500);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user_id, "alice");
  EXPECT_EQ(c->session_id, "ses_1");
  EXPECT_EQ(c->gen, 3);
}

TEST(Jwt, ExpiredTokensAreTokenExpired) {
  std::string key = crypto::random_bytes(32);
  auto token = sign_access_token(claims(2000), key);
  EXPECT_EQ(verify_access_token(token, key, 2000).error().code, Errc::token_expired);
}

TEST(Jwt, AnotherKeyOrATamperedPayloadDoesNotVerify) {
  std::string key = crypto::random_bytes(32);
  auto token = sign_access_token(claims(2000), key);
  EXPECT_EQ(verify_access_token(token, crypto::random_bytes(32), 1500).error().code, Errc::unauthorized);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  std::string forged_payload = crypto::base64url_encode(
      R"({"app":"app_1","sub":"mallory","sid":"s","gen":3,"iat":1000,"exp":2000,"iss":"parley"})");
  std::string forged = token.substr(0, dot1 + 1) + forged_payload + token.substr(dot2);
  EXPECT_EQ(verify_access_token(forged, key, 1500).error().code, Errc::unauthorized);
}

TEST(Jwt, UnsignedAlgNoneTokensAreRejected) {
  std::string key = crypto::random_bytes(32);
  std::string header = crypto::base64url_encode(R"({"alg":"none","typ":"JWT"})");
  std::string payload = crypto::base64url_encode(
      R"({"app":"app_1","sub":"alice","sid":"s","gen":3,"iat":1000,"exp":2000,"iss":"parley"})");
  EXPECT_FALSE(verify_access_token(header + "." + payload + ".", key, 1500));
  EXPECT_FALSE(peek_app_id("not-a-token"));
}

TEST(RateLimiter, AllowsTheBurstThenAsksToWait) {
  RateLimiter rl;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(rl.take("ip", 1.0, 3, 100.0).has_value());
  auto wait = rl.take("ip", 1.0, 3, 100.0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GE(*wait, 1);
  EXPECT_FALSE(rl.take("other-ip", 1.0, 3, 100.0).has_value());
  EXPECT_FALSE(rl.take("ip", 1.0, 3, 101.5).has_value());  // refilled
}

TEST(RateLimiter, StaysBoundedUnderManyKeys) {
  RateLimiter rl(160);
  for (int i = 0; i < 10000; ++i) rl.take("k" + std::to_string(i), 1.0, 1, 100.0 + i * 1e-4);
  EXPECT_LE(rl.size(), 160u + 16u);
  EXPECT_FALSE(rl.take("fresh", 1.0, 1, 200.0).has_value());
}

}  // namespace
}  // namespace parley::auth
