// Outgoing webhooks through the real binary (docs/webhooks.md), delivered to a receiver in
// another language (webhook_receiver.py) that verifies the Standard Webhooks signatures with
// Python's hmac: endpoints and their bad input, tenancy walls, events of real sends, retries
// after 500s and timeouts, disabling an endpoint that keeps failing (with its audit entry),
// secret rotation with an overlap, the delivery log, and the outbound address policy (the
// receiver on loopback is refused unless --outbound-allow names it), and the outbox: messages
// whose deliveries were not stored when their node was killed are delivered after a restart.
#include <csignal>
#include <map>
#include <set>

#include "db_file.hpp"

#include "fixtures.hpp"

namespace parley::test {
namespace {

// The Python receiver, on 127.0.0.1 at a port it picks.
class Receiver {
 public:
  std::string url(const std::string& path = "/hook") const { return script_.url(path); }
  void configure(const json::object& cfg) {
    auto r = script_.http().post("/_config", {}, cfg);
    if (r.status != 200) throw std::runtime_error("receiver config: " + r.body);
  }
  json::array received() { return json::parse(script_.http().get("/_received").body).as_array(); }

 private:
  LoopbackScript script_ = LoopbackScript::python("webhook_receiver.py");
};

ServerProcess::Options webhook_node(bool allow_loopback = true) {
  ServerProcess::Options o;
  o.flag("jobs-poll-ms", "50").flag("webhooks-retry-schedule", "200ms,200ms").flag("webhooks-disable-after", "2");
  o.flag("webhooks-timeout-ms", "1000").flag("webhooks-max-endpoints", "3");
  if (allow_loopback) o.flag("outbound-allow", "127.0.0.1/32");
  return o;
}

class WebhooksTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override { return webhook_node(); }

  json::object create(const json::object& body, const AppCreds* app = nullptr) {
    auto r = http().post("/v1/webhooks", (app ? *app : app_).auth(), body);
    EXPECT_STATUS(r, 201);
    return r.status == 201 ? r.obj()["webhook"].as_object() : json::object{};
  }
  json::object endpoint_to(const std::string& url, json::array types = {"*"}) {
    return create({{"url", url}, {"event_types", std::move(types)}});
  }
  json::array deliveries(const std::string& id) {
    auto r = http().get("/v1/webhooks/" + id + "/deliveries", app_.auth());
    EXPECT_STATUS(r, 200);
    return r.status == 200 ? r.obj()["items"].as_array() : json::array{};
  }
  // The receiver's requests whose body has this type.
  static std::vector<json::object> of_type(const json::array& received, const std::string& type) {
    std::vector<json::object> out;
    for (const auto& v : received) {
      const auto& o = v.as_object();
      if (o.at("body").is_object() && o.at("body").as_object().at("type") == type.c_str()) out.push_back(o);
    }
    return out;
  }
  std::string channel_with_message(const UserTokens& alice, const std::string& text) {
    auto ch = http().post("/v1/channels", alice.auth(), {{"type", "group"}, {"name", "hooks"}});
    if (ch.status != 201) throw std::runtime_error(ch.body);
    std::string id = str(ch.obj()["channel"].as_object()["id"]);
    auto m = http().post("/v1/channels/" + id + "/messages", alice.auth(), {{"text", text}});
    if (m.status != 201) throw std::runtime_error(m.body);
    return id;
  }

