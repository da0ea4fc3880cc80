// Link previews through the real binary (docs/link-previews.md) against real pages served by a
// Python server on loopback (preview_pages.py): OpenGraph, Twitter-card, <title>, oEmbed and
// Latin-1 pages, images, malformed and huge pages, pages past the read limit, slow pages, error
// statuses and redirects (also into a refused range); previews reach the channel as
// message.updated and stay in history; edits change them; the per-app setting turns them off;
// each app has its own cache; without --outbound-allow the loopback pages are never fetched; and
// a message whose node was killed before it queued the preview job gets its preview after a
// restart (the outbox).
#include <csignal>

#include "fixtures.hpp"
#include "ws_client.hpp"

namespace parley::test {
namespace {

class Pages {
 public:
  std::string url(const std::string& path) const { return script_.url(path); }
  int hits(const std::string& path) {
    auto o = json::parse(script_.http().get("/_hits").body).as_object();
    auto* v = o.if_contains(path);
    return v ? static_cast<int>(v->as_int64()) : 0;
  }

 private:
  LoopbackScript script_ = LoopbackScript::python("preview_pages.py");
};

ServerProcess::Options preview_node(bool allow_loopback = true) {
  ServerProcess::Options o;
  o.flag("jobs-poll-ms", "50").flag("previews-timeout-ms", "1000").flag("previews-max-kb", "256");
  if (allow_loopback) o.flag("outbound-allow", "127.0.0.1/32");
  return o;
}

class PreviewsTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override { return preview_node(); }

  void SetUp() override {
    AppFixture::SetUp();
    alice_ = mint("alice");
    auto ch = http().post("/v1/channels", alice_.auth(), {{"type", "group"}, {"name", "links"}});
    ASSERT_STATUS(ch, 201);
    channel_ = str(ch.obj()["channel"].as_object()["id"]);
    ws_ = std::make_unique<WsClient>(server().port());
    ASSERT_EQ(ws_->connect("/v1/ws?token=" + alice_.access), 101) << ws_->refusal_body();
    ASSERT_TRUE(ws_->wait_for([](const json::object& f) { return f.at("type") == "hello"; }));
  }

  std::int64_t send(const std::string& text, const UserTokens* as = nullptr, const std::string* channel = nullptr) {
    auto r = http().post("/v1/channels/" + (channel ? *channel : channel_) + "/messages", (as ? *as : alice_).auth(),
                         {{"text", text}});
    EXPECT_STATUS(r, 201);
    return r.status == 201 ? r.obj()["message"].as_object()["seq"].as_int64() : 0;
  }

  // The link_previews of the next message.updated of `seq` that carries some (or, with
  // `empty`, none), as the channel hears it.
  json::array announced(std::int64_t seq, bool empty = false, std::chrono::milliseconds timeout = 15s) {
    auto f = ws_->wait_for(
        [&](const json::object& fr) {
          if (fr.at("type") != "event" || fr.at("event") != "message.updated") return false;
          const auto& m = fr.at("data").as_object().at("message").as_object();
          return m.at("seq").as_int64() == seq && m.at("link_previews").as_array().empty() == empty;
        },
        timeout);
    if (!f) {
      ADD_FAILURE() << "no message.updated with link previews for seq " << seq;
      return {};
    }
    return f->at("data").as_object().at("message").as_object().at("link_previews").as_array();
  }

  json::object stored(std::int64_t seq) {
    auto r = http().get("/v1/channels/" + channel_ + "/messages/" + std::to_string(seq), alice_.auth());
    EXPECT_STATUS(r, 200);
    return r.status == 200 ? r.obj()["message"].as_object() : json::object{};
  }

  double finished_jobs() {
    auto m = http().get("/metrics");
    return metric_value(m.body, R"(parley_jobs_finished_total{kind="preview.message",outcome="succeeded"})")
        .value_or(0);
  }

