// Bots through the real binary (docs/bots.md): users the app marks as bots when minting their
// token, webhook endpoints that act for a bot and hear only the channels it is a member of, and
// the example bot (examples/echo-bot/bot.mjs, run with Node) answering a mention in its thread.
#include <regex>

#include "fixtures.hpp"

namespace parley::test {
namespace {

class BotsTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    ServerProcess::Options o;
    o.flag("jobs-poll-ms", "50").flag("outbound-allow", "127.0.0.1/32");
    return o;
  }

  std::string channel(const UserTokens& owner, json::array members) {
    auto r =
        http().post("/v1/channels", owner.auth(), {{"type", "group"}, {"name", "c"}, {"members", std::move(members)}});
    if (r.status != 201) throw std::runtime_error(r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  std::int64_t say(const UserTokens& who, const std::string& ch, const std::string& text) {
    auto r = http().post("/v1/channels/" + ch + "/messages", who.auth(), {{"text", text}});
    if (r.status != 201) throw std::runtime_error(r.body);
    return r.obj()["message"].as_object()["seq"].as_int64();
  }
};

TEST_F(BotsTest, TheAppMarksABotWhenMintingItsToken) {
  auto bot = mint("helper", {{"bot", true}, {"name", "Helper"}});
  EXPECT_EQ(bot.user["bot"], true);
  auto alice = mint("alice");
  EXPECT_EQ(alice.user["bot"], false);
  auto seen = http().get("/v1/users/helper", alice.auth());
  ASSERT_STATUS(seen, 200);
  EXPECT_EQ(seen.obj()["user"].as_object()["bot"], true);

  // Minting again without the flag keeps it; only the app changes it.
  EXPECT_EQ(mint("helper").user["bot"], true);
  EXPECT_EQ(mint("helper", {{"bot", false}}).user["bot"], false);
  EXPECT_EQ(mint("helper", {{"bot", true}}).user["bot"], true);

  EXPECT_ERROR(http().post("/v1/auth/token", app_.auth(), {{"user_id", "x"}, {"bot", "yes"}}), 400, "invalid_request");
  // A user cannot make itself a bot, nor stop being one.
  EXPECT_ERROR(http().patch("/v1/users/me", bot.auth(), {{"bot", false}}), 400, "invalid_request");
  EXPECT_ERROR(http().patch("/v1/users/me", alice.auth(), {{"bot", true}}), 400, "invalid_request");
}

TEST_F(BotsTest, AnEndpointActsOnlyForABotOfItsApp) {
  mint("helper", {{"bot", true}});
  mint("alice");
  auto other = create_app("app B");
  mint(other, "their-bot", {{"bot", true}});
  auto create = [&](const std::string& bot) {
    return http().post("/v1/webhooks", app_.auth(),
                       {{"url", "http://127.0.0.1:9/hook"}, {"event_types", {"*"}}, {"bot_user_id", bot}});
  };
  for (const char* not_a_bot : {"alice", "nobody", "their-bot"}) {
    auto r = create(not_a_bot);
    EXPECT_ERROR(r, 422, "validation_failed") << not_a_bot;
    EXPECT_EQ(error_detail(r), "bot_user_id");
  }
  auto ok = create("helper");
  ASSERT_STATUS(ok, 201);
  auto hook = ok.obj()["webhook"].as_object();
  EXPECT_EQ(hook["bot_user_id"], "helper");
  auto r = http().patch("/v1/webhooks/" + str(hook["id"]), app_.auth(), {{"bot_user_id", "alice"}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "bot_user_id");
}

TEST_F(BotsTest, TheExampleBotAnswersAMentionInItsThreadAndHearsOnlyItsChannels) {
  auto alice = mint("alice");
  ChildProcess bot({"/usr/bin/env", "node", std::string(PARLEY_SOURCE_DIR) + "/examples/echo-bot/bot.mjs"},
                   {{"PARLEY_URL", "http://127.0.0.1:" + std::to_string(server().port())},
                    {"PARLEY_APP_KEY", app_.key},
                    {"PARLEY_APP_SECRET", app_.secret},
                    {"PORT", "0"}});
  ASSERT_TRUE(bot.wait_for_output("listening ", 15s)) << bot.out() << bot.err();
  std::smatch m;
  const std::string out = bot.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("endpoint (whe_\\w+)"))) << out;
  const std::string endpoint = m[1];

  const std::string with_bot = channel(alice, {"echo"});
  const std::string without_bot = channel(alice, {});
  say(alice, without_bot, "@echo are you there?");  // not a member: the bot never hears it
  const auto quiet = say(alice, with_bot, "no mention here");
  const auto asked = say(alice, with_bot, "@echo hello there");

  json::array replies;
  ASSERT_TRUE(eventually([&] {
    auto r = http().get("/v1/channels/" + with_bot + "/messages/" + std::to_string(asked) + "/replies", alice.auth());
    if (r.status != 200) return false;
    replies = r.obj()["items"].as_array();
    return !replies.empty();
  })) << bot.out()
      << bot.err();
  ASSERT_EQ(replies.size(), 1u);
  const auto& reply = replies[0].as_object();
  EXPECT_EQ(reply.at("user_id"), "echo");
  EXPECT_EQ(reply.at("text"), "@alice you said: hello there");
  EXPECT_EQ(reply.at("mentions"), (json::array{"alice"}));

  // The bot's endpoint got the three messages of its channel (the bot's own reply included) and
  // nothing of the other channel.
  json::array deliveries;
  ASSERT_TRUE(eventually([&] {
    auto r = http().get("/v1/webhooks/" + endpoint + "/deliveries", app_.auth());
    deliveries = r.obj()["items"].as_array();
    return deliveries.size() >= 3;
  }));
  std::this_thread::sleep_for(300ms);
  deliveries = http().get("/v1/webhooks/" + endpoint + "/deliveries", app_.auth()).obj()["items"].as_array();
  EXPECT_EQ(deliveries.size(), 3u);
  for (const auto& d : deliveries) {
    const auto& payload = d.as_object().at("payload").as_object();
    EXPECT_EQ(payload.at("data").as_object().at("channel_id"), with_bot.c_str()) << d;
    EXPECT_EQ(d.as_object().at("state"), "succeeded") << d;
  }
  auto q = http().get("/v1/channels/" + with_bot + "/messages/" + std::to_string(quiet), alice.auth());
  EXPECT_EQ(q.obj()["message"].as_object()["reply_count"], 0);
}

}  // namespace
}  // namespace parley::test
