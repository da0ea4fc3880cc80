// Search over HTTP, on both stores (the suite runs again under scripts/with-postgres.sh): words,
// phrases, prefixes and exclusions; every filter; both sorts and their paging; highlights; the
// permission matrix (member, former member, private non-member, public non-member, another app);
// edits, deletes and purges reflected; hostile query syntax answered with results or a 400;
// channel search, suggestions and recent queries.
#include <csignal>
#include <set>
#include <thread>

#include "fixtures.hpp"

namespace parley::test {
namespace {

std::string enc(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class SearchTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    alice_ = mint("alice", {{"name", "Alice"}});
    bob_ = mint("bob", {{"name", "Bob"}});
    carol_ = mint("carol", {{"name", "Carol"}});
  }
  std::string create_channel(const UserTokens& who, const std::string& type, const std::string& name,
                             json::array members = {}, const std::string& topic = "") {
    auto r = http().post("/v1/channels", who.auth(),
                         {{"type", type}, {"name", name}, {"members", members}, {"topic", topic}});
    if (r.status != 201) throw std::runtime_error("create channel failed: " + r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  std::int64_t send(const UserTokens& who, const std::string& ch, const std::string& text, json::object extra = {}) {
    extra["text"] = text;
    auto r = http().post("/v1/channels/" + ch + "/messages", who.auth(), extra);
    if (r.status != 201) throw std::runtime_error("send failed: " + r.body);
    return r.obj()["message"].as_object()["seq"].as_int64();
  }
  HttpResponse search(const UserTokens& who, const std::string& q, const std::string& extra = "") {
    return http().get("/v1/search/messages?q=" + enc(q) + extra, who.auth());
  }
  // The texts of the hits, in order.
  std::vector<std::string> texts(const HttpResponse& r) {
    std::vector<std::string> out;
    if (r.status != 200) {
      ADD_FAILURE() << r.body;
      return out;
    }
    for (const auto& h : r.obj()["items"].as_array()) {
      out.push_back(str(h.as_object().at("message").as_object().at("text")));
    }
    return out;
  }
  std::set<std::string> text_set(const HttpResponse& r) {
    auto v = texts(r);
    return {v.begin(), v.end()};
  }
  // Waits until `who` finds exactly `n` hits for `q` (the index follows sends within a second).
  bool finds(const UserTokens& who, const std::string& q, std::size_t n, const std::string& extra = "") {
    return eventually(
        [&] {
          auto r = search(who, q, extra + "&remember=false");
          return r.status == 200 && r.obj()["items"].as_array().size() == n;
        },
        std::chrono::seconds(5));
  }

  UserTokens alice_, bob_, carol_;
};

TEST_F(SearchTest, FindsWordsPhrasesPrefixesAndLeavesOutExclusions) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  send(alice_, ch, "The release notes are ready");
  send(bob_, ch, "Notes about the release party");
  send(alice_, ch, "Draft release notes, not ready");
  send(bob_, ch, "Café déjà vu");
  ASSERT_TRUE(finds(bob_, "release ", 3));
  EXPECT_EQ(text_set(search(bob_, "\"release notes\"")),
            (std::set<std::string>{"The release notes are ready", "Draft release notes, not ready"}));
  EXPECT_EQ(texts(search(bob_, "release -draft -party ")), std::vector<std::string>{"The release notes are ready"});
  EXPECT_EQ(text_set(search(bob_, "rea")).size(), 2u);  // the word being typed: ready, ready
  EXPECT_TRUE(texts(search(bob_, "rea ")).empty());     // a finished word matches whole words only
  EXPECT_EQ(texts(search(bob_, "par*")), std::vector<std::string>{"Notes about the release party"});
  // Case and diacritics fold on both stores.
  EXPECT_EQ(texts(search(bob_, "CAFE DEJA ")), std::vector<std::string>{"Café déjà vu"});
  EXPECT_EQ(texts(search(bob_, "déjà ")), std::vector<std::string>{"Café déjà vu"});
}

TEST_F(SearchTest, AHitCarriesItsChannelASnippetWithHighlightsAndTheTotal) {
  auto ch = create_channel(alice_, "group", "Ops", {"bob"});
  auto seq = send(alice_, ch, "Deploy 🚀 done: deploy again on Friday");
  ASSERT_TRUE(finds(bob_, "deploy ", 1));
  auto r = search(bob_, "deploy fri");
  ASSERT_STATUS(r, 200);
  auto body = r.obj();
  EXPECT_EQ(body["total"].as_object()["count"], 1);
  EXPECT_EQ(body["total"].as_object()["exact"], true);
  EXPECT_TRUE(body["next_cursor"].is_null());
  auto hit = body["items"].as_array().at(0).as_object();
  EXPECT_EQ(hit["message"].as_object()["seq"], seq);
  EXPECT_EQ(hit["message"].as_object()["user_id"], "alice");
  EXPECT_EQ(str(hit["channel"].as_object()["id"]), ch);
  EXPECT_EQ(hit["channel"].as_object()["name"], "Ops");
  EXPECT_EQ(hit["channel"].as_object()["type"], "group");
  EXPECT_TRUE(hit["score"].is_number());
  auto snippet = hit["snippet"].as_object();
  EXPECT_EQ(snippet["text"], "Deploy 🚀 done: deploy again on Friday");
  // UTF-16 offsets: the emoji counts two.
  json::array want{json::object{{"start", 0}, {"end", 6}}, json::object{{"start", 16}, {"end", 22}},
                   json::object{{"start", 32}, {"end", 38}}};
  EXPECT_EQ(snippet["highlights"], want);
}

TEST_F(SearchTest, FiltersNarrowTheHits) {
  auto a = create_channel(alice_, "group", "A", {"bob"});
  auto b = create_channel(alice_, "group", "B", {"bob"});
  auto root = send(alice_, a, "alpha root message");
  send(bob_, a, "alpha reply in thread", {{"parent_seq", root}});
  send(bob_, a, "alpha with a link https://example.org/page");
  send(alice_, a, "alpha with a file", {{"attachments", json::array{json::object{{"url", "https://x.test/f.png"}}}}});
  auto mention = send(alice_, b, "alpha for @bob", {{"mentions", json::array{"bob"}}});
  auto pinned = send(bob_, b, "alpha to pin");
  ASSERT_TRUE(finds(bob_, "alpha ", 6));
  ASSERT_STATUS(http().put("/v1/channels/" + b + "/pins/" + std::to_string(pinned), alice_.auth()), 204);
  ASSERT_STATUS(http().put("/v1/saved/" + b + "/" + std::to_string(mention), bob_.auth()), 204);

  EXPECT_EQ(texts(search(bob_, "alpha ", "&channel_id=" + b)).size(), 2u);
  EXPECT_EQ(texts(search(bob_, "alpha ", "&channel_id=" + a + "," + b)).size(), 6u);
  EXPECT_EQ(
      text_set(search(bob_, "alpha ", "&from=bob")),
      (std::set<std::string>{"alpha reply in thread", "alpha with a link https://example.org/page", "alpha to pin"}));
  EXPECT_EQ(texts(search(bob_, "alpha ", "&in_thread=true")), std::vector<std::string>{"alpha reply in thread"});
  EXPECT_EQ(texts(search(bob_, "alpha ", "&in_thread=false")).size(), 5u);
  EXPECT_EQ(texts(search(bob_, "alpha ", "&has=link")),
            std::vector<std::string>{"alpha with a link https://example.org/page"});
  EXPECT_EQ(texts(search(bob_, "alpha ", "&has=attachment")), std::vector<std::string>{"alpha with a file"});
  EXPECT_EQ(texts(search(bob_, "alpha ", "&mentions_me=true")), std::vector<std::string>{"alpha for @bob"});
  EXPECT_EQ(texts(search(bob_, "alpha ", "&pinned=true")), std::vector<std::string>{"alpha to pin"});
  EXPECT_EQ(texts(search(bob_, "alpha ", "&saved=true")), std::vector<std::string>{"alpha for @bob"});
  EXPECT_EQ(texts(search(bob_, "alpha ", "&after=2000-01-01T00:00:00Z&before=2100-01-01T00:00:00Z")).size(), 6u);
  EXPECT_TRUE(texts(search(bob_, "alpha ", "&after=2100-01-01T00:00:00Z")).empty());
  EXPECT_TRUE(texts(search(bob_, "alpha ", "&before=2000-01-01T00:00:00Z")).empty());
}

TEST_F(SearchTest, NewestAndRelevanceSortsPageThroughEveryHitOnce) {
  auto ch = create_channel(alice_, "group", "Many", {"bob"});
  for (int i = 0; i < 7; ++i) send(alice_, ch, "omega number " + std::to_string(i));
  send(alice_, ch, "omega omega omega omega, the most omega of all");
  ASSERT_TRUE(finds(bob_, "omega ", 8));
  for (std::string sort : {"newest", "relevance"}) {
    std::vector<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      auto r = search(bob_, "omega ", "&limit=3&sort=" + sort + (cursor.empty() ? "" : "&cursor=" + enc(cursor)));
      ASSERT_STATUS(r, 200);
      for (auto& t : texts(r)) seen.push_back(t);
      EXPECT_EQ(r.obj()["total"].as_object()["count"], 8);
      if (r.obj()["next_cursor"].is_null()) break;
      cursor = str(r.obj()["next_cursor"]);
    }
    EXPECT_EQ(seen.size(), 8u) << sort;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 8u) << sort;
    if (sort == "newest") {
      EXPECT_EQ(seen.front(), "omega omega omega omega, the most omega of all");
      EXPECT_EQ(seen.back(), "omega number 0");
    } else {
      EXPECT_EQ(seen.front(), "omega omega omega omega, the most omega of all");
    }
  }
  // A cursor of the other sort, or none this server made, is refused.
  auto first = search(bob_, "omega ", "&limit=3&sort=newest");
  auto cursor = str(first.obj()["next_cursor"]);
  EXPECT_ERROR(search(bob_, "omega ", "&sort=relevance&cursor=" + enc(cursor)), 400, "invalid_request");
  EXPECT_ERROR(search(bob_, "omega ", "&cursor=garbage"), 400, "invalid_request");
}