  Pages pages_;
  UserTokens alice_;
  std::string channel_;
  std::unique_ptr<WsClient> ws_;
};

TEST_F(PreviewsTest, AMessageWithAUrlGetsItsPreviewLiveAndInHistory) {
  const std::string url = pages_.url("/og");
  auto seq = send("have a look: " + url + ".");  // the full stop is the sentence's
  auto got = announced(seq);
  ASSERT_EQ(got.size(), 1u);
  const json::object want{{"url", url},
                          {"title", "Parley & friends"},
                          {"description", "A chat backend that is fast."},
                          {"site_name", "Parley Docs"},
                          {"image_url", pages_.url("/img/card.png")}};
  EXPECT_EQ(got[0].as_object(), want);
  EXPECT_EQ(stored(seq)["link_previews"], (json::array{want}));
  // The message as sent had none yet; its text is untouched.
  EXPECT_EQ(str(stored(seq)["text"]), "have a look: " + url + ".");
}

TEST_F(PreviewsTest, EachKindOfPageYieldsWhatItHas) {
  auto first =
      send(pages_.url("/twitter") + " and " + pages_.url("/plain") + " and (" + pages_.url("/oembed-page") + ")");
  auto got = announced(first);
  ASSERT_EQ(got.size(), 3u) << got;
  EXPECT_EQ(got[0].as_object(), (json::object{{"url", pages_.url("/twitter")},
                                              {"title", "Tweet title"},
                                              {"description", "Tweet text"},
                                              {"site_name", "127.0.0.1"},
                                              {"image_url", "https://cdn.example.org/t.jpg"}}));
  EXPECT_EQ(got[1].as_object(), (json::object{{"url", pages_.url("/plain")},
                                              {"title", "Plain page"},
                                              {"description", "Only the basics"},
                                              {"site_name", "127.0.0.1"}}));
  EXPECT_EQ(got[2].as_object(), (json::object{{"url", pages_.url("/oembed-page")},
                                              {"title", "A video"},
                                              {"description", "Some One"},
                                              {"site_name", "VideoSite"},
                                              {"image_url", "https://cdn.example.org/v.jpg"}}));

  auto second = send(pages_.url("/latin1") + " " + pages_.url("/image.png") + " " + pages_.url("/malformed"));
  got = announced(second);
  ASSERT_EQ(got.size(), 3u) << got;
  EXPECT_EQ(got[0].as_object()["title"], "Café crème");
  EXPECT_EQ(got[1].as_object(), (json::object{{"url", pages_.url("/image.png")},
                                              {"site_name", "127.0.0.1"},
                                              {"image_url", pages_.url("/image.png")}}));
  // The broken page still says what it has: its <title> and its unquoted description. Its
  // og:title sits inside 5,000 open divs, past the parser's nesting limit, where reading stops.
  EXPECT_EQ(got[2].as_object()["title"], "Broken page") << got[2];
  EXPECT_EQ(got[2].as_object()["description"], "unquoted and single") << got[2];
}

TEST_F(PreviewsTest, PagesWithNothingToShowOrThatCannotBeReadAreLeftOut) {
  // Past the 256 KB read limit, nothing at all, too slow (1 s timeout), an error status: only
  // the good page of each message is previewed.
  auto a = send(pages_.url("/late") + " " + pages_.url("/none") + " " + pages_.url("/og"));
  auto got = announced(a);
  ASSERT_EQ(got.size(), 1u) << got;
  EXPECT_EQ(str(got[0].as_object()["url"]), pages_.url("/og"));

  // A 20 MB page is read only up to the limit; its head is within it.
  auto b = send(pages_.url("/slow") + " " + pages_.url("/status/500") + " " + pages_.url("/huge"));
  got = announced(b);
  ASSERT_EQ(got.size(), 1u) << got;
  EXPECT_EQ(str(got[0].as_object()["url"]), pages_.url("/huge"));
  EXPECT_EQ(got[0].as_object()["title"], "Parley & friends");
  EXPECT_EQ(pages_.hits("/slow"), 1);
  EXPECT_EQ(pages_.hits("/late"), 1);

  // A redirect into the metadata range is refused although loopback is allowed; a redirect to a
  // page keeps the URL as written.
  const std::string into_metadata = pages_.url("/redirect?to=http://169.254.169.254/latest/meta-data/");
  const std::string to_og = pages_.url("/redirect?to=/og");
  auto c = send(into_metadata + " " + to_og);
  got = announced(c);
  ASSERT_EQ(got.size(), 1u) << got;
  EXPECT_EQ(str(got[0].as_object()["url"]), to_og);
  EXPECT_EQ(got[0].as_object()["title"], "Parley & friends");
  EXPECT_EQ(pages_.hits("/redirect"), 2);

  // At most three URLs per message, the first ones.
  auto d = send(pages_.url("/plain") + " " + pages_.url("/plain?2") + " " + pages_.url("/plain?3") + " " +
                pages_.url("/twitter"));
  got = announced(d);
  EXPECT_EQ(got.size(), 3u) << got;
  EXPECT_EQ(pages_.hits("/twitter"), 0);
}

TEST_F(PreviewsTest, APageIsFetchedOncePerAppAndEachAppHasItsOwnCache) {
  auto one = send(pages_.url("/plain"));
  ASSERT_EQ(announced(one).size(), 1u);
  auto two = send("again " + pages_.url("/plain"));
  ASSERT_EQ(announced(two).size(), 1u);
  EXPECT_EQ(pages_.hits("/plain"), 1);

  // Another app's message with the same URL fetches it itself: nothing is shared across apps.
  auto other = create_app("app B");
  auto bob = mint(other, "bob");
  auto ch = http().post("/v1/channels", bob.auth(), {{"type", "group"}, {"name", "b"}});
  ASSERT_STATUS(ch, 201);
  const std::string b_channel = str(ch.obj()["channel"].as_object()["id"]);
  auto seq = send(pages_.url("/plain"), &bob, &b_channel);
  ASSERT_TRUE(eventually([&] { return pages_.hits("/plain") == 2; })) << pages_.hits("/plain");
  ASSERT_TRUE(eventually([&] {
    auto r = http().get("/v1/channels/" + b_channel + "/messages/" + std::to_string(seq), bob.auth());
    return r.status == 200 && r.obj()["message"].as_object()["link_previews"].as_array().size() == 1;
  }));
  // App A cannot read app B's message, previews and all.
  EXPECT_ERROR(http().get("/v1/channels/" + b_channel + "/messages/" + std::to_string(seq), alice_.auth()), 404,
               "not_found");
}

TEST_F(PreviewsTest, AnEditChangesThePreviewsAndADeleteDropsThem) {
  auto seq = send(pages_.url("/og"));
  ASSERT_EQ(announced(seq).size(), 1u);

  auto r = http().patch("/v1/channels/" + channel_ + "/messages/" + std::to_string(seq), alice_.auth(),
                        {{"text", "better: " + pages_.url("/plain")}});
  ASSERT_STATUS(r, 200);
  auto got = announced(seq);  // first the edit itself (still the old preview), then the new one
  while (!got.empty() && str(got[0].as_object()["url"]) != pages_.url("/plain")) got = announced(seq);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].as_object()["title"], "Plain page");

  r = http().patch("/v1/channels/" + channel_ + "/messages/" + std::to_string(seq), alice_.auth(),
                   {{"text", "no links after all"}});
  ASSERT_STATUS(r, 200);
  EXPECT_TRUE(announced(seq, true).empty());
  ASSERT_TRUE(eventually([&] { return stored(seq)["link_previews"].as_array().empty(); }));

  auto gone = send(pages_.url("/twitter"));
  ASSERT_EQ(announced(gone).size(), 1u);
  ASSERT_STATUS(http().del("/v1/channels/" + channel_ + "/messages/" + std::to_string(gone), alice_.auth()), 204);
  auto f = ws_->wait_event("message.deleted", channel_);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->at("data").as_object().at("message").as_object().at("link_previews").as_array().empty());
}

