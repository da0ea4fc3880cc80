// Webhook signatures (the Standard Webhooks test vector), secrets, retry schedules and endpoint
// filters. Delivery end to end is in tests/integration/webhooks_test.cpp.
#include <gtest/gtest.h>

#include "webhooks/signature.hpp"
#include "webhooks/webhook_service.hpp"

namespace parley::webhooks {
namespace {

TEST(WebhookSignatureTest, MatchesTheStandardWebhooksTestVector) {
  EXPECT_EQ(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                 R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignatureTest, EverySecretSignsInTheHeader) {
  const std::string a = new_secret(), b = new_secret();
  EXPECT_NE(a, b);
  EXPECT_EQ(signature_header({a, b}, "msg_1", 10, "{}"), sign(a, "msg_1", 10, "{}") + " " + sign(b, "msg_1", 10, "{}"));
  EXPECT_NE(sign(a, "msg_1", 10, "{}"), sign(a, "msg_1", 11, "{}"));
  EXPECT_NE(sign(a, "msg_1", 10, "{}"), sign(a, "msg_2", 10, "{}"));
}

TEST(WebhookSignatureTest, OnlyWhsecSecretsAreKeys) {
  EXPECT_TRUE(new_secret().starts_with("whsec_"));
  EXPECT_EQ(secret_key(new_secret())->size(), 24u);
  EXPECT_FALSE(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // no prefix
  EXPECT_FALSE(secret_key("whsec_!!!"));                         // not base64
  EXPECT_FALSE(secret_key("whsec_c2hvcnQ="));                    // too short a key
  EXPECT_THROW(sign("nope", "m", 1, ""), std::invalid_argument);
}

TEST(RetryScheduleTest, ParsesDelaysWithUnits) {
  auto s = parse_retry_schedule("250ms,5s,2m,1h");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<TimeMs>{250, 5000, 120000, 3600000}));
  EXPECT_TRUE(parse_retry_schedule("")->empty());  // one attempt, no retries
  for (const char* bad : {"5", "5x", "s", "-1s", "5s,", ",5s", "1.5s", "5 s"})
    EXPECT_FALSE(parse_retry_schedule(bad)) << bad;
}

TEST(EndpointTest, FiltersAndSigningSecrets) {
  Endpoint e;
  e.event_types = {"message.new", "reaction.added"};
  EXPECT_TRUE(e.wants("message.new"));
  EXPECT_FALSE(e.wants("message.deleted"));
  e.event_types = {"*"};
  EXPECT_TRUE(e.wants("channel.created"));
  e.secret = "new";
  e.previous_secret = "old";
  e.previous_secret_until = 1000;
  EXPECT_EQ(e.signing_secrets(999), (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(e.signing_secrets(1000), (std::vector<std::string>{"new"}));
}

TEST(EndpointTest, OnlyServerSideEventsAreSubscribable) {
  const auto& names = subscribable_events();
  for (const char* n : {"message.new", "message.updated", "message.deleted", "reaction.added", "member.added",
                        "channel.created", "thread.reply"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  for (const char* n : {"typing.start", "presence.changed", "unread.changed"})
    EXPECT_EQ(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace parley::webhooks