TEST_F(SearchTest, OnlyWhatTheUserMaySeeIsFound) {
  auto team = create_channel(alice_, "group", "Team", {"bob", "carol"});
  auto secret = create_channel(alice_, "group", "Secret");
  auto lobby = create_channel(alice_, "public", "Lobby");
  send(alice_, team, "zebra in the team");
  send(alice_, secret, "zebra in secret");
  send(alice_, lobby, "zebra in the lobby");
  auto other = create_app("app B");
  auto mallory = mint(other, "alice");  // the same user id in another app
  auto r = http().post("/v1/channels", mallory.auth(), {{"type", "public"}, {"name", "B's"}});
  ASSERT_STATUS(r, 201);
  auto b_ch = str(r.obj()["channel"].as_object()["id"]);
  ASSERT_STATUS(http().post("/v1/channels/" + b_ch + "/messages", mallory.auth(), {{"text", "zebra of app B"}}), 201);

  ASSERT_TRUE(finds(alice_, "zebra ", 3));
  EXPECT_EQ(texts(search(bob_, "zebra ")), std::vector<std::string>{"zebra in the team"});
  // A public channel the user has not joined: only when asked.
  EXPECT_EQ(text_set(search(bob_, "zebra ", "&include_public=true")),
            (std::set<std::string>{"zebra in the team", "zebra in the lobby"}));
  // Naming a channel one may not read finds nothing in it.
  EXPECT_TRUE(texts(search(bob_, "zebra ", "&channel_id=" + secret)).empty());
  // Another app: never, whatever the user id or channel id.
  EXPECT_EQ(texts(search(mallory, "zebra ", "&include_public=true")), std::vector<std::string>{"zebra of app B"});
  EXPECT_TRUE(texts(search(mallory, "zebra ", "&channel_id=" + team)).empty());
  // A former member stops finding the channel's messages.
  ASSERT_STATUS(http().del("/v1/channels/" + team + "/members/carol", alice_.auth()), 204);
  EXPECT_TRUE(texts(search(carol_, "zebra ")).empty());
  // A deleted channel's messages are found by no one.
  ASSERT_STATUS(http().del("/v1/channels/" + secret, alice_.auth()), 204);
  EXPECT_EQ(text_set(search(alice_, "zebra ")), (std::set<std::string>{"zebra in the team", "zebra in the lobby"}));
}