TEST_F(PreviewsTest, AnAppTurnsPreviewsOffInItsSettings) {
  auto bad = http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", {{"link_previews", "yes"}}}});
  EXPECT_ERROR(bad, 400, "invalid_request");
  EXPECT_EQ(error_detail(bad), "link_previews");

  auto off = http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", {{"link_previews", false}}}});
  ASSERT_STATUS(off, 200);
  const double before = finished_jobs();
  auto later = send(pages_.url("/plain"));

  auto on = http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", {{"link_previews", nullptr}}}});
  ASSERT_STATUS(on, 200);
  auto again = send(pages_.url("/twitter"));
  EXPECT_EQ(announced(again).size(), 1u);  // the default is on
  // Events are dispatched in order: the message sent while previews were off got no job at all.
  ASSERT_TRUE(eventually([&] { return finished_jobs() >= before + 1; }));
  EXPECT_EQ(finished_jobs(), before + 1);
  EXPECT_EQ(pages_.hits("/plain"), 0);
  EXPECT_TRUE(stored(later)["link_previews"].as_array().empty());
}

class PreviewsWithoutAllowListTest : public PreviewsTest {
 protected:
  ServerProcess::Options server_options() override { return preview_node(false); }
};

TEST_F(PreviewsWithoutAllowListTest, LoopbackPagesAreNeverFetched) {
  const double before = finished_jobs();
  auto seq = send(pages_.url("/og") + " " + pages_.url("/redirect?to=/og"));
  // The job ran (and succeeded: nothing to attach) without reaching the pages.
  ASSERT_TRUE(eventually([&] { return finished_jobs() > before; })) << "the preview job did not run";
  EXPECT_EQ(pages_.hits("/og"), 0);
  EXPECT_EQ(pages_.hits("/redirect"), 0);
  EXPECT_TRUE(stored(seq)["link_previews"].as_array().empty());
}

