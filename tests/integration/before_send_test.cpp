// The before-send hook through the real binary (docs/bots.md, "Before-send hook"), against a
// hook in Python (before_send_hook.py) that checks each call's Standard Webhooks signature with
// hmac: allow, reject with a reason the sender sees, rewrite, timeouts and broken answers failing
// open or closed as the app chose, REST and WebSocket sends alike, one sender's pipelined sends
// keeping their order, bad configuration, and other apps left alone.
#include "fixtures.hpp"
#include "ws_client.hpp"

namespace parley::test {
namespace {

class Hook {
 public:
  std::string url() const { return script_.url("/hook"); }
  void use_secret(const std::string& secret) { script_.http().post("/_secret", {}, json::object{{"secret", secret}}); }
  json::array calls() { return json::parse(script_.http().get("/_calls").body).as_array(); }

 private:
  LoopbackScript script_ = LoopbackScript::python("before_send_hook.py");
};

class BeforeSendTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    ServerProcess::Options o;
    o.flag("outbound-allow", "127.0.0.1/32");
    return o;
  }
  void SetUp() override {
    AppFixture::SetUp();
    alice_ = mint("alice");
    auto ch = http().post("/v1/channels", alice_.auth(), {{"type", "group"}, {"name", "gated"}});
    ASSERT_STATUS(ch, 201);
    channel_ = str(ch.obj()["channel"].as_object()["id"]);
  }
  json::object put_hook(json::object body) {
    auto r = http().put("/v1/hooks/before-send", app_.auth(), body);
    EXPECT_STATUS(r, 200);
    auto h = r.obj()["hook"].as_object();
    if (h.contains("secret")) hook_.use_secret(str(h["secret"]));
    return h;
  }
  HttpResponse send(const std::string& text) {
    return http().post("/v1/channels/" + channel_ + "/messages", alice_.auth(), {{"text", text}});
  }
  json::array history() {
    return http().get("/v1/channels/" + channel_ + "/messages", alice_.auth()).obj()["items"].as_array();
  }

  Hook hook_;
  UserTokens alice_;
  std::string channel_;
};

TEST_F(BeforeSendTest, TheHookAllowsRejectsAndRewritesMessagesBeforeTheyAreStored) {
  auto h = put_hook({{"url", hook_.url()}});
  EXPECT_EQ(h["timeout_ms"], 500);
  EXPECT_EQ(h["on_failure"], "allow");
  EXPECT_TRUE(str(h["secret"]).starts_with("whsec_"));

  auto ok = send("hello");
  ASSERT_STATUS(ok, 201);
  EXPECT_EQ(ok.obj()["message"].as_object()["text"], "hello");

  auto no = send("reject this please");
  EXPECT_ERROR(no, 403, "forbidden");
  EXPECT_EQ(error_detail(no, "reason"), "no swearing here");

  auto loud = send("rewrite me");
  ASSERT_STATUS(loud, 201);
  EXPECT_EQ(loud.obj()["message"].as_object()["text"], "REWRITE ME");

  auto items = history();
  ASSERT_EQ(items.size(), 2u);  // the rejected one was never stored
  EXPECT_EQ(items[0].as_object()["text"], "hello");
  EXPECT_EQ(items[1].as_object()["text"], "REWRITE ME");

  auto calls = hook_.calls();
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) {
    EXPECT_EQ(c.as_object().at("verified"), true) << c;
    const auto& body = c.as_object().at("body").as_object();
    EXPECT_EQ(body.at("type"), "message.before_send");
    EXPECT_EQ(body.at("app_id"), app_.id.c_str());
    EXPECT_EQ(body.at("data").as_object().at("message").as_object().at("channel_id"), channel_.c_str());
    EXPECT_EQ(body.at("data").as_object().at("message").as_object().at("user_id"), "alice");
  }

  // An empty 204 allows too.
  EXPECT_STATUS(send("empty answer"), 201);
}

TEST_F(BeforeSendTest, AFailedCallFailsOpenOrClosedAsTheAppChose) {
  put_hook({{"url", hook_.url()}, {"timeout_ms", 300}});
  for (const char* text : {"slow one", "broken one", "garbage one"}) EXPECT_STATUS(send(text), 201) << text;

  put_hook({{"on_failure", "reject"}});
  for (const char* text : {"slow two", "broken two", "garbage two"}) {
    auto r = send(text);
    EXPECT_ERROR(r, 503, "unavailable") << text;
  }
  EXPECT_STATUS(send("fine"), 201);
  // Nothing the hook could not judge was stored while failing closed.
  std::vector<std::string> texts;
  for (const auto& m : history()) texts.push_back(str(m.as_object().at("text")));
  EXPECT_EQ(texts, (std::vector<std::string>{"slow one", "broken one", "garbage one", "fine"}));

  // A hook nobody listens on (connection refused) is a failure too.
  put_hook({{"url", "http://127.0.0.1:9/none"}, {"on_failure", "allow"}});
  EXPECT_STATUS(send("nobody home"), 201);
}