  Receiver receiver_;
};

TEST_F(WebhooksTest, AnEndpointIsCreatedReadChangedAndDeleted) {
  auto e = endpoint_to(receiver_.url(), {"message.new", "reaction.added"});
  const std::string id = str(e["id"]);
  EXPECT_TRUE(str(e["secret"]).starts_with("whsec_")) << e;
  EXPECT_EQ(e["enabled"], true);
  EXPECT_EQ(e["event_types"].as_array().size(), 2u);

  auto list = http().get("/v1/webhooks", app_.auth());
  ASSERT_STATUS(list, 200);
  ASSERT_EQ(list.obj()["items"].as_array().size(), 1u);
  EXPECT_FALSE(list.obj()["items"].as_array()[0].as_object().contains("secret"));  // shown on create and rotate only

  auto patched =
      http().patch("/v1/webhooks/" + id, app_.auth(),
                   {{"event_types", {"message.deleted"}}, {"description", "audit copy"}, {"enabled", false}});
  ASSERT_STATUS(patched, 200);
  auto p = patched.obj()["webhook"].as_object();
  EXPECT_EQ(p["event_types"].as_array(), (json::array{"message.deleted"}));
  EXPECT_EQ(p["description"], "audit copy");
  EXPECT_EQ(p["enabled"], false);
  EXPECT_ERROR(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 409, "conflict");  // disabled

  auto types = http().get("/v1/webhooks/event-types", app_.auth());
  ASSERT_STATUS(types, 200);
  EXPECT_NE(types.body.find("\"message.new\""), std::string::npos);
  EXPECT_EQ(types.body.find("typing.start"), std::string::npos);

  EXPECT_STATUS(http().del("/v1/webhooks/" + id, app_.auth()), 204);
  EXPECT_ERROR(http().get("/v1/webhooks/" + id, app_.auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/webhooks/" + id, app_.auth()), 404, "not_found");
}

TEST_F(WebhooksTest, BadInputIsRefusedWithTheField) {
  const auto bad = [&](const json::object& body, int status, const char* code, const char* field) {
    auto r = http().post("/v1/webhooks", app_.auth(), body);
    EXPECT_ERROR(r, status, code) << body;
    EXPECT_EQ(error_detail(r), field) << body << " " << r.body;
  };
  bad({{"event_types", {"*"}}}, 400, "invalid_request", "url");
  bad({{"url", receiver_.url()}}, 400, "invalid_request", "event_types");
  bad({{"url", "ftp://127.0.0.1/x"}, {"event_types", {"*"}}}, 400, "invalid_request", "url");
  bad({{"url", "file:///etc/passwd"}, {"event_types", {"*"}}}, 400, "invalid_request", "url");
  bad({{"url", "not a url"}, {"event_types", {"*"}}}, 400, "invalid_request", "url");
  bad({{"url", receiver_.url()}, {"event_types", json::array{}}}, 400, "invalid_request", "event_types");
  bad({{"url", receiver_.url()}, {"event_types", "message.new"}}, 400, "invalid_request", "event_types");
  bad({{"url", receiver_.url()}, {"event_types", {"typing.start"}}}, 400, "invalid_request", "event_types");
  bad({{"url", receiver_.url()}, {"event_types", {"message.nwe"}}}, 400, "invalid_request", "event_types");
  bad({{"url", receiver_.url()}, {"event_types", {1}}}, 400, "invalid_request", "event_types");
  bad({{"url", receiver_.url()}, {"event_types", {"*"}}, {"enabled", "yes"}}, 400, "invalid_request", "enabled");
  bad({{"url", receiver_.url()}, {"event_types", {"*"}}, {"colour", "red"}}, 400, "invalid_request", "colour");
  EXPECT_ERROR(http().send_raw("POST", "/v1/webhooks", app_.auth(), "{not json"), 400, "invalid_json");

  for (int i = 0; i < 3; ++i) endpoint_to(receiver_.url());
  EXPECT_ERROR(http().post("/v1/webhooks", app_.auth(), {{"url", receiver_.url()}, {"event_types", {"*"}}}), 422,
               "validation_failed");  // --webhooks-max-endpoints 3
  const std::string id = str(http().get("/v1/webhooks", app_.auth()).obj()["items"].as_array()[0].as_object()["id"]);
  EXPECT_ERROR(http().patch("/v1/webhooks/" + id, app_.auth(), {{"url", "gopher://x"}}), 400, "invalid_request");
  EXPECT_ERROR(http().post("/v1/webhooks/" + id + "/rotate-secret", app_.auth(), {{"overlap_seconds", -1}}), 422,
               "validation_failed");
  EXPECT_ERROR(http().get("/v1/webhooks/" + id + "/deliveries?cursor=abc", app_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/webhooks/" + id + "/deliveries?cursor=YzE6eA", app_.auth()), 400,
               "invalid_request");  // "c1:x"
  // User tokens and the admin key are not app credentials.
  auto alice = mint("alice");
  EXPECT_ERROR(http().get("/v1/webhooks", alice.auth()), 403, "forbidden");
  EXPECT_ERROR(http().get("/v1/webhooks", {}), 401, "unauthorized");
}

TEST_F(WebhooksTest, AnotherAppCannotSeeOrTouchAnEndpoint) {
  const std::string id = str(endpoint_to(receiver_.url())["id"]);
  AppCreds other = create_app("app B");
  EXPECT_EQ(http().get("/v1/webhooks", other.auth()).obj()["items"].as_array().size(), 0u);
  EXPECT_ERROR(http().get("/v1/webhooks/" + id, other.auth()), 404, "not_found");
  EXPECT_ERROR(http().patch("/v1/webhooks/" + id, other.auth(), {{"enabled", false}}), 404, "not_found");
  EXPECT_ERROR(http().post("/v1/webhooks/" + id + "/test", other.auth()), 404, "not_found");
  EXPECT_ERROR(http().post("/v1/webhooks/" + id + "/rotate-secret", other.auth()), 404, "not_found");
  EXPECT_ERROR(http().get("/v1/webhooks/" + id + "/deliveries", other.auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/webhooks/" + id, other.auth()), 404, "not_found");
  // And app B's messages never reach app A's endpoint.
  auto e = http().get("/v1/webhooks/" + id, app_.auth());
  ASSERT_STATUS(e, 200);
  auto bob = mint(other, "bob");
  channel_with_message(bob, "only for B");
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(of_type(receiver_.received(), "message.new").empty());
}

TEST_F(WebhooksTest, AMessageSentIsDeliveredSignedAndLogged) {
  auto e = endpoint_to(receiver_.url(), {"message.new"});
  const std::string id = str(e["id"]);
  receiver_.configure({{"secrets", {e["secret"]}}});
  auto alice = mint("alice");
  const std::string ch = channel_with_message(alice, "hello hooks");

  ASSERT_TRUE(eventually([&] { return !of_type(receiver_.received(), "message.new").empty(); }));
  auto got = of_type(receiver_.received(), "message.new");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["verified"], true) << got[0];
  EXPECT_EQ(got[0]["headers"].as_object()["content-type"], "application/json");
  auto body = got[0]["body"].as_object();
  EXPECT_EQ(body["app_id"], app_.id.c_str());
  auto data = body["data"].as_object();
  EXPECT_EQ(data["channel_id"], ch.c_str());
  EXPECT_EQ(data["seq"], 1);
  EXPECT_NE(json::serialize(data).find("hello hooks"), std::string::npos) << data;
  // channel.created and member events were not subscribed to.
  EXPECT_EQ(receiver_.received().size(), 1u);

  ASSERT_TRUE(eventually([&] {
    auto d = deliveries(id);
    return d.size() == 1 && d[0].as_object().at("state") == "succeeded";
  }));
  auto d = deliveries(id)[0].as_object();
  EXPECT_EQ(d["status_code"], 200);
  EXPECT_EQ(d["attempts"], 1);
  EXPECT_EQ(d["event_type"], "message.new");
  EXPECT_EQ(d["response_excerpt"], "received");
  EXPECT_TRUE(d["latency_ms"].is_int64());
  EXPECT_EQ(d["message_id"], got[0]["headers"].as_object()["webhook-id"]);
}

TEST_F(WebhooksTest, UserChangesAreDelivered) {
  auto e = endpoint_to(receiver_.url(), {"user.updated", "user.deactivated", "user.reactivated"});
  receiver_.configure({{"secrets", {e["secret"]}}});
  auto alice = mint("alice");
  ASSERT_STATUS(http().patch("/v1/users/me", alice.auth(), {{"name", "Alice A."}}), 200);
  ASSERT_STATUS(http().post("/v1/users/alice/deactivate", app_.auth()), 200);
  ASSERT_STATUS(http().post("/v1/users/alice/reactivate", app_.auth()), 200);
  ASSERT_TRUE(eventually([&] { return receiver_.received().size() >= 3; }));
  std::map<std::string, json::object> by_type;
  for (const auto& v : receiver_.received()) {
    const auto& r = v.as_object();
    EXPECT_EQ(r.at("verified"), true) << r;
    const auto& body = r.at("body").as_object();
    by_type[str(body.at("type"))] = body.at("data").as_object().at("user").as_object();
  }
  ASSERT_EQ(by_type.size(), 3u) << json::serialize(receiver_.received());
  EXPECT_EQ(by_type["user.updated"]["name"], "Alice A.");
  EXPECT_TRUE(by_type["user.deactivated"]["deactivated_at"].is_string());
  EXPECT_TRUE(by_type["user.reactivated"]["deactivated_at"].is_null());
  EXPECT_EQ(by_type["user.reactivated"]["id"], "alice");
}

TEST_F(WebhooksTest, EverySubscribedEndpointGetsItsOwnDelivery) {
  auto a = endpoint_to(receiver_.url("/a"), {"message.new"});
  auto b = endpoint_to(receiver_.url("/b"), {"*"});
  endpoint_to(receiver_.url("/c"), {"reaction.added"});
  auto alice = mint("alice");
  channel_with_message(alice, "to both");
  ASSERT_TRUE(eventually([&] { return of_type(receiver_.received(), "message.new").size() == 2; }));
  std::this_thread::sleep_for(300ms);  // nothing more comes for message.new
  auto got = of_type(receiver_.received(), "message.new");
  ASSERT_EQ(got.size(), 2u);
  std::set<std::string> paths{str(got[0]["path"]), str(got[1]["path"])};
  EXPECT_EQ(paths, (std::set<std::string>{"/a", "/b"}));
  EXPECT_NE(got[0]["headers"].as_object()["webhook-id"], got[1]["headers"].as_object()["webhook-id"]);
  // "*" also got the channel and member events of the same change.
  EXPECT_FALSE(of_type(receiver_.received(), "channel.created").empty());
  for (const auto& r : receiver_.received()) EXPECT_NE(r.as_object().at("path"), "/c");
  EXPECT_EQ(deliveries(str(a["id"])).size(), 1u);
}

TEST_F(WebhooksTest, AnOrderedEndpointGetsAChannelsEventsInOrderThroughRetries) {
  auto e = create({{"url", receiver_.url()}, {"event_types", {"message.new"}}, {"ordered", true}});
  EXPECT_EQ(e["ordered"], true);
  receiver_.configure({{"secrets", {e["secret"]}}, {"fail", 2}, {"status", 500}});
  auto alice = mint("alice");
  auto ch = http().post("/v1/channels", alice.auth(), {{"type", "group"}, {"name", "ordered"}});
  ASSERT_STATUS(ch, 201);
  const std::string channel = str(ch.obj()["channel"].as_object()["id"]);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_STATUS(http().post("/v1/channels/" + channel + "/messages", alice.auth(), {{"text", std::to_string(i)}}),
                  201);
  }
  ASSERT_TRUE(eventually([&] { return of_type(receiver_.received(), "message.new").size() == 7; }));
  // The first message failed twice; the later ones waited for it instead of overtaking it.
  std::vector<std::int64_t> seqs;
  std::vector<std::int64_t> answered;
  for (const auto& r : of_type(receiver_.received(), "message.new")) {
    seqs.push_back(r.at("body").as_object().at("data").as_object().at("seq").as_int64());
    answered.push_back(r.at("answered").as_int64());
  }
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 1, 1, 2, 3, 4, 5}));
  EXPECT_EQ(answered, (std::vector<std::int64_t>{500, 500, 200, 200, 200, 200, 200}));

  auto off = http().patch("/v1/webhooks/" + str(e["id"]), app_.auth(), {{"ordered", false}});
  ASSERT_STATUS(off, 200);
  EXPECT_EQ(off.obj()["webhook"].as_object()["ordered"], false);
  EXPECT_ERROR(http().patch("/v1/webhooks/" + str(e["id"]), app_.auth(), {{"ordered", "yes"}}), 400, "invalid_request");
}

TEST_F(WebhooksTest, FailedAttemptsAreRetriedWithTheSameId) {
  auto e = endpoint_to(receiver_.url());
  const std::string id = str(e["id"]);
  receiver_.configure({{"secrets", {e["secret"]}}, {"fail", 1}, {"status", 500}});
  ASSERT_STATUS(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 202);
  ASSERT_TRUE(eventually([&] {
    auto d = deliveries(id);
    return !d.empty() && d[0].as_object().at("state") == "succeeded";
  }));
  // One 500, then a timeout (the receiver answers after 1.5 s; the endpoint has 1 s), then 200.
  receiver_.configure({{"fail", 2}, {"status", 500}, {"delay_ms", 0}});
  ASSERT_STATUS(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 202);
  ASSERT_TRUE(eventually([&] { return of_type(receiver_.received(), "webhook.test").size() == 5; }));
  auto got = of_type(receiver_.received(), "webhook.test");
  EXPECT_EQ(got[0]["answered"], 500);
  EXPECT_EQ(got[1]["answered"], 200);
  EXPECT_EQ(got[0]["headers"].as_object()["webhook-id"], got[1]["headers"].as_object()["webhook-id"]);
  EXPECT_EQ(got[2]["headers"].as_object()["webhook-id"], got[4]["headers"].as_object()["webhook-id"]);
  EXPECT_NE(got[0]["headers"].as_object()["webhook-id"], got[2]["headers"].as_object()["webhook-id"]);
  for (const auto& g : got) EXPECT_EQ(g.at("verified"), true) << g;
  ASSERT_TRUE(eventually([&] {
    auto d = deliveries(id);
    return d.size() == 2 && d[0].as_object().at("state") == "succeeded";
  }));
  auto d = deliveries(id);
  EXPECT_EQ(d[0].as_object()["attempts"], 3);  // newest first
  EXPECT_EQ(d[1].as_object()["attempts"], 2);

  receiver_.configure({{"fail", 1}, {"status", 200}, {"delay_ms", 1500}});
  ASSERT_STATUS(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 202);
  ASSERT_TRUE(eventually([&] {
    auto all = deliveries(id);
    return all.size() == 3 && all[0].as_object().at("state") == "succeeded";
  }));
  auto timed_out = deliveries(id)[0].as_object();
  EXPECT_EQ(timed_out["attempts"], 2);
}

TEST_F(WebhooksTest, AnEndpointThatKeepsFailingIsDisabledAndAudited) {
  auto e = endpoint_to(receiver_.url());
  const std::string id = str(e["id"]);
  receiver_.configure({{"fail", 1000}, {"status", 503}});
  // --webhooks-disable-after 2: two deliveries that fail all 3 attempts.
  for (int i = 0; i < 2; ++i) ASSERT_STATUS(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 202);
  ASSERT_TRUE(eventually([&] {
    return http().get("/v1/webhooks/" + id, app_.auth()).obj()["webhook"].as_object().at("enabled") == false;
  }));
  auto ep = http().get("/v1/webhooks/" + id, app_.auth()).obj()["webhook"].as_object();
  EXPECT_EQ(ep["failures_in_a_row"], 2);
  EXPECT_TRUE(ep["disabled_reason"].is_string());
  EXPECT_EQ(of_type(receiver_.received(), "webhook.test").size(), 6u);
  for (const auto& d : deliveries(id)) {
    EXPECT_EQ(d.as_object().at("state"), "failed");
    EXPECT_EQ(d.as_object().at("status_code"), 503);
    EXPECT_EQ(d.as_object().at("error"), "HTTP 503");
  }
  auto audit = http().get("/v1/admin/audit?app_id=" + app_.id, admin_auth());
  ASSERT_STATUS(audit, 200);
  EXPECT_NE(audit.body.find("webhook.endpoint.disabled"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find(id), std::string::npos);
  // The failed jobs are dead letters an operator can see.
  auto dead = http().get("/v1/admin/jobs?state=dead&kind=webhook.deliver", admin_auth());
  ASSERT_STATUS(dead, 200);
  EXPECT_EQ(dead.obj()["items"].as_array().size(), 2u);

  // Enabling it again starts a fresh count.
  auto again = http().patch("/v1/webhooks/" + id, app_.auth(), {{"enabled", true}});
  ASSERT_STATUS(again, 200);
  EXPECT_EQ(again.obj()["webhook"].as_object()["failures_in_a_row"], 0);
  EXPECT_TRUE(again.obj()["webhook"].as_object()["disabled_reason"].is_null());
}

TEST_F(WebhooksTest, ARotatedSecretKeepsSigningDuringItsOverlap) {
  auto e = endpoint_to(receiver_.url());
  const std::string id = str(e["id"]);
  const std::string old_secret = str(e["secret"]);
  auto rotated = http().post("/v1/webhooks/" + id + "/rotate-secret", app_.auth(), {{"overlap_seconds", 3600}});
  ASSERT_STATUS(rotated, 200);
  const std::string new_secret = str(rotated.obj()["webhook"].as_object()["secret"]);
  EXPECT_NE(new_secret, old_secret);
  EXPECT_TRUE(rotated.obj()["webhook"].as_object()["previous_secret_expires_at"].is_string());
  receiver_.configure({{"secrets", {old_secret, new_secret}}});
  ASSERT_STATUS(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 202);
  ASSERT_TRUE(eventually([&] { return of_type(receiver_.received(), "webhook.test").size() == 1; }));
  EXPECT_EQ(of_type(receiver_.received(), "webhook.test")[0]["signed_by"], (json::array{0, 1}));

  // No overlap: only the newest secret signs.
  auto again = http().post("/v1/webhooks/" + id + "/rotate-secret", app_.auth(), {{"overlap_seconds", 0}});
  ASSERT_STATUS(again, 200);
  const std::string newest = str(again.obj()["webhook"].as_object()["secret"]);
  receiver_.configure({{"secrets", {old_secret, new_secret, newest}}});
  ASSERT_STATUS(http().post("/v1/webhooks/" + id + "/test", app_.auth()), 202);
  ASSERT_TRUE(eventually([&] { return of_type(receiver_.received(), "webhook.test").size() == 2; }));
  EXPECT_EQ(of_type(receiver_.received(), "webhook.test")[1]["signed_by"], (json::array{2}));
}

TEST_F(WebhooksTest, WithoutTheAllowListALoopbackEndpointIsRefused) {
  ServerProcess strict(webhook_node(false));
  HttpClient http2(strict.port());
  auto app = http2.post("/v1/admin/apps", admin_auth(), {{"name", "strict"}});
  ASSERT_STATUS(app, 201);
  auto o = app.obj();
  Auth auth = Auth::basic(str(o["api_key"]), str(o["api_secret"]));
  auto e = http2.post("/v1/webhooks", auth, {{"url", receiver_.url()}, {"event_types", {"*"}}});
  ASSERT_STATUS(e, 201);
  const std::string id = str(e.obj()["webhook"].as_object()["id"]);
  ASSERT_STATUS(http2.post("/v1/webhooks/" + id + "/test", auth), 202);
  ASSERT_TRUE(eventually([&] {
    auto d = http2.get("/v1/webhooks/" + id + "/deliveries", auth).obj()["items"].as_array();
    return !d.empty() && d[0].as_object().at("state") == "failed";
  }));
  auto d = http2.get("/v1/webhooks/" + id + "/deliveries", auth).obj()["items"].as_array()[0].as_object();
  EXPECT_NE(str(d["error"]).find("refused (loopback"), std::string::npos) << d;
  EXPECT_TRUE(d["status_code"].is_null());
  EXPECT_TRUE(receiver_.received().empty());
}

// The outbox (chat/outbox.hpp): node A commits and acknowledges messages but, held by
// --test-hold-events, stores none of their deliveries before it is killed. Node B, on the same
// database, finds the rows no node confirmed and delivers every message once.
TEST(WebhooksNodeTest, MessagesCommittedBeforeACrashAreDeliveredAfterIt) {
  Receiver receiver;
  TempDir dir;
  Auth app;
  std::string endpoint_id, channel;
  {
    ServerProcess a(webhook_node().in(dir.path()).flag("test-hold-events", "true"));
    HttpClient http(a.port());
    auto created = http.post("/v1/admin/apps", admin_auth(), {{"name", "outbox"}});
    ASSERT_STATUS(created, 201);
    auto o = created.obj();
    app = Auth::basic(str(o["api_key"]), str(o["api_secret"]));
    auto e =
        http.post("/v1/webhooks", app, {{"url", receiver.url()}, {"event_types", {"message.new", "thread.reply"}}});
    ASSERT_STATUS(e, 201);
    endpoint_id = str(e.obj()["webhook"].as_object()["id"]);
    receiver.configure({{"secrets", {e.obj()["webhook"].as_object()["secret"]}}});
    auto token = http.post("/v1/auth/token", app, {{"user_id", "alice"}});
    ASSERT_STATUS(token, 200);
    Auth alice = Auth::bearer(str(token.obj()["access_token"]));
    auto ch = http.post("/v1/channels", alice, {{"type", "group"}, {"name", "outbox"}});
    ASSERT_STATUS(ch, 201);
    channel = str(ch.obj()["channel"].as_object()["id"]);
    for (int i = 1; i <= 4; ++i) {
      ASSERT_STATUS(http.post("/v1/channels/" + channel + "/messages", alice, {{"text", "m" + std::to_string(i)}}),
                    201);
    }
    ASSERT_STATUS(http.post("/v1/channels/" + channel + "/messages", alice, {{"text", "a reply"}, {"parent_seq", 1}}),
                  201);
    EXPECT_GE(metric_value(http.get("/metrics").body, "parley_outbox_pending").value_or(0), 1.0);
    DbFile db(a.db_path());
    EXPECT_NE(db.value("SELECT count(*) FROM event_outbox WHERE app_id = ? AND channel_id = ?",
                       {str(o["app"].as_object()["id"]), channel}),
              "0");
    a.child().signal(SIGKILL);
    a.wait_exit(5s);
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(receiver.received().empty());  // A stored no delivery: nothing was sent

  ServerProcess b(webhook_node().in(dir.path()).flag("outbox-replay-after-ms", "0"));
  HttpClient http(b.port());
  // The replay runs on a 10-second schedule.
  auto seqs_of = [](const json::array& received, const char* type) {
    std::multiset<std::int64_t> out;
    for (const auto& v : received) {
      const auto& r = v.as_object();
      const auto& body = r.at("body").as_object();
      if (body.at("type") != type) continue;
      EXPECT_EQ(r.at("verified"), true) << r;
      const auto& data = body.at("data").as_object();
      out.insert(data.at(std::string_view(type) == "thread.reply" ? "reply_seq" : "seq").as_int64());
    }
    return out;
  };
  ASSERT_TRUE(eventually([&] { return seqs_of(receiver.received(), "message.new").size() >= 5; }, 30s)) << b.err();
  ASSERT_TRUE(eventually([&] { return !seqs_of(receiver.received(), "thread.reply").empty(); }, 5s))
      << json::serialize(receiver.received());
  EXPECT_EQ(seqs_of(receiver.received(), "message.new"), (std::multiset<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(seqs_of(receiver.received(), "thread.reply"), (std::multiset<std::int64_t>{5}));
  // The deliveries are logged on the endpoint like any other, and the rows are gone.
  auto d = http.get("/v1/webhooks/" + endpoint_id + "/deliveries", app);
  ASSERT_STATUS(d, 200);
  EXPECT_EQ(d.obj()["items"].as_array().size(), 6u);
  DbFile db(b.db_path());
  EXPECT_TRUE(eventually([&] { return db.value("SELECT count(*) FROM event_outbox") == "0"; }));
  EXPECT_TRUE(eventually([&] { return metric_value(http.get("/metrics").body, "parley_outbox_pending") == 0.0; }));
}

// A node that runs normally confirms its rows: none is left to replay, and nothing arrives twice.
TEST_F(WebhooksTest, ConfirmedMessagesLeaveNoOutboxRow) {
  auto e = endpoint_to(receiver_.url(), {"message.new"});
  receiver_.configure({{"secrets", {e["secret"]}}});
  auto alice = mint("alice");
  const std::string ch = channel_with_message(alice, "first");
  for (int i = 0; i < 20; ++i) {
    ASSERT_STATUS(http().post("/v1/channels/" + ch + "/messages", alice.auth(), {{"text", "more"}}), 201);
  }
  ASSERT_TRUE(eventually([&] { return of_type(receiver_.received(), "message.new").size() >= 21; }));
  DbFile db(server().db_path());
  EXPECT_TRUE(eventually([&] { return db.value("SELECT count(*) FROM event_outbox") == "0"; }));
  EXPECT_EQ(of_type(receiver_.received(), "message.new").size(), 21u);
}

// A delivery whose worker was killed mid-attempt, with no attempt left, fails for good once its
// lease expires: the log says so instead of "pending" for ever.
TEST(WebhooksNodeTest, ADeliveryWhoseWorkerDiedWithoutAttemptsLeftIsLoggedAsFailed) {
  Receiver receiver;
  TempDir dir;
  auto node = [&] {
    auto o = webhook_node().in(dir.path());
    o.flag("webhooks-retry-schedule", "").flag("jobs-lease-ms", "1000").flag("webhooks-timeout-ms", "20000");
    return o;
  };
  Auth app;
  std::string id;
  {
    ServerProcess a(node());
    HttpClient http(a.port());
    auto created = http.post("/v1/admin/apps", admin_auth(), {{"name", "expiry"}});
    ASSERT_STATUS(created, 201);
    auto o = created.obj();
    app = Auth::basic(str(o["api_key"]), str(o["api_secret"]));
    auto e = http.post("/v1/webhooks", app, {{"url", receiver.url()}, {"event_types", {"*"}}});
    ASSERT_STATUS(e, 201);
    id = str(e.obj()["webhook"].as_object()["id"]);
    receiver.configure({{"fail", 1}, {"status", 500}, {"delay_ms", 8000}});  // the attempt hangs
    ASSERT_STATUS(http.post("/v1/webhooks/" + id + "/test", app), 202);
    ASSERT_TRUE(eventually([&] { return receiver.received().size() == 1; }));  // A is attempting it
    a.child().signal(SIGKILL);
    a.wait_exit(5s);
  }
  ServerProcess b(node());
  HttpClient http(b.port());
  ASSERT_TRUE(eventually([&] {
    auto d = http.get("/v1/webhooks/" + id + "/deliveries", app).obj()["items"].as_array();
    return d.size() == 1 && d[0].as_object().at("state") == "failed";
  }));
  auto d = http.get("/v1/webhooks/" + id + "/deliveries", app).obj()["items"].as_array()[0].as_object();
  EXPECT_NE(str(d["error"]).find("lease expired"), std::string::npos) << d;
  EXPECT_EQ(d["attempts"], 1);
}

}  // namespace
}  // namespace parley::test