// Node A commits the message but, held by --test-hold-events, never queues its preview job
// before it is killed; node B replays the outbox row and the message gets its preview.
TEST(PreviewsNodeTest, AMessageCommittedBeforeACrashGetsItsPreviewAfterIt) {
  Pages pages;
  TempDir dir;
  Auth alice;
  std::string channel;
  std::int64_t seq = 0;
  {
    ServerProcess a(preview_node().in(dir.path()).flag("test-hold-events", "true"));
    HttpClient http(a.port());
    auto created = http.post("/v1/admin/apps", admin_auth(), {{"name", "outbox"}});
    ASSERT_STATUS(created, 201);
    auto o = created.obj();
    Auth app = Auth::basic(str(o["api_key"]), str(o["api_secret"]));
    auto token = http.post("/v1/auth/token", app, {{"user_id", "alice"}});
    ASSERT_STATUS(token, 200);
    alice = Auth::bearer(str(token.obj()["access_token"]));
    auto ch = http.post("/v1/channels", alice, {{"type", "group"}, {"name", "links"}});
    ASSERT_STATUS(ch, 201);
    channel = str(ch.obj()["channel"].as_object()["id"]);
    auto m = http.post("/v1/channels/" + channel + "/messages", alice, {{"text", "see " + pages.url("/og")}});
    ASSERT_STATUS(m, 201);
    seq = m.obj()["message"].as_object()["seq"].as_int64();
    a.child().signal(SIGKILL);
    a.wait_exit(5s);
  }
  EXPECT_EQ(pages.hits("/og"), 0);
  ServerProcess b(preview_node().in(dir.path()).flag("outbox-replay-after-ms", "0"));
  HttpClient http(b.port());
  json::array previews;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http.get("/v1/channels/" + channel + "/messages/" + std::to_string(seq), alice);
        if (r.status != 200) return false;
        previews = r.obj()["message"].as_object()["link_previews"].as_array();
        return !previews.empty();
      },
      30s));
  EXPECT_EQ(previews[0].as_object()["title"], "Parley & friends");
  EXPECT_EQ(pages.hits("/og"), 1);
}

}  // namespace
}  // namespace parley::test