TEST_F(BeforeSendTest, WebSocketSendsAreJudgedAndOneSendersMessagesKeepTheirOrder) {
  put_hook({{"url", hook_.url()}});
  WsClient ws(server().port());
  ASSERT_EQ(ws.connect("/v1/ws?token=" + alice_.access), 101);
  ASSERT_TRUE(ws.wait_for([](const json::object& f) { return f.at("type") == "hello"; }));
  auto no = ws.command({{"type", "message.send"}, {"channel_id", channel_}, {"text", "reject via ws"}});
  ASSERT_TRUE(no);
  EXPECT_EQ((*no)["type"], "error") << json::serialize(*no);
  EXPECT_EQ((*no)["error"].as_object()["code"], "forbidden");

  // Twenty sends without waiting for their acks: stored in the order sent.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(ws.send({{"type", "message.send"},
                         {"id", "m" + std::to_string(i)},
                         {"channel_id", channel_},
                         {"text", "n" + std::to_string(i)}}));
  }
  int acks = 0;
  while (acks < 20) {
    auto f = ws.wait_for([](const json::object& fr) { return fr.at("type") == "ack"; }, 10s);
    ASSERT_TRUE(f) << "acks so far: " << acks;
    ++acks;
  }
  auto items = history();
  ASSERT_EQ(items.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(str(items[i].as_object()["text"]), "n" + std::to_string(i));
}

TEST_F(BeforeSendTest, TheHookIsConfiguredWithAppCredentialsAndChecked) {
  EXPECT_ERROR(http().get("/v1/hooks/before-send", app_.auth()), 404, "not_found");
  EXPECT_ERROR(http().get("/v1/hooks/before-send", alice_.auth()), 403, "forbidden");  // a user token is not enough
  EXPECT_ERROR(http().put("/v1/hooks/before-send", app_.auth(), json::object{{"timeout_ms", 100}}), 400,
               "invalid_request");  // no url for a new hook
  EXPECT_ERROR(http().put("/v1/hooks/before-send", app_.auth(), json::object{{"url", "ftp://x.test/"}}), 400,
               "invalid_request");
  EXPECT_ERROR(http().put("/v1/hooks/before-send", app_.auth(), json::object{{"url", hook_.url()}, {"timeout_ms", 10}}),
               422, "validation_failed");
  EXPECT_ERROR(
      http().put("/v1/hooks/before-send", app_.auth(), json::object{{"url", hook_.url()}, {"on_failure", "maybe"}}),
      400, "invalid_request");
  EXPECT_ERROR(http().put("/v1/hooks/before-send", app_.auth(), json::object{{"url", hook_.url()}, {"extra", 1}}), 400,
               "invalid_request");

  auto h = put_hook({{"url", hook_.url()}, {"timeout_ms", 1000}, {"on_failure", "reject"}});
  auto got = http().get("/v1/hooks/before-send", app_.auth());
  ASSERT_STATUS(got, 200);
  EXPECT_FALSE(got.obj()["hook"].as_object().contains("secret"));
  EXPECT_EQ(got.obj()["hook"].as_object()["timeout_ms"], 1000);

  // Rotation: calls are signed with the new secret only.
  auto rotated = http().post("/v1/hooks/before-send/rotate-secret", app_.auth());
  ASSERT_STATUS(rotated, 200);
  EXPECT_NE(rotated.obj()["hook"].as_object()["secret"], h["secret"]);
  EXPECT_STATUS(send("after rotation"), 201);
  EXPECT_EQ(hook_.calls().back().as_object().at("verified"), false);  // the hook still has the old one
  hook_.use_secret(str(rotated.obj()["hook"].as_object()["secret"]));
  EXPECT_STATUS(send("verified again"), 201);
  EXPECT_EQ(hook_.calls().back().as_object().at("verified"), true);

  // Another app's sends never reach this app's hook.
  auto other = create_app("app B");
  auto bob = mint(other, "bob");
  auto ch = http().post("/v1/channels", bob.auth(), {{"type", "group"}, {"name", "b"}});
  ASSERT_STATUS(ch, 201);
  const auto before = hook_.calls().size();
  EXPECT_STATUS(http().post("/v1/channels/" + str(ch.obj()["channel"].as_object()["id"]) + "/messages", bob.auth(),
                            {{"text", "reject me if you can"}}),
                201);
  EXPECT_EQ(hook_.calls().size(), before);

  ASSERT_STATUS(http().del("/v1/hooks/before-send", app_.auth()), 204);
  EXPECT_STATUS(send("reject: no hook any more"), 201);
  EXPECT_EQ(hook_.calls().size(), before);
  EXPECT_ERROR(http().del("/v1/hooks/before-send", app_.auth()), 404, "not_found");
}

}  // namespace
}  // namespace parley::test