TEST_F(SearchTest, EditsDeletesAndPurgesAreReflected) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto edited = send(alice_, ch, "giraffe original words");
  auto deleted = send(alice_, ch, "giraffe to delete");
  auto purged = send(alice_, ch, "giraffe to purge");
  ASSERT_TRUE(finds(bob_, "giraffe ", 3));
  auto path = "/v1/channels/" + ch + "/messages/";
  ASSERT_STATUS(http().patch(path + std::to_string(edited), alice_.auth(), {{"text", "giraffe fresh wording"}}), 200);
  ASSERT_STATUS(http().del(path + std::to_string(deleted), alice_.auth()), 204);
  ASSERT_STATUS(http().post(path + std::to_string(purged) + "/purge", app_.auth()), 204);
  // Deleted and purged messages are gone at once; the edit is re-indexed within moments.
  EXPECT_EQ(texts(search(bob_, "giraffe ")), std::vector<std::string>{"giraffe fresh wording"});
  ASSERT_TRUE(finds(bob_, "fresh ", 1));
  ASSERT_TRUE(finds(bob_, "original ", 0));
  // Edited again: still one hit, under the newest words only.
  ASSERT_STATUS(http().patch(path + std::to_string(edited), alice_.auth(), {{"text", "giraffe third take"}}), 200);
  ASSERT_TRUE(finds(bob_, "third ", 1));
  ASSERT_TRUE(finds(bob_, "fresh ", 0));
  EXPECT_EQ(texts(search(bob_, "giraffe ")), std::vector<std::string>{"giraffe third take"});
}

TEST_F(SearchTest, HostileQueriesGetResultsOrA400NeverA500) {
  auto ch = create_channel(alice_, "group", "Team");
  send(alice_, ch, "plain text with NEAR and OR inside");
  ASSERT_TRUE(finds(alice_, "plain ", 1));
  for (std::string q : {"NEAR(plain text)", "text:plain", "plain OR x", "plain AND", "\"plain", "plain\"\"\"",
                        "plain*^", "(plain", "'plain' & !x | y:*", "plain <-> text", "plain\\", "[a-z]+.*plain",
                        "plain%", "plain_", "plain -", "--plain", "* plain", "plain ** *"}) {
    auto r = search(alice_, q);
    EXPECT_TRUE(r.status == 200 || r.status == 400) << q << ": " << r.status << " " << r.body;
    if (r.status == 400) {
      EXPECT_ERROR(r, 400, "invalid_request");
    }
  }
  // Operators are words: "OR" and "NEAR" match the words in the text, not as operators.
  EXPECT_EQ(texts(search(alice_, "NEAR OR inside ")).size(), 1u);
  EXPECT_TRUE(texts(search(alice_, "plain OR absent ")).empty());
  // Words glued by punctuation are a phrase: "NEAR(plain" is "near plain", not in this order here.
  EXPECT_TRUE(texts(search(alice_, "NEAR(plain text)")).empty());
  EXPECT_EQ(texts(search(alice_, "(plain text)")).size(), 1u);
  EXPECT_ERROR(search(alice_, "-plain"), 400, "invalid_request");
  EXPECT_EQ(error_detail(search(alice_, "-plain"), "parameter"), "q");
  EXPECT_ERROR(search(alice_, std::string(10 * 1024, 'a')), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, std::string("pl\0ain", 6)), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "\xff\xfe"), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/search/messages", alice_.auth()), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "plain", "&sort=best"), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "plain", "&limit=51"), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "plain", "&has=gif"), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "plain", "&after=yesterday"), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "plain", "&channel_id=a,,b"), 400, "invalid_request");
  EXPECT_ERROR(search(alice_, "plain", "&in_thread=maybe"), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/search/messages?q=plain"), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/search/messages?q=plain", app_.auth()), 403, "forbidden");
}

TEST_F(SearchTest, ChannelSearchAndSuggestionsFindNamesTopicsUsersAndRecentQueries) {
  auto mine = create_channel(alice_, "group", "Design Reviews", {}, "weekly critique");
  auto pub = create_channel(bob_, "public", "Design System");
  create_channel(bob_, "group", "Design Secrets");  // bob's private group: never shown to alice
  auto r = http().get("/v1/search/channels?q=des", alice_.auth());
  ASSERT_STATUS(r, 200);
  auto body = r.obj();
  ASSERT_EQ(body["mine"].as_array().size(), 1u);
  EXPECT_EQ(str(body["mine"].as_array()[0].as_object().at("id")), mine);
  ASSERT_EQ(body["public"].as_array().size(), 1u);
  EXPECT_EQ(str(body["public"].as_array()[0].as_object().at("id")), pub);
  // A later word of the name, and the topic.
  EXPECT_EQ(http().get("/v1/search/channels?q=revi", alice_.auth()).obj()["mine"].as_array().size(), 1u);
  EXPECT_EQ(http().get("/v1/search/channels?q=critique", alice_.auth()).obj()["mine"].as_array().size(), 1u);
  EXPECT_TRUE(http().get("/v1/search/channels?q=sec", alice_.auth()).obj()["public"].as_array().empty());

  // Recent queries: the searches made, newest first; remember=false keeps one out.
  auto ch = create_channel(alice_, "group", "Bob and me", {"bob"});
  send(alice_, ch, "anything");
  ASSERT_STATUS(search(alice_, "bolt"), 200);
  std::this_thread::sleep_for(5ms);  // recent queries are ordered by their millisecond
  ASSERT_STATUS(search(alice_, "boat"), 200);
  ASSERT_STATUS(search(alice_, "bo", "&remember=false"), 200);
  auto s = http().get("/v1/search/suggest?q=bo", alice_.auth());
  ASSERT_STATUS(s, 200);
  auto sug = s.obj();
  ASSERT_EQ(sug["users"].as_array().size(), 1u);
  EXPECT_EQ(sug["users"].as_array()[0].as_object().at("id"), "bob");
  ASSERT_EQ(sug["channels"].as_array().size(), 1u);
  EXPECT_EQ(str(sug["channels"].as_array()[0].as_object().at("id")), ch);
  ASSERT_EQ(sug["recent"].as_array().size(), 2u);
  EXPECT_EQ(sug["recent"].as_array()[0].as_object().at("query"), "boat");
  EXPECT_EQ(sug["recent"].as_array()[1].as_object().at("query"), "bolt");
  // Bob's recent queries are his own.
  EXPECT_TRUE(http().get("/v1/search/suggest", bob_.auth()).obj()["recent"].as_array().empty());
  ASSERT_STATUS(http().del("/v1/search/recent", alice_.auth()), 204);
  EXPECT_TRUE(http().get("/v1/search/suggest?q=bo", alice_.auth()).obj()["recent"].as_array().empty());
  EXPECT_ERROR(http().get("/v1/search/suggest?limit=0", alice_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/search/channels?q=" + std::string(101, 'x'), alice_.auth()), 400, "invalid_request");
}

TEST_F(SearchTest, TheAppsSearchLanguageStemsWordsOnPostgresql) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  send(alice_, ch, "we deployed the services");
  ASSERT_TRUE(finds(bob_, "deployed ", 1));
  EXPECT_ERROR(
      http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", {{"search_language", "klingon"}}}}), 422,
      "validation_failed");
  ASSERT_STATUS(
      http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", {{"search_language", "english"}}}}), 200);
  if (on_postgres()) {
    // The index is built again with English stemming: another form of the word finds it.
    EXPECT_TRUE(finds(bob_, "deploying service ", 1));
  } else {
    // SQLite indexes every language alike: the words as written still find it, no stemming.
    EXPECT_TRUE(finds(bob_, "deployed ", 1));
    EXPECT_TRUE(texts(search(bob_, "deploying ")).empty());
  }
}

TEST(SearchNodeTest, MessagesSentBeforeACrashAreIndexedAfterTheRestart) {
  TempDir dir;
  Auth bob;
  {
    // An indexer that waits a minute before its pass: nothing is indexed when the node dies.
    ServerProcess a(ServerProcess::Options{}.in(dir.path()).flag("search-index-delay-ms", "60000"));
    HttpClient http(a.port());
    auto created = http.post("/v1/admin/apps", admin_auth(), {{"name", "crash"}});
    ASSERT_STATUS(created, 201);
    auto o = created.obj();
    auto app = Auth::basic(str(o["api_key"]), str(o["api_secret"]));
    auto token = [&](const char* user) {
      return Auth::bearer(str(http.post("/v1/auth/token", app, {{"user_id", user}}).obj()["access_token"]));
    };
    auto alice = token("alice");
    bob = token("bob");
    auto ch = http.post("/v1/channels", alice, {{"type", "group"}, {"name", "t"}, {"members", {"bob"}}});
    ASSERT_STATUS(ch, 201);
    auto id = str(ch.obj()["channel"].as_object()["id"]);
    for (int i = 0; i < 30; ++i) {
      ASSERT_STATUS(http.post("/v1/channels/" + id + "/messages", alice, {{"text", "koala " + std::to_string(i)}}),
                    201);
    }
    EXPECT_TRUE(http.get("/v1/search/messages?q=koala", bob).obj()["items"].as_array().empty());
    a.child().signal(SIGKILL);
    a.wait_exit(5s);
  }
  // The restarted node's start-up sweep finds the channel behind its progress.
  ServerProcess b(ServerProcess::Options{}.in(dir.path()));
  HttpClient http(b.port());
  ASSERT_TRUE(eventually([&] {
    auto r = http.get("/v1/search/messages?q=koala&limit=1", bob);
    return r.status == 200 && r.obj()["total"].as_object()["count"] == 30;
  }));
}

}  // namespace
}  // namespace parley::test
