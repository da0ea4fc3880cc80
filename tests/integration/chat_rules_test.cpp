// The chat rules of docs/api.md beyond chat_test's walkthrough, against the real binary: seqs
// stay 1..N under many concurrent senders and idempotent retries; every permission denial has its
// status and code; every write route rejects bad input naming the field; app B's users never see
// app A's chat data; and unread counts, mentions, seen-by, sync and threads add up.
#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include "fixtures.hpp"

namespace parley::test {
namespace {

std::vector<std::int64_t> seqs_of(const json::array& items) {
  std::vector<std::int64_t> out;
  for (const auto& m : items) out.push_back(m.as_object().at("seq").as_int64());
  return out;
}

std::vector<std::string> field_of(const json::array& items, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& v : items) out.push_back(str(v.as_object().at(key)));
  return out;
}

std::set<std::string> id_set(const json::array& items) {
  std::set<std::string> out;
  for (const auto& v : items) out.insert(v.is_string() ? str(v) : str(v.as_object().at("id")));
  return out;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i <= to; ++i) out.push_back(i);
  return out;
}

class ChatRulesTest : public AppFixture {
 protected:
  // Hundreds of requests a second from one address and one user: rate_limit_test covers limits.
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}
        .flag("rate-limit-ip-per-sec", "1000000")
        .flag("rate-limit-ip-burst", "1000000")
        .flag("rate-limit-user-per-sec", "1000000")
        .flag("rate-limit-user-burst", "1000000");
  }
  void SetUp() override {
    AppFixture::SetUp();
    alice_ = mint("alice");
    bob_ = mint("bob");
    carol_ = mint("carol");
    dave_ = mint("dave");
  }

  std::string create(const UserTokens& who, const std::string& type, const std::string& name,
                     json::array members = {}) {
    auto r = http().post("/v1/channels", who.auth(), {{"type", type}, {"name", name}, {"members", members}});
    if (r.status != 201) throw std::runtime_error("create channel failed: " + r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  std::string dm(const UserTokens& who, const std::string& other) {
    auto r = http().post("/v1/channels/dm", who.auth(), {{"user_id", other}});
    if (r.status != 201 && r.status != 200) throw std::runtime_error("dm failed: " + r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  std::int64_t send(const UserTokens& who, const std::string& ch, const std::string& text, json::object extra = {}) {
    extra["text"] = text;
    auto r = http().post(path(ch) + "/messages", who.auth(), extra);
    if (r.status != 201) throw std::runtime_error("send failed: " + r.body);
    return r.obj()["message"].as_object()["seq"].as_int64();
  }
  static std::string path(const std::string& ch) { return "/v1/channels/" + ch; }
  static std::string msg(const std::string& ch, std::int64_t seq) {
    return path(ch) + "/messages/" + std::to_string(seq);
  }
  json::object channel(const UserTokens& who, const std::string& ch) {
    auto r = http().get(path(ch), who.auth());
    if (r.status != 200) throw std::runtime_error("get channel failed: " + r.body);
    return r.obj()["channel"].as_object();
  }
  json::object message(const UserTokens& who, const std::string& ch, std::int64_t seq) {
    auto r = http().get(msg(ch, seq), who.auth());
    if (r.status != 200) throw std::runtime_error("get message failed: " + r.body);
    return r.obj()["message"].as_object();
  }
  json::object totals(const UserTokens& who) { return http().get("/v1/channels/unread", who.auth()).obj(); }
  // The caller's channel list entry for `ch` (GET /v1/channels), or an empty object.
  json::object listed(const UserTokens& who, const std::string& ch) {
    auto r = http().get("/v1/channels?limit=200", who.auth());
    for (const auto& c : r.obj()["items"].as_array()) {
      if (str(c.as_object().at("id")) == ch) return c.as_object();
    }
    return {};
  }
  void settings(const json::object& s) {
    auto r = http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", s}});
    if (r.status != 200) throw std::runtime_error("settings failed: " + r.body);
  }
  HttpRequest request(const std::string& method, const std::string& target, const UserTokens& who,
                      std::optional<json::value> body = {}) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers = {{"Authorization", "Bearer " + who.access}};
    if (body) r.body = json::serialize(*body);
    return r;
  }

  UserTokens alice_, bob_, carol_, dave_;
};

// ---- concurrency -----------------------------------------------------------------------------

TEST_F(ChatRulesTest, ConcurrentSendersGetSeqsOneToNOnceAndHistoryPagesThemBackInOrder) {
  constexpr int kThreads = 8, kPerThread = 50, kTotal = kThreads * kPerThread;
  auto ch = create(alice_, "group", "Busy", {"bob", "carol", "dave"});
  const UserTokens* senders[kThreads] = {&alice_, &bob_, &carol_, &alice_, &bob_, &carol_, &alice_, &bob_};
  struct Sent {
    int status = 0;
    std::int64_t seq = 0;
    std::string text, body;
  };
  std::vector<std::vector<Sent>> sent(kThreads);
  std::vector<int> connections(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(server().port());  // one keep-alive connection per thread
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        Sent s;
        s.text = "t" + std::to_string(t) + "-" + std::to_string(i);
        try {
          auto r = client.post(path(ch) + "/messages", senders[t]->auth(), {{"text", s.text}});
          s.status = r.status;
          if (r.status == 201) s.seq = r.obj()["message"].as_object()["seq"].as_int64();
          s.body = r.body;
        } catch (const std::exception& e) {
          s.body = e.what();
        }
        sent[t].push_back(std::move(s));
      }
      connections[t] = client.connections_opened();
    });
  }
  for (auto& th : threads) th.join();

  std::map<std::int64_t, std::string> text_by_seq;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(connections[t], 1) << "thread " << t << " reconnected";
    std::int64_t previous = 0;
    for (const auto& s : sent[t]) {
      ASSERT_EQ(s.status, 201) << s.text << ": " << s.body;
      EXPECT_GT(s.seq, previous) << "a thread's own sequential sends must get increasing seqs";
      previous = s.seq;
      EXPECT_TRUE(text_by_seq.emplace(s.seq, s.text).second) << "seq " << s.seq << " given twice";
    }
  }
  ASSERT_EQ(text_by_seq.size(), static_cast<std::size_t>(kTotal));
  EXPECT_EQ(text_by_seq.begin()->first, 1);
  EXPECT_EQ(text_by_seq.rbegin()->first, kTotal);  // 400 distinct seqs from 1 to 400: no gaps
  EXPECT_EQ(channel(dave_, ch)["last_seq"], kTotal);
  EXPECT_EQ(channel(dave_, ch)["unread_count"], kTotal);

  // Forward with after_seq: pages of 150, 150, 100, has_more true, true, false.
  std::vector<std::int64_t> forward;
  std::vector<bool> more;
  for (std::int64_t after = 0;;) {
    auto r = http().get(path(ch) + "/messages?limit=150&after_seq=" + std::to_string(after), dave_.auth());
    ASSERT_STATUS(r, 200);
    const auto& items = r.obj()["items"].as_array();
    for (const auto& m : items) {
      auto seq = m.as_object().at("seq").as_int64();
      forward.push_back(seq);
      EXPECT_EQ(str(m.as_object().at("text")), text_by_seq[seq]) << "seq " << seq;
    }
    more.push_back(r.obj()["has_more"].as_bool());
    if (!more.back() || items.empty() || more.size() > 5) break;
    after = forward.back();
  }
  EXPECT_EQ(forward, range(1, kTotal));
  EXPECT_EQ(more, (std::vector<bool>{true, true, false}));

  // Backward with before_seq from the newest page: 251..400, 101..250, 1..100.
  std::vector<std::vector<std::int64_t>> pages;
  more.clear();
  for (std::string query = "?limit=150";;) {
    auto r = http().get(path(ch) + "/messages" + query, dave_.auth());
    ASSERT_STATUS(r, 200);
    pages.push_back(seqs_of(r.obj()["items"].as_array()));
    more.push_back(r.obj()["has_more"].as_bool());
    if (!more.back() || pages.back().empty() || pages.size() > 5) break;
    query = "?limit=150&before_seq=" + std::to_string(pages.back().front());
  }
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0], range(251, 400));
  EXPECT_EQ(pages[1], range(101, 250));
  EXPECT_EQ(pages[2], range(1, 100));
  EXPECT_EQ(more, (std::vector<bool>{true, true, false}));

  // Exact fits and the ends: has_more only when something is left.
  auto exact = http().get(path(ch) + "/messages?limit=200&after_seq=200", dave_.auth()).obj();
  EXPECT_EQ(seqs_of(exact["items"].as_array()), range(201, 400));
  EXPECT_EQ(exact["has_more"], false);
  auto oldest = http().get(path(ch) + "/messages?limit=100&before_seq=101", dave_.auth()).obj();
  EXPECT_EQ(seqs_of(oldest["items"].as_array()), range(1, 100));
  EXPECT_EQ(oldest["has_more"], false);
  auto past_end = http().get(path(ch) + "/messages?after_seq=400", dave_.auth()).obj();
  EXPECT_TRUE(past_end["items"].as_array().empty());
  EXPECT_EQ(past_end["has_more"], false);
  auto capped = http().get(path(ch) + "/messages?limit=1000&after_seq=0", dave_.auth()).obj();
  EXPECT_EQ(capped["items"].as_array().size(), 200u) << "limit is capped at page_max";
  EXPECT_EQ(capped["has_more"], true);
}

TEST_F(ChatRulesTest, ConcurrentRetriesOfOneClientMessageIdMakeExactlyOneMessage) {
  constexpr int kThreads = 8, kRounds = 5;
  auto ch = create(alice_, "group", "Retries", {"bob"});
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.push_back(std::make_unique<HttpClient>(server().port()));
    ASSERT_STATUS(clients.back()->get("/health"), 200);  // connected before the race starts
  }
  for (int round = 0; round < kRounds; ++round) {
    std::string id = "retry-" + std::to_string(round);
    std::vector<HttpResponse> results(kThreads);
    std::latch go(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        go.arrive_and_wait();
        try {
          results[t] = clients[t]->post(path(ch) + "/messages", alice_.auth(),
                                        {{"text", "attempt " + std::to_string(t)}, {"client_msg_id", id}});
        } catch (const std::exception& e) {
          results[t].body = e.what();
        }
      });
    }
    for (auto& th : threads) th.join();
    int created = 0, duplicates = 0;
    std::set<std::int64_t> seqs;
    std::set<std::string> texts;
    for (const auto& r : results) {
      ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
      auto o = r.obj();
      EXPECT_EQ(o["duplicate"], r.status == 200) << r.body;
      (r.status == 201 ? created : duplicates)++;
      seqs.insert(o["message"].as_object()["seq"].as_int64());
      texts.insert(str(o["message"].as_object()["text"]));
      EXPECT_EQ(str(o["message"].as_object()["client_msg_id"]), id);
    }
    EXPECT_EQ(created, 1) << "round " << round;
    EXPECT_EQ(duplicates, kThreads - 1) << "round " << round;
    EXPECT_EQ(seqs, std::set<std::int64_t>{round + 1}) << "every answer names the one message";
    EXPECT_EQ(texts.size(), 1u) << "duplicates return the original, not their own text";
  }
  auto history = http().get(path(ch) + "/messages", bob_.auth()).obj();
  EXPECT_EQ(seqs_of(history["items"].as_array()), range(1, kRounds));
  EXPECT_EQ(channel(bob_, ch)["unread_count"], kRounds);
}

TEST_F(ChatRulesTest, TwoServersOnOneDatabaseAllocateSeqsOneToNOnceAndShareRetries) {
  // A second process on the same database (the same SQLite file, or the same PostgreSQL
  // database): the seq is allocated in the database, so the two never hand out one twice.
  ServerProcess other(server_options().in(server().data_dir()));
  constexpr int kThreads = 4, kPerThread = 40;
  auto ch = create(alice_, "group", "Two servers", {"bob"});
  std::vector<std::vector<std::int64_t>> seqs(kThreads);
  std::vector<std::string> failures(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(t % 2 == 0 ? server().port() : other.port());
      go.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        auto r = client.post(path(ch) + "/messages", (t < 2 ? alice_ : bob_).auth(), {{"text", "m"}});
        if (r.status != 201) {
          failures[t] = r.body;
          return;
        }
        seqs[t].push_back(r.obj()["message"].as_object()["seq"].as_int64());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::int64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], "") << "thread " << t;
    for (auto s : seqs[t]) EXPECT_TRUE(all.insert(s).second) << "seq " << s << " given twice";
  }
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread);

  // One client message id sent through both processes at once makes one message.
  std::vector<HttpResponse> results(kThreads);
  std::latch again(kThreads);
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(t % 2 == 0 ? server().port() : other.port());
      again.arrive_and_wait();
      results[t] = client.post(path(ch) + "/messages", alice_.auth(), {{"text", "once"}, {"client_msg_id", "x-1"}});
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::int64_t> answered;
  int created = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    created += r.status == 201;
    answered.insert(r.obj()["message"].as_object()["seq"].as_int64());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(answered, std::set<std::int64_t>{kThreads * kPerThread + 1});
  EXPECT_EQ(channel(bob_, ch)["last_seq"], kThreads * kPerThread + 1);
}

// Runs `body(t)` on `n` threads released together, each with its own connection.
template <typename F>
void race(std::uint16_t port, int n, F body) {
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int t = 0; t < n; ++t) {
    clients.push_back(std::make_unique<HttpClient>(port));
    clients.back()->get("/health");  // connected before the race starts
  }
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      body(t, *clients[t]);
    });
  }
  for (auto& th : threads) th.join();
}

TEST_F(ChatRulesTest, ConcurrentDirectMessageRequestsFromBothSidesMakeOneChannel) {
  constexpr int kThreads = 8;
  std::vector<HttpResponse> results(kThreads);
  race(server().port(), kThreads, [&](int t, HttpClient& client) {
    bool from_alice = t % 2 == 0;
    results[t] = client.post("/v1/channels/dm", (from_alice ? alice_ : bob_).auth(),
                             {{"user_id", from_alice ? "bob" : "alice"}});
  });
  int created = 0;
  std::set<std::string> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    EXPECT_EQ(r.obj()["created"], r.status == 201);
    created += r.status == 201;
    ids.insert(str(r.obj()["channel"].as_object()["id"]));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u) << "always the same channel for a pair";
  auto dms = http().get("/v1/channels?type=dm", alice_.auth()).obj()["items"].as_array();
  EXPECT_EQ(dms.size(), 1u);
}

TEST_F(ChatRulesTest, ConcurrentJoinsStopExactlyAtTheMemberLimit) {
  constexpr int kThreads = 10, kLimit = 5;
  settings({{"max_channel_members", kLimit}});
  auto ch = create(alice_, "public", "Popular");
  std::vector<UserTokens> joiners;
  for (int t = 0; t < kThreads; ++t) joiners.push_back(mint("joiner" + std::to_string(t)));
  std::vector<HttpResponse> results(kThreads);
  race(server().port(), kThreads,
       [&](int t, HttpClient& client) { results[t] = client.post(path(ch) + "/join", joiners[t].auth()); });
  int joined = 0;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++joined;
    } else {
      EXPECT_ERROR(r, 422, "validation_failed");
    }
  }
  EXPECT_EQ(joined, kLimit - 1);
  EXPECT_EQ(channel(alice_, ch)["member_count"], kLimit);
  EXPECT_EQ(http().get(path(ch) + "/members", alice_.auth()).obj()["items"].as_array().size(),
            static_cast<std::size_t>(kLimit));
}

TEST_F(ChatRulesTest, AClientMessageIdIsScopedToItsUserAndChannel) {
  auto ch = create(alice_, "group", "Team", {"bob"});
  auto other = create(alice_, "group", "Other");
  auto first = http().post(path(ch) + "/messages", alice_.auth(), {{"text", "hello"}, {"client_msg_id", "same"}});
  ASSERT_STATUS(first, 201);
  auto bobs = http().post(path(ch) + "/messages", bob_.auth(), {{"text", "bob's"}, {"client_msg_id", "same"}});
  ASSERT_STATUS(bobs, 201);
  EXPECT_EQ(bobs.obj()["duplicate"], false);
  EXPECT_EQ(bobs.obj()["message"].as_object()["seq"], 2);
  EXPECT_EQ(bobs.obj()["message"].as_object()["user_id"], "bob");
  auto elsewhere = http().post(path(other) + "/messages", alice_.auth(), {{"text", "x"}, {"client_msg_id", "same"}});
  ASSERT_STATUS(elsewhere, 201);
  EXPECT_EQ(elsewhere.obj()["message"].as_object()["seq"], 1);
  // Retries return each user's own original, whatever text they carry now.
  auto retry = http().post(path(ch) + "/messages", alice_.auth(), {{"text", "changed"}, {"client_msg_id", "same"}});
  ASSERT_STATUS(retry, 200);
  EXPECT_EQ(retry.obj()["message"].as_object()["seq"], 1);
  EXPECT_EQ(retry.obj()["message"].as_object()["text"], "hello");
  auto bob_retry = http().post(path(ch) + "/messages", bob_.auth(), {{"text", "bob's"}, {"client_msg_id", "same"}});
  ASSERT_STATUS(bob_retry, 200);
  EXPECT_EQ(bob_retry.obj()["message"].as_object()["seq"], 2);
  EXPECT_EQ(channel(alice_, ch)["last_seq"], 2);
}

// ---- permissions -----------------------------------------------------------------------------

TEST_F(ChatRulesTest, AGroupIsNotFoundToANonMemberOnEveryRouteAndLeaksNothing) {
  auto ch = create(alice_, "group", "Secret plans", {"bob"});
  auto seq = send(alice_, ch, "the secret text");
  send(bob_, ch, "a secret reply", {{"parent_seq", seq}});
  ASSERT_STATUS(http().put(path(ch) + "/pins/1", alice_.auth()), 204);
  std::string c = path(ch), m = msg(ch, seq);
  std::vector<HttpRequest> requests{
      request("GET", c, carol_),
      request("GET", c + "/messages", carol_),
      request("POST", c + "/messages", carol_, json::object{{"text", "x"}}),
      request("POST", c + "/join", carol_),
      request("GET", c + "/members", carol_),
      request("GET", c + "/pins", carol_),
      request("GET", m, carol_),
      request("GET", m + "/replies", carol_),
      request("GET", m + "/seen-by", carol_),
      request("GET", c + "/online", carol_),
      request("PATCH", m, carol_, json::object{{"text", "x"}}),
      request("DELETE", m, carol_),
      request("POST", m + "/reactions", carol_, json::object{{"type", "like"}}),
      request("DELETE", m + "/reactions/like", carol_),
      request("PUT", c + "/pins/1", carol_),
      request("DELETE", c + "/pins/1", carol_),
      request("PUT", "/v1/saved/" + ch + "/1", carol_),
      request("DELETE", "/v1/saved/" + ch + "/1", carol_),
      request("POST", c + "/read", carol_, json::object{{"seq", 1}}),
      request("PATCH", c, carol_, json::object{{"name", "mine"}}),
      request("POST", c + "/archive", carol_),
      request("POST", c + "/unarchive", carol_),
      request("DELETE", c, carol_),
      request("POST", c + "/members", carol_, json::object{{"user_ids", {"carol"}}}),
      request("DELETE", c + "/members/bob", carol_),
      request("PATCH", c + "/members/bob", carol_, json::object{{"role", "admin"}}),
      request("POST", c + "/leave", carol_),
      request("PATCH", c + "/membership", carol_, json::object{{"muted", true}}),
  };
  for (const auto& req : requests) {
    auto r = http().send(req);
    EXPECT_ERROR(r, 404, "not_found") << req.method << " " << req.target;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << req.method << " " << req.target << ": " << r.body;
  }
  auto sync = http().post("/v1/sync", carol_.auth(), {{"channels", {{ch, 0}}}});
  ASSERT_STATUS(sync, 200);
  EXPECT_EQ(sync.body.find("secret"), std::string::npos) << sync.body;
  EXPECT_EQ(id_set(sync.obj()["changes"].as_object()["removed"].as_array()), std::set<std::string>{ch});
  EXPECT_TRUE(sync.obj()["channels"].as_object().empty());
  EXPECT_TRUE(http().get("/v1/channels/public", carol_.auth()).obj()["items"].as_array().empty());
  // Nothing changed.
  auto a = channel(alice_, ch);
  EXPECT_EQ(a["name"], "Secret plans");
  EXPECT_EQ(a["member_count"], 2);
  EXPECT_EQ(message(alice_, ch, seq)["text"], "the secret text");
}

TEST_F(ChatRulesTest, APublicChannelIsReadableByNonMembersButWritableOnlyAfterJoining) {
  auto ch = create(alice_, "public", "Town square", {"bob"});
  auto seq = send(alice_, ch, "hello all");
  ASSERT_STATUS(http().put(path(ch) + "/pins/1", alice_.auth()), 204);
  std::string c = path(ch), m = msg(ch, seq);

  auto got = http().get(c, carol_.auth());
  ASSERT_STATUS(got, 200);
  EXPECT_TRUE(got.obj()["channel"].as_object()["membership"].is_null());
  EXPECT_EQ(got.obj()["channel"].as_object()["unread_count"], 0);
  auto history = http().get(c + "/messages", carol_.auth());
  ASSERT_STATUS(history, 200);
  EXPECT_EQ(field_of(history.obj()["items"].as_array(), "text"), std::vector<std::string>{"hello all"});
  EXPECT_STATUS(http().get(m, carol_.auth()), 200);
  EXPECT_STATUS(http().get(m + "/replies", carol_.auth()), 200);
  EXPECT_STATUS(http().get(m + "/seen-by", carol_.auth()), 200);
  auto members = http().get(c + "/members", carol_.auth());
  ASSERT_STATUS(members, 200);
  EXPECT_EQ(field_of(members.obj()["items"].as_array(), "user_id"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(http().get(c + "/pins", carol_.auth()).obj()["items"].as_array().size(), 1u);

  std::vector<HttpRequest> writes{
      request("POST", c + "/messages", carol_, json::object{{"text", "hi"}}),
      request("PATCH", m, carol_, json::object{{"text", "x"}}),
      request("DELETE", m, carol_),
      request("POST", m + "/reactions", carol_, json::object{{"type", "like"}}),
      request("POST", c + "/read", carol_, json::object{}),
      request("PUT", "/v1/saved/" + ch + "/1", carol_),
      request("PUT", c + "/pins/1", carol_),
      request("PATCH", c, carol_, json::object{{"name", "mine"}}),
      request("POST", c + "/archive", carol_),
      request("DELETE", c, carol_),
      request("POST", c + "/members", carol_, json::object{{"user_ids", {"dave"}}}),
      request("DELETE", c + "/members/bob", carol_),
      request("PATCH", c + "/members/bob", carol_, json::object{{"role", "member"}}),
  };
  for (const auto& req : writes) EXPECT_ERROR(http().send(req), 403, "forbidden") << req.method << " " << req.target;
  // Own-membership routes: there is no membership to change.
  EXPECT_ERROR(http().post(c + "/leave", carol_.auth()), 404, "not_found");
  EXPECT_ERROR(http().patch(c + "/membership", carol_.auth(), {{"muted", true}}), 404, "not_found");
  EXPECT_EQ(channel(alice_, ch)["last_seq"], 1);
  EXPECT_EQ(channel(alice_, ch)["member_count"], 2);
  EXPECT_TRUE(listed(carol_, ch).empty()) << "reading does not make a member";

  ASSERT_STATUS(http().post(c + "/join", carol_.auth()), 200);
  EXPECT_EQ(send(carol_, ch, "hi, joined"), 2);
  EXPECT_STATUS(http().post(m + "/reactions", carol_.auth(), {{"type", "like"}}), 200);
  EXPECT_FALSE(listed(carol_, ch).empty());
}

TEST_F(ChatRulesTest, AModeratorModeratesMessagesButCannotManageTheChannel) {
  auto ch = create(alice_, "group", "Team", {"bob", "carol"});
  ASSERT_STATUS(http().patch(path(ch) + "/members/bob", alice_.auth(), {{"role", "moderator"}}), 200);
  auto carols = send(carol_, ch, "spam");
  auto alices = send(alice_, ch, "owner's words");
  EXPECT_ERROR(http().patch(msg(ch, carols), bob_.auth(), {{"text", "edited by mod"}}), 403, "forbidden");
  EXPECT_STATUS(http().put(path(ch) + "/pins/" + std::to_string(alices), bob_.auth()), 204);
  EXPECT_TRUE(message(bob_, ch, alices)["pinned"].as_bool());
  EXPECT_STATUS(http().del(path(ch) + "/pins/" + std::to_string(alices), bob_.auth()), 204);
  EXPECT_FALSE(message(bob_, ch, alices)["pinned"].as_bool());
  EXPECT_STATUS(http().del(msg(ch, carols), bob_.auth()), 204);
  EXPECT_TRUE(message(carol_, ch, carols)["deleted_at"].is_string());
  EXPECT_STATUS(http().del(msg(ch, alices), bob_.auth()), 204) << "moderators delete anyone's, the owner's too";

  EXPECT_ERROR(http().post(path(ch) + "/members", bob_.auth(), {{"user_ids", {"dave"}}}), 403, "forbidden");
  EXPECT_ERROR(http().del(path(ch) + "/members/carol", bob_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().patch(path(ch) + "/members/carol", bob_.auth(), {{"role", "moderator"}}), 403, "forbidden");
  EXPECT_ERROR(http().patch(path(ch), bob_.auth(), {{"name", "Mod's"}}), 403, "forbidden");
  EXPECT_ERROR(http().post(path(ch) + "/archive", bob_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().del(path(ch), bob_.auth()), 403, "forbidden");
  auto after = channel(alice_, ch);
  EXPECT_EQ(after["member_count"], 3);
  EXPECT_EQ(after["name"], "Team");
}

TEST_F(ChatRulesTest, AnAdminManagesMembersButCannotDeleteTheChannelOrTouchTheOwner) {
  auto ch = create(alice_, "group", "Team", {"bob", "carol"});
  ASSERT_STATUS(http().patch(path(ch) + "/members/bob", alice_.auth(), {{"role", "admin"}}), 200);
  auto added = http().post(path(ch) + "/members", bob_.auth(), {{"user_ids", {"dave"}}, {"role", "moderator"}});
  ASSERT_STATUS(added, 200);
  EXPECT_EQ(added.obj()["added"], json::array{"dave"});
  EXPECT_EQ(channel(dave_, ch)["membership"].as_object()["role"], "moderator");
  auto role = http().patch(path(ch) + "/members/carol", bob_.auth(), {{"role", "admin"}});
  ASSERT_STATUS(role, 200);
  EXPECT_EQ(role.obj()["member"].as_object()["role"], "admin");
  EXPECT_STATUS(http().del(path(ch) + "/members/dave", bob_.auth()), 204);
  EXPECT_ERROR(http().get(path(ch), dave_.auth()), 404, "not_found");
  EXPECT_ERROR(http().del(path(ch) + "/members/dave", bob_.auth()), 404, "not_found");
  EXPECT_STATUS(http().patch(path(ch), bob_.auth(), {{"topic", "set by an admin"}}), 200);
  EXPECT_STATUS(http().post(path(ch) + "/archive", bob_.auth()), 200);
  EXPECT_STATUS(http().post(path(ch) + "/unarchive", bob_.auth()), 200);

  EXPECT_ERROR(http().del(path(ch), bob_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().del(path(ch) + "/members/alice", bob_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().patch(path(ch) + "/members/alice", bob_.auth(), {{"role", "member"}}), 403, "forbidden");
  EXPECT_ERROR(http().patch(path(ch) + "/members/alice", alice_.auth(), {{"role", "admin"}}), 403, "forbidden");
  auto owner = channel(alice_, ch);
  EXPECT_EQ(owner["membership"].as_object()["role"], "owner");
  EXPECT_EQ(owner["topic"], "set by an admin");
  EXPECT_TRUE(owner["archived_at"].is_null());
}

TEST_F(ChatRulesTest, TheOwnerLeavesOnlyOnceAlone) {
  auto ch = create(alice_, "group", "Team", {"bob"});
  EXPECT_ERROR(http().post(path(ch) + "/leave", alice_.auth()), 409, "conflict");
  EXPECT_EQ(channel(alice_, ch)["member_count"], 2);
  ASSERT_STATUS(http().del(path(ch) + "/members/bob", alice_.auth()), 204);
  EXPECT_STATUS(http().post(path(ch) + "/leave", alice_.auth()), 204);
  EXPECT_ERROR(http().get(path(ch), alice_.auth()), 404, "not_found");
  EXPECT_TRUE(listed(alice_, ch).empty());
}

TEST_F(ChatRulesTest, ADirectMessageKeepsItsTwoMembersAndCannotBeManaged) {
  auto ch = dm(alice_, "bob");
  EXPECT_ERROR(http().post(path(ch) + "/members", alice_.auth(), {{"user_ids", {"carol"}}}), 403, "forbidden");
  EXPECT_ERROR(http().del(path(ch) + "/members/bob", alice_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().patch(path(ch) + "/members/bob", alice_.auth(), {{"role", "admin"}}), 403, "forbidden");
  EXPECT_ERROR(http().post(path(ch) + "/leave", alice_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().patch(path(ch), alice_.auth(), {{"name", "ours"}}), 403, "forbidden");
  EXPECT_ERROR(http().post(path(ch) + "/archive", alice_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().del(path(ch), alice_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().get(path(ch), carol_.auth()), 404, "not_found");
  EXPECT_ERROR(http().post(path(ch) + "/join", carol_.auth()), 404, "not_found");
  auto c = channel(bob_, ch);
  EXPECT_EQ(c["member_count"], 2);
  EXPECT_EQ(c["dm_user_ids"], (json::array{"alice", "bob"}));
  // Hiding is the way out of a DM.
  auto hide = http().patch(path(ch) + "/membership", alice_.auth(), {{"hidden", true}});
  ASSERT_STATUS(hide, 200);
  EXPECT_EQ(hide.obj()["member"].as_object()["hidden"], true);
  EXPECT_TRUE(listed(alice_, ch).empty());
  EXPECT_FALSE(listed(bob_, ch).empty());
}

TEST_F(ChatRulesTest, ABlockStopsBothSidesOfADirectMessageUntilLifted) {
  auto ch = dm(alice_, "bob");
  send(bob_, ch, "hi");
  ASSERT_STATUS(http().put("/v1/users/me/blocks/bob", alice_.auth()), 204);
  EXPECT_ERROR(http().post(path(ch) + "/messages", alice_.auth(), {{"text", "the blocker"}}), 403, "forbidden");
  EXPECT_ERROR(http().post(path(ch) + "/messages", bob_.auth(), {{"text", "the blocked"}}), 403, "forbidden");
  EXPECT_EQ(channel(alice_, ch)["last_seq"], 1);
  EXPECT_STATUS(http().get(path(ch) + "/messages", bob_.auth()), 200) << "history stays readable";
  // A pair without a DM: neither side may create one.
  ASSERT_STATUS(http().put("/v1/users/me/blocks/dave", carol_.auth()), 204);
  EXPECT_ERROR(http().post("/v1/channels/dm", carol_.auth(), {{"user_id", "dave"}}), 403, "forbidden");
  EXPECT_ERROR(http().post("/v1/channels/dm", dave_.auth(), {{"user_id", "carol"}}), 403, "forbidden");
  // Blocks are validated too.
  EXPECT_ERROR(http().put("/v1/users/me/blocks/carol", carol_.auth()), 422, "validation_failed");
  EXPECT_ERROR(http().put("/v1/users/me/blocks/nobody", carol_.auth()), 404, "not_found");

  ASSERT_STATUS(http().del("/v1/users/me/blocks/bob", alice_.auth()), 204);
  EXPECT_EQ(send(bob_, ch, "back again"), 2);
  EXPECT_EQ(send(alice_, ch, "welcome back"), 3);
}

TEST_F(ChatRulesTest, AnArchivedChannelRefusesEveryWriteUntilUnarchived) {
  auto ch = create(alice_, "public", "Old news", {"bob"});
  auto seq = send(bob_, ch, "an old message");
  ASSERT_STATUS(http().post(path(ch) + "/archive", alice_.auth()), 200);
  std::string c = path(ch), m = msg(ch, seq);
  std::vector<std::pair<HttpRequest, const char*>> writes{
      {request("POST", c + "/messages", bob_, json::object{{"text", "x"}}), "send"},
      {request("PATCH", m, bob_, json::object{{"text", "x"}}), "edit"},
      {request("DELETE", m, bob_), "delete message"},
      {request("POST", m + "/reactions", bob_, json::object{{"type", "like"}}), "react"},
      {request("PUT", c + "/pins/1", alice_), "pin"},
      {request("PATCH", c, alice_, json::object{{"name", "New news"}}), "rename"},
      {request("POST", c + "/members", alice_, json::object{{"user_ids", {"dave"}}}), "add member"},
      {request("DELETE", c + "/members/bob", alice_), "remove member"},
      {request("POST", c + "/join", carol_), "join"},
  };
  for (const auto& [req, what] : writes) EXPECT_ERROR(http().send(req), 409, "conflict") << what;
  EXPECT_EQ(message(bob_, ch, seq)["text"], "an old message");
  EXPECT_EQ(channel(alice_, ch)["member_count"], 2);
  EXPECT_EQ(channel(alice_, ch)["last_seq"], 1);
  EXPECT_EQ(channel(alice_, ch)["name"], "Old news");

  ASSERT_STATUS(http().post(path(ch) + "/unarchive", alice_.auth()), 200);
  EXPECT_EQ(send(bob_, ch, "revived"), 2);
  EXPECT_STATUS(http().patch(m, bob_.auth(), {{"text", "edited"}}), 200);
  EXPECT_STATUS(http().post(c + "/join", carol_.auth()), 200);
  EXPECT_STATUS(http().put(c + "/pins/1", alice_.auth()), 204);
}

TEST_F(ChatRulesTest, ADeletedChannelIsNotFoundForEveryoneEverywhere) {
  auto ch = create(alice_, "public", "Doomed", {"bob"});
  auto seq = send(alice_, ch, "hey @bob");
  ASSERT_STATUS(http().put("/v1/saved/" + ch + "/" + std::to_string(seq), bob_.auth()), 204);
  auto before = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}});
  ASSERT_STATUS(before, 200);
  std::string cursor = str(before.obj()["cursor"]);
  ASSERT_EQ(totals(bob_)["unread_count"], 1);

  ASSERT_STATUS(http().del(path(ch), alice_.auth()), 204);
  for (const UserTokens* who : {&alice_, &bob_, &carol_}) {
    EXPECT_ERROR(http().get(path(ch), who->auth()), 404, "not_found");
    EXPECT_ERROR(http().get(path(ch) + "/messages", who->auth()), 404, "not_found");
    EXPECT_ERROR(http().get(msg(ch, seq), who->auth()), 404, "not_found");
    EXPECT_ERROR(http().post(path(ch) + "/messages", who->auth(), {{"text", "x"}}), 404, "not_found");
    EXPECT_ERROR(http().get(path(ch) + "/members", who->auth()), 404, "not_found");
    EXPECT_ERROR(http().post(path(ch) + "/join", who->auth()), 404, "not_found");
    EXPECT_TRUE(listed(*who, ch).empty());
  }
  EXPECT_ERROR(http().del(path(ch), alice_.auth()), 404, "not_found");
  EXPECT_TRUE(http().get("/v1/channels/public", carol_.auth()).obj()["items"].as_array().empty());
  auto t = totals(bob_);
  EXPECT_EQ(t["unread_count"], 0);
  EXPECT_EQ(t["unread_mentions"], 0);
  EXPECT_TRUE(http().get("/v1/mentions", bob_.auth()).obj()["items"].as_array().empty());
  EXPECT_TRUE(http().get("/v1/saved", bob_.auth()).obj()["items"].as_array().empty());
  auto after = http().post("/v1/sync", bob_.auth(), {{"channels", {{ch, 0}}}, {"since", cursor}});
  ASSERT_STATUS(after, 200);
  EXPECT_EQ(id_set(after.obj()["changes"].as_object()["removed"].as_array()), std::set<std::string>{ch});
  EXPECT_TRUE(after.obj()["channels"].as_object().empty());
  EXPECT_EQ(after.body.find("hey @bob"), std::string::npos);
}

TEST_F(ChatRulesTest, TheMemberLimitAppliesToCreatingAddingAndJoining) {
  settings({{"max_channel_members", 3}});
  auto over = http().post("/v1/channels", alice_.auth(),
                          {{"type", "group"}, {"name", "Too many"}, {"members", {"bob", "carol", "dave"}}});
  EXPECT_ERROR(over, 422, "validation_failed");
  EXPECT_EQ(error_detail(over), "members");
  auto full = create(alice_, "group", "Full", {"bob", "carol"});
  EXPECT_ERROR(http().post(path(full) + "/members", alice_.auth(), {{"user_ids", {"dave"}}}), 422, "validation_failed");
  EXPECT_ERROR(http().get(path(full), dave_.auth()), 404, "not_found");
  EXPECT_EQ(channel(alice_, full)["member_count"], 3);

  auto open = create(alice_, "public", "Open", {"bob"});
  EXPECT_STATUS(http().post(path(open) + "/join", carol_.auth()), 200);
  EXPECT_ERROR(http().post(path(open) + "/join", dave_.auth()), 422, "validation_failed");
  EXPECT_EQ(channel(alice_, open)["member_count"], 3);
  // Room again once someone leaves.
  ASSERT_STATUS(http().post(path(open) + "/leave", carol_.auth()), 204);
  EXPECT_STATUS(http().post(path(open) + "/join", dave_.auth()), 200);
}

TEST_F(ChatRulesTest, AChannelHoldsAtMostFiftyPins) {
  auto ch = create(alice_, "group", "Pinboard");
  for (int i = 1; i <= 51; ++i) ASSERT_EQ(send(alice_, ch, "m" + std::to_string(i)), i);
  for (int i = 1; i <= 50; ++i) ASSERT_STATUS(http().put(path(ch) + "/pins/" + std::to_string(i), alice_.auth()), 204);
  auto over = http().put(path(ch) + "/pins/51", alice_.auth());
  EXPECT_ERROR(over, 422, "validation_failed");
  EXPECT_FALSE(message(alice_, ch, 51)["pinned"].as_bool());
  EXPECT_STATUS(http().put(path(ch) + "/pins/7", alice_.auth()), 204) << "re-pinning a pinned message is no change";
  auto pins = http().get(path(ch) + "/pins", alice_.auth()).obj()["items"].as_array();
  ASSERT_EQ(pins.size(), 50u);
  EXPECT_EQ(pins[0].as_object()["seq"], 50) << "newest pin first";
  ASSERT_STATUS(http().del(path(ch) + "/pins/3", alice_.auth()), 204);
  EXPECT_STATUS(http().put(path(ch) + "/pins/51", alice_.auth()), 204);
  EXPECT_EQ(http().get(path(ch) + "/pins", alice_.auth()).obj()["items"].as_array()[0].as_object()["seq"], 51);
}

TEST_F(ChatRulesTest, ADeletedMessageLeavesThePinsAndCannotBePinned) {
  auto ch = create(alice_, "group", "Team", {"bob"});
  auto seq = send(bob_, ch, "pinned, then deleted");
  ASSERT_STATUS(http().put(path(ch) + "/pins/" + std::to_string(seq), alice_.auth()), 204);
  ASSERT_STATUS(http().del(msg(ch, seq), bob_.auth()), 204);
  EXPECT_TRUE(http().get(path(ch) + "/pins", alice_.auth()).obj()["items"].as_array().empty());
  EXPECT_FALSE(message(alice_, ch, seq)["pinned"].as_bool());
  EXPECT_ERROR(http().put(path(ch) + "/pins/" + std::to_string(seq), alice_.auth()), 404, "not_found");
  EXPECT_ERROR(http().patch(msg(ch, seq), bob_.auth(), {{"text", "resurrected"}}), 404, "not_found");
  EXPECT_ERROR(http().post(msg(ch, seq) + "/reactions", alice_.auth(), {{"type", "like"}}), 404, "not_found");
}

// ---- bad input -------------------------------------------------------------------------------

class ChatInputTest : public ChatRulesTest {
 protected:
  void SetUp() override {
    ChatRulesTest::SetUp();
    ch_ = create(alice_, "group", "Team", {"bob"});
    seq_ = send(alice_, ch_, "hello");
    m_ = msg(ch_, seq_);
  }
  struct Case {
    std::string method, target;
    json::value body;
    std::string field;
  };
  // Every chat route that takes a JSON body, with a body that is otherwise fine.
  std::vector<Case> write_routes() {
    std::string c = path(ch_);
    return {
        {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}}, ""},
        {"POST", "/v1/channels/dm", json::object{{"user_id", "bob"}}, ""},
        {"PATCH", c, json::object{{"name", "x"}}, ""},
        {"POST", c + "/members", json::object{{"user_ids", {"carol"}}}, ""},
        {"PATCH", c + "/members/bob", json::object{{"role", "moderator"}}, ""},
        {"PATCH", c + "/membership", json::object{{"muted", true}}, ""},
        {"POST", c + "/messages", json::object{{"text", "x"}}, ""},
        {"PATCH", m_, json::object{{"text", "x"}}, ""},
        {"POST", m_ + "/reactions", json::object{{"type", "like"}}, ""},
        {"POST", c + "/read", json::object{{"seq", 1}}, ""},
        {"POST", "/v1/sync", json::object{{"channels", json::object{}}}, ""},
    };
  }
  void expect_unchanged() {
    auto c = channel(alice_, ch_);
    EXPECT_EQ(c["name"], "Team");
    EXPECT_EQ(c["last_seq"], 1) << "a rejected send takes no seq";
    EXPECT_EQ(c["member_count"], 2);
    auto m = message(alice_, ch_, seq_);
    EXPECT_EQ(m["text"], "hello");
    EXPECT_EQ(m["reactions"], json::object{});
    EXPECT_EQ(channel(bob_, ch_)["membership"].as_object()["role"], "member");
    EXPECT_EQ(http().get("/v1/channels", alice_.auth()).obj()["items"].as_array().size(), 1u);
  }

  std::string ch_, m_;
  std::int64_t seq_ = 0;
};

TEST_F(ChatInputTest, EveryWriteRouteRejectsABodyThatIsNotAJsonObject) {
  for (const auto& c : write_routes()) {
    for (std::string bad : {"{\"text\":", "[1]", "\"text\"", "{\"a\":1}{"}) {
      auto r = http().send_raw(c.method, c.target, alice_.auth(), bad);
      EXPECT_ERROR(r, 400, "invalid_json") << c.method << " " << c.target << " " << bad;
    }
  }
  expect_unchanged();
}

TEST_F(ChatInputTest, EveryWriteRouteRejectsWrongTypesMissingAndUnknownFieldsNamingTheField) {
  std::string c = path(ch_);
  std::vector<Case> cases{
      {"POST", "/v1/channels", json::object{{"type", 1}, {"name", "x"}}, "type"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", true}}, "name"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"topic", 5}}, "topic"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"image_url", 5}}, "image_url"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"custom", "x"}}, "custom"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"members", json::array{1}}}, "members"},
      {"POST", "/v1/channels/dm", json::object{}, "user_id"},
      {"POST", "/v1/channels/dm", json::object{{"user_id", 7}}, "user_id"},
      {"POST", "/v1/channels/dm", json::object{{"user_id", "bob"}, {"userid", "bob"}}, "userid"},
      {"PATCH", c, json::object{{"name", 5}}, "name"},
      {"PATCH", c, json::object{{"topic", nullptr}}, "topic"},
      {"PATCH", c, json::object{{"custom", json::array{}}}, "custom"},
      {"PATCH", c, json::object{{"type", "public"}}, "type"},
      {"POST", c + "/members", json::object{}, "user_ids"},
      {"POST", c + "/members", json::object{{"user_ids", "carol"}}, "user_ids"},
      {"POST", c + "/members", json::object{{"user_ids", {"carol"}}, {"role", 2}}, "role"},
      {"POST", c + "/members", json::object{{"user_ids", {"carol"}}, {"roles", "admin"}}, "roles"},
      {"PATCH", c + "/members/bob", json::object{}, "role"},
      {"PATCH", c + "/members/bob", json::object{{"role", json::array{"admin"}}}, "role"},
      {"PATCH", c + "/members/bob", json::object{{"role", "admin"}, {"muted", true}}, "muted"},
      {"PATCH", c + "/membership", json::object{{"starred", 1}}, "starred"},
      {"PATCH", c + "/membership", json::object{{"hidden", "true"}}, "hidden"},
      {"PATCH", c + "/membership", json::object{{"role", "admin"}}, "role"},
      {"POST", c + "/messages", json::object{}, "text"},
      {"POST", c + "/messages", json::object{{"text", nullptr}}, "text"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"attachments", json::object{}}}, "attachments"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"attachments", json::array{"a.png"}}}, "attachments"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"parent_seq", "1"}}, "parent_seq"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"parent_seq", 1.5}}, "parent_seq"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"client_msg_id", 42}}, "client_msg_id"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"mentions", "bob"}}, "mentions"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"mentions", json::array{1}}}, "mentions"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"channel_id", "y"}}, "channel_id"},
      {"PATCH", m_, json::object{}, "text"},
      {"PATCH", m_, json::object{{"text", 5}}, "text"},
      {"PATCH", m_, json::object{{"text", "x"}, {"attachments", "none"}}, "attachments"},
      {"PATCH", m_, json::object{{"text", "x"}, {"parent_seq", 1}}, "parent_seq"},
      {"POST", m_ + "/reactions", json::object{}, "type"},
      {"POST", m_ + "/reactions", json::object{{"type", 1}}, "type"},
      {"POST", m_ + "/reactions", json::object{{"type", "like"}, {"emoji", "x"}}, "emoji"},
      {"POST", c + "/read", json::object{{"seq", "1"}}, "seq"},
      {"POST", c + "/read", json::object{{"seq", 1.5}}, "seq"},
      {"POST", c + "/read", json::object{{"last_read_seq", 1}}, "last_read_seq"},
      {"POST", "/v1/sync", json::object{}, "channels"},
      {"POST", "/v1/sync", json::object{{"channels", json::array{}}}, "channels"},
      {"POST", "/v1/sync", json::object{{"channels", {{ch_, "1"}}}}, "channels"},
      {"POST", "/v1/sync", json::object{{"channels", {{ch_, -1}}}}, "channels"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"since", 5}}, "since"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"limit_per_channel", "9"}}, "limit_per_channel"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"cursor", "x"}}, "cursor"},
  };
  for (const auto& k : cases) {
    auto r = http().send(request(k.method, k.target, alice_, k.body));
    EXPECT_ERROR(r, 400, "invalid_request") << k.method << " " << k.target << " " << json::serialize(k.body);
    EXPECT_EQ(error_detail(r), k.field) << k.method << " " << k.target << " " << json::serialize(k.body);
  }
  expect_unchanged();
}

TEST_F(ChatInputTest, OutOfRangeValuesAre422NamingTheField) {
  settings({{"max_message_bytes", 32}});
  std::string c = path(ch_);
  json::array many_ids, too_many_mentions, eleven;
  for (int i = 0; i < 101; ++i) many_ids.emplace_back("u" + std::to_string(i));
  for (int i = 0; i < 51; ++i) too_many_mentions.emplace_back("bob");
  for (int i = 0; i < 11; ++i) eleven.emplace_back(json::object{{"i", i}});
  json::array big{json::object{{"blob", std::string(2100, 'x')}}};
  json::object many_channels;
  for (int i = 0; i < 501; ++i) many_channels["ch_" + std::to_string(i)] = 0;
  std::string text33(33, 'x');
  std::vector<Case> cases{
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", std::string(101, 'n')}}, "name"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", ""}}, "name"},
      {"POST", "/v1/channels", json::object{{"type", "dm"}, {"name", "x"}}, "type"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"topic", std::string(501, 't')}},
       "topic"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"image_url", "ftp://x"}}, "image_url"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"members", many_ids}}, "members"},
      {"POST", "/v1/channels", json::object{{"type", "group"}, {"name", "x"}, {"members", {"not an id"}}}, "members"},
      {"POST", "/v1/channels/dm", json::object{{"user_id", ""}}, "user_id"},
      {"POST", "/v1/channels/dm", json::object{{"user_id", "alice"}}, "user_id"},
      {"PATCH", c, json::object{{"name", ""}}, "name"},
      {"PATCH", c, json::object{{"name", std::string(101, 'n')}}, "name"},
      {"PATCH", c, json::object{{"topic", std::string(501, 't')}}, "topic"},
      {"POST", c + "/members", json::object{{"user_ids", json::array{}}}, "user_ids"},
      {"POST", c + "/members", json::object{{"user_ids", many_ids}}, "user_ids"},
      {"POST", c + "/members", json::object{{"user_ids", {"carol"}}, {"role", "owner"}}, "role"},
      {"PATCH", c + "/members/bob", json::object{{"role", "owner"}}, "role"},
      {"PATCH", c + "/members/bob", json::object{{"role", "boss"}}, "role"},
      {"POST", c + "/messages", json::object{{"text", text33}}, "text"},
      {"POST", c + "/messages", json::object{{"text", ""}}, "text"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"attachments", eleven}}, "attachments"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"attachments", big}}, "attachments"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"client_msg_id", std::string(65, 'c')}}, "client_msg_id"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"client_msg_id", ""}}, "client_msg_id"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"mentions", too_many_mentions}}, "mentions"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"mentions", {"carol"}}}, "mentions"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"parent_seq", 0}}, "parent_seq"},
      {"POST", c + "/messages", json::object{{"text", "x"}, {"parent_seq", 99}}, "parent_seq"},
      {"PATCH", m_, json::object{{"text", text33}}, "text"},
      {"PATCH", m_, json::object{{"text", "x"}, {"attachments", eleven}}, "attachments"},
      {"PATCH", m_, json::object{{"text", "x"}, {"attachments", big}}, "attachments"},
      {"POST", m_ + "/reactions", json::object{{"type", ""}}, "type"},
      {"POST", m_ + "/reactions", json::object{{"type", std::string(65, 'r')}}, "type"},
      {"DELETE", m_ + "/reactions/" + std::string(65, 'r'), nullptr, "type"},
      {"POST", c + "/read", json::object{{"seq", -1}}, "seq"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"limit_per_channel", 0}}, "limit_per_channel"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"limit_per_channel", 501}}, "limit_per_channel"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"since", "not-a-cursor"}}, "since"},
      {"POST", "/v1/sync", json::object{{"channels", json::object{}}, {"since", "YzE6YWJj"}}, "since"},
      {"POST", "/v1/sync", json::object{{"channels", many_channels}}, "channels"},
  };
  for (const auto& k : cases) {
    auto r = http().send(request(k.method, k.target, alice_, k.body.is_null() ? std::nullopt : std::optional(k.body)));
    EXPECT_ERROR(r, 422, "validation_failed") << k.method << " " << k.target << " " << json::serialize(k.body);
    EXPECT_EQ(error_detail(r), k.field) << k.method << " " << k.target << " " << json::serialize(k.body);
  }
  expect_unchanged();
  // The limits are inclusive.
  EXPECT_STATUS(http().post(c + "/messages", alice_.auth(), {{"text", std::string(32, 'x')}}), 201);
  json::array ten;
  for (int i = 0; i < 10; ++i) ten.emplace_back(json::object{{"blob", std::string(2030, 'x')}});
  EXPECT_STATUS(http().post(c + "/messages", alice_.auth(), {{"text", ""}, {"attachments", ten}}), 201);
  EXPECT_STATUS(http().post(c + "/messages", alice_.auth(), {{"text", "y"}, {"client_msg_id", std::string(64, 'c')}}),
                201);
}

TEST_F(ChatInputTest, ThreadsAreOneLevelDeepAndRejectedSendsTakeNoSeq) {
  auto reply = send(bob_, ch_, "a reply", {{"parent_seq", seq_}});
  ASSERT_EQ(reply, 2);
  auto nested = http().post(path(ch_) + "/messages", alice_.auth(), {{"text", "nested"}, {"parent_seq", reply}});
  EXPECT_ERROR(nested, 422, "validation_failed");
  EXPECT_EQ(error_detail(nested), "parent_seq");
  auto deleted = send(alice_, ch_, "soon gone");
  ASSERT_STATUS(http().del(msg(ch_, deleted), alice_.auth()), 204);
  auto to_deleted = http().post(path(ch_) + "/messages", bob_.auth(), {{"text", "late"}, {"parent_seq", deleted}});
  EXPECT_ERROR(to_deleted, 422, "validation_failed");
  EXPECT_EQ(error_detail(to_deleted), "parent_seq");
  EXPECT_ERROR(http().post(path(ch_) + "/messages", bob_.auth(), {{"text", "future"}, {"parent_seq", 4}}), 422,
               "validation_failed");
  EXPECT_EQ(message(alice_, ch_, seq_)["reply_count"], 1);
  EXPECT_EQ(send(bob_, ch_, "next"), 4) << "the rejected sends took no seq";
}

TEST_F(ChatInputTest, MentionsInTextAreLenientButTheExplicitListIsStrict) {
  // Text: unknown ids, non-members and e-mail addresses are not mentions; no error.
  auto seq = send(alice_, ch_, "@carol @nobody mail bob@bob.example, but @bob.");
  EXPECT_EQ(message(bob_, ch_, seq)["mentions"], json::array{"bob"});
  auto r = http().post(path(ch_) + "/messages", alice_.auth(), {{"text", "x"}, {"mentions", {"bob", "carol"}}});
  EXPECT_ERROR(r, 422, "validation_failed");
  EXPECT_EQ(error_detail(r), "mentions");
  EXPECT_ERROR(http().post(path(ch_) + "/messages", alice_.auth(), {{"text", "x"}, {"mentions", {"not an id"}}}), 422,
               "validation_failed");
  // Fifty explicit mentions are allowed (duplicates collapse).
  json::array fifty;
  for (int i = 0; i < 50; ++i) fifty.emplace_back("bob");
  auto ok = http().post(path(ch_) + "/messages", alice_.auth(), {{"text", "x"}, {"mentions", fifty}});
  ASSERT_STATUS(ok, 201);
  EXPECT_EQ(ok.obj()["message"].as_object()["mentions"], json::array{"bob"});
}

TEST_F(ChatInputTest, EditingFollowsTheSendRulesForEmptyMessages) {
  EXPECT_ERROR(http().patch(m_, alice_.auth(), {{"text", ""}}), 422, "validation_failed");
  EXPECT_EQ(message(alice_, ch_, seq_)["text"], "hello");
  auto with_file =
      http().post(path(ch_) + "/messages", alice_.auth(),
                  {{"text", "see file"}, {"attachments", json::array{json::object{{"url", "https://x/y.png"}}}}});
  ASSERT_STATUS(with_file, 201);
  auto s = with_file.obj()["message"].as_object()["seq"].as_int64();
  EXPECT_STATUS(http().patch(msg(ch_, s), alice_.auth(), {{"text", ""}}), 200) << "attachments carry the message";
  EXPECT_ERROR(http().patch(msg(ch_, s), alice_.auth(), {{"text", ""}, {"attachments", json::array{}}}), 422,
               "validation_failed");
}

TEST_F(ChatInputTest, QueryParametersAndPathSeqsAreValidated) {
  std::string h = path(ch_) + "/messages";
  struct Q {
    std::string target, parameter;
  };
  std::vector<Q> bad{
      {h + "?limit=0", "limit"},
      {h + "?limit=abc", "limit"},
      {h + "?limit=-5", "limit"},
      {h + "?after_seq=abc", "after_seq"},
      {h + "?after_seq=-1", "after_seq"},
      {h + "?before_seq=0", "before_seq"},
      {h + "?before_seq=1x", "before_seq"},
      {h + "?preview=yes", "preview"},
      {m_ + "/replies?after_seq=x", "after_seq"},
      {m_ + "/replies?limit=0", "limit"},
      {"/v1/channels?cursor=%21%21", "cursor"},
      {"/v1/channels?cursor=YzE6eA", "cursor"},  // a well-formed envelope around a position of another shape
      {"/v1/channels?include_hidden=1", "include_hidden"},
      {"/v1/channels/public?cursor=YzE6eA", "cursor"},
      {path(ch_) + "/members?cursor=%21%21", "cursor"},
      {path(ch_) + "/members?limit=abc", "limit"},
      {"/v1/saved?cursor=YzE6eA", "cursor"},
      {"/v1/mentions?cursor=YzE6eA", "cursor"},
      {"/v1/mentions?unread_only=0", "unread_only"},
  };
  for (const auto& q : bad) {
    auto r = http().get(q.target, alice_.auth());
    EXPECT_ERROR(r, 400, "invalid_request") << q.target;
    EXPECT_EQ(error_detail(r, "parameter"), q.parameter) << q.target;
  }
  EXPECT_ERROR(http().get(h + "?after_seq=1&before_seq=5", alice_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/channels?type=secret", alice_.auth()), 400, "invalid_request");

  for (std::string seq : {"abc", "0", "-1", "1.0", "99999999999999999999", "2"}) {
    std::string m = path(ch_) + "/messages/" + seq;
    EXPECT_ERROR(http().get(m, alice_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().patch(m, alice_.auth(), {{"text", "x"}}), 404, "not_found") << seq;
    EXPECT_ERROR(http().del(m, alice_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().get(m + "/replies", alice_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().get(m + "/seen-by", alice_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().post(m + "/reactions", alice_.auth(), {{"type", "like"}}), 404, "not_found") << seq;
    EXPECT_ERROR(http().del(m + "/reactions/like", alice_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().post(m + "/purge", app_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().put(path(ch_) + "/pins/" + seq, alice_.auth()), 404, "not_found") << seq;
    EXPECT_ERROR(http().put("/v1/saved/" + ch_ + "/" + seq, alice_.auth()), 404, "not_found") << seq;
  }
  expect_unchanged();

  // preview cuts long texts to 200 characters; the single message keeps the full text.
  auto long_seq = send(alice_, ch_, std::string(250, 'L'));
  auto preview = http().get(h + "?preview=true&after_seq=1", alice_.auth()).obj()["items"].as_array();
  ASSERT_EQ(preview.size(), 1u);
  EXPECT_EQ(str(preview[0].as_object()["text"]).size(), 200u);
  EXPECT_EQ(preview[0].as_object()["truncated"], true);
  EXPECT_EQ(str(message(alice_, ch_, long_seq)["text"]).size(), 250u);
}

// ---- the tenant wall -------------------------------------------------------------------------

class ChatRulesCrossTenantTest : public ChatRulesTest {
 protected:
  void SetUp() override {
    ChatRulesTest::SetUp();
    channel_ = create(alice_, "public", "A-only channel", {"bob"});
    seq_ = send(alice_, channel_, "A-only text @bob");
    send(bob_, channel_, "A-only reply", {{"parent_seq", seq_}});
    ASSERT_STATUS(http().put(path(channel_) + "/pins/1", alice_.auth()), 204);
    ASSERT_STATUS(http().put("/v1/saved/" + channel_ + "/1", bob_.auth()), 204);
    b_ = create_app("app B");
    b_bob_ = ServerFixture::mint(b_, "bob");  // the same user id as A's bob
    b_zed_ = ServerFixture::mint(b_, "zed");
  }
  std::string channel_;
  std::int64_t seq_ = 0;
  AppCreds b_;
  UserTokens b_bob_, b_zed_;
};

TEST_F(ChatRulesCrossTenantTest, AppBsUsersGetOnly404sAndNoneOfAppAsData) {
  std::string c = path(channel_), m = msg(channel_, seq_);
  for (const UserTokens* who : {&b_bob_, &b_zed_}) {
    std::vector<HttpRequest> requests{
        request("GET", c, *who),
        request("GET", c + "/messages?after_seq=0", *who),
        request("GET", c + "/messages?preview=true", *who),
        request("GET", c + "/members", *who),
        request("GET", c + "/pins", *who),
        request("GET", c + "/online", *who),
        request("GET", m, *who),
        request("GET", m + "/replies", *who),
        request("POST", c + "/messages", *who, json::object{{"text", "x"}, {"client_msg_id", "c1"}}),
        request("POST", c + "/join", *who),
        request("POST", m + "/reactions", *who, json::object{{"type", "like"}}),
        request("PUT", "/v1/saved/" + channel_ + "/1", *who),
        request("POST", c + "/read", *who, json::object{}),
        request("PUT", "/v1/users/me/blocks/alice", *who),
        request("POST", "/v1/channels/dm", *who, json::object{{"user_id", "alice"}}),
    };
    for (const auto& req : requests) {
      auto r = http().send(req);
      EXPECT_ERROR(r, 404, "not_found") << req.method << " " << req.target;
      EXPECT_EQ(r.body.find("A-only"), std::string::npos) << req.method << " " << req.target << ": " << r.body;
    }
    // Lists and totals of B show nothing of A.
    for (std::string list : {"/v1/channels", "/v1/channels/public", "/v1/channels/public?q=A", "/v1/saved",
                             "/v1/mentions?unread_only=false", "/v1/users/me/blocks"}) {
      auto r = http().get(list, who->auth());
      ASSERT_STATUS(r, 200);
      EXPECT_TRUE(r.obj()["items"].as_array().empty()) << list << ": " << r.body;
    }
    auto t = totals(*who);
    EXPECT_EQ(t["unread_count"], 0);
    EXPECT_EQ(t["unread_mentions"], 0);
    auto sync = http().post("/v1/sync", who->auth(), {{"channels", {{channel_, 0}}}});
    ASSERT_STATUS(sync, 200);
    EXPECT_EQ(sync.body.find("A-only"), std::string::npos) << sync.body;
    EXPECT_TRUE(sync.obj()["changes"].as_object()["added"].as_array().empty());
  }
  // A's user ids mean nothing in B: a B channel cannot name them as members or mentions.
  auto mine = create(b_zed_, "group", "B's group");
  auto r = http().post(path(mine) + "/messages", b_zed_.auth(), {{"text", "hi"}, {"mentions", {"alice"}}});
  EXPECT_ERROR(r, 422, "validation_failed");
  EXPECT_EQ(channel(alice_, channel_)["last_seq"], 2);
  EXPECT_EQ(channel(alice_, channel_)["member_count"], 2);
  EXPECT_EQ(message(alice_, channel_, seq_)["reactions"], json::object{});
}

TEST_F(ChatRulesCrossTenantTest, AppAsChangesNeverShowUpInAppBsSync) {
  auto first = http().post("/v1/sync", b_bob_.auth(), {{"channels", json::object{}}});
  ASSERT_STATUS(first, 200);
  std::string cursor = str(first.obj()["cursor"]);
  auto a_first = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}});
  ASSERT_STATUS(a_first, 200);
  std::string a_cursor = str(a_first.obj()["cursor"]);
  // A changes a lot: a new channel with bob, a rename, bob leaves, a deletion.
  auto fresh = create(alice_, "group", "A-only new", {"bob"});
  ASSERT_STATUS(http().patch(path(channel_), alice_.auth(), {{"name", "A-only renamed"}}), 200);
  ASSERT_STATUS(http().post(path(channel_) + "/leave", bob_.auth()), 204);
  ASSERT_STATUS(http().del(path(fresh), alice_.auth()), 204);
  auto later = http().post("/v1/sync", b_bob_.auth(), {{"channels", json::object{}}, {"since", cursor}});
  ASSERT_STATUS(later, 200);
  auto changes = later.obj()["changes"].as_object();
  EXPECT_TRUE(changes["added"].as_array().empty()) << later.body;
  EXPECT_TRUE(changes["updated"].as_array().empty()) << later.body;
  EXPECT_TRUE(changes["removed"].as_array().empty()) << later.body;
  EXPECT_EQ(later.body.find("A-only"), std::string::npos);
  // And A's bob sees his own changes (the wall is not a blackout).
  auto a_side = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}, {"since", a_cursor}});
  ASSERT_STATUS(a_side, 200);
  EXPECT_EQ(id_set(a_side.obj()["changes"].as_object()["removed"].as_array()),
            (std::set<std::string>{channel_, fresh}));
}

// ---- read state, unread and mentions ---------------------------------------------------------

TEST_F(ChatRulesTest, UnreadCountsFollowMessagesDeletesReadsAndMutes) {
  auto team = create(alice_, "group", "Team", {"bob", "carol"});
  auto noisy = create(alice_, "group", "Noisy", {"bob"});
  for (int i = 0; i < 3; ++i) send(alice_, team, "a" + std::to_string(i));  // 1..3
  send(carol_, team, "c0");                                                 // 4
  send(carol_, team, "c1");                                                 // 5
  for (int i = 0; i < 4; ++i) send(alice_, noisy, "n" + std::to_string(i));
  ASSERT_STATUS(http().patch(path(noisy) + "/membership", bob_.auth(), {{"muted", true}}), 200);

  EXPECT_EQ(listed(bob_, team)["unread_count"], 5);
  EXPECT_EQ(listed(bob_, noisy)["unread_count"], 4) << "a muted channel still shows its own count";
  auto t = totals(bob_);
  EXPECT_EQ(t["unread_count"], 5) << "muted channels are left out of the totals";
  EXPECT_EQ(t["channels_with_unread"], 1);
  EXPECT_EQ(channel(alice_, team)["unread_count"], 2) << "own messages never count";
  EXPECT_EQ(channel(carol_, team)["unread_count"], 0);

  ASSERT_STATUS(http().del(msg(team, 2), alice_.auth()), 204);
  EXPECT_EQ(channel(bob_, team)["unread_count"], 4);
  EXPECT_EQ(totals(bob_)["unread_count"], 4);

  auto read = http().post(path(team) + "/read", bob_.auth(), {{"seq", 3}});
  ASSERT_STATUS(read, 200);
  EXPECT_EQ(read.obj()["last_read_seq"], 3);
  EXPECT_EQ(read.obj()["unread_count"], 2);
  ASSERT_STATUS(http().del(msg(team, 1), alice_.auth()), 204);
  EXPECT_EQ(channel(bob_, team)["unread_count"], 2) << "deleting a read message changes nothing";
  ASSERT_STATUS(http().del(msg(team, 5), carol_.auth()), 204);
  EXPECT_EQ(channel(bob_, team)["unread_count"], 1);
  EXPECT_EQ(http().post(path(team) + "/read", bob_.auth(), {{"seq", 0}}).obj()["last_read_seq"], 3) << "not back";
  auto all = http().post(path(team) + "/read", bob_.auth());
  ASSERT_STATUS(all, 200);
  EXPECT_EQ(all.obj()["last_read_seq"], 5);
  EXPECT_EQ(all.obj()["unread_count"], 0);
  EXPECT_EQ(http().post(path(team) + "/read", bob_.auth(), {{"seq", 1000}}).obj()["last_read_seq"], 5)
      << "capped at the last seq";
  EXPECT_EQ(channel(bob_, team)["membership"].as_object()["last_read_seq"], 5);
  EXPECT_EQ(totals(bob_)["unread_count"], 0);
  EXPECT_EQ(totals(bob_)["channels_with_unread"], 0);

  ASSERT_STATUS(http().patch(path(noisy) + "/membership", bob_.auth(), {{"muted", false}}), 200);
  t = totals(bob_);
  EXPECT_EQ(t["unread_count"], 4);
  EXPECT_EQ(t["channels_with_unread"], 1);
  // A member added later starts with nothing unread.
  ASSERT_STATUS(http().post(path(team) + "/members", alice_.auth(), {{"user_ids", {"dave"}}}), 200);
  EXPECT_EQ(channel(dave_, team)["unread_count"], 0);
  send(alice_, team, "for dave too");
  EXPECT_EQ(channel(dave_, team)["unread_count"], 1);
}

TEST_F(ChatRulesTest, MentionsCountAsUnreadMentionsAndListUntilRead) {
  auto team = create(alice_, "group", "Team", {"bob", "carol", "dave"});
  auto muted = create(alice_, "group", "Muted", {"bob"});
  send(alice_, team, "plain");                                             // 1
  auto by_text = send(alice_, team, "ping @bob");                          // 2
  send(alice_, team, "explicit", {{"mentions", {"dave"}}});                // 3
  send(bob_, team, "me, @bob, mentioning myself");                         // 4: marks bob read up to 4
  auto later = send(carol_, team, "@bob again", {{"mentions", {"bob"}}});  // 5: one mention, not two
  send(alice_, muted, "@bob in a muted channel");
  ASSERT_STATUS(http().patch(path(muted) + "/membership", bob_.auth(), {{"muted", true}}), 200);

  EXPECT_EQ(channel(bob_, team)["unread_mentions"], 1) << "the mention at seq 2 was read by sending at 4";
  EXPECT_EQ(channel(bob_, muted)["unread_mentions"], 1);
  EXPECT_EQ(totals(bob_)["unread_mentions"], 1) << "muted channels are left out";
  EXPECT_EQ(channel(dave_, team)["unread_mentions"], 1) << "the explicit list counts like text";
  EXPECT_EQ(totals(dave_)["unread_mentions"], 1);
  EXPECT_EQ(channel(alice_, team)["unread_mentions"], 0);
  auto unread = http().get("/v1/mentions", bob_.auth()).obj()["items"].as_array();
  std::set<std::pair<std::string, std::int64_t>> got;
  for (const auto& m : unread) got.emplace(str(m.as_object().at("channel_id")), m.as_object().at("seq").as_int64());
  EXPECT_EQ(got, (std::set<std::pair<std::string, std::int64_t>>{{team, later}, {muted, 1}}));
  EXPECT_EQ(http().get("/v1/mentions?unread_only=false", bob_.auth()).obj()["items"].as_array().size(), 3u);
  EXPECT_EQ(message(bob_, team, by_text)["mentions"], json::array{"bob"});

  ASSERT_STATUS(http().post(path(team) + "/read", bob_.auth()), 200);
  EXPECT_EQ(channel(bob_, team)["unread_mentions"], 0);
  EXPECT_EQ(http().get("/v1/mentions", bob_.auth()).obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(http().get("/v1/mentions?unread_only=false", bob_.auth()).obj()["items"].as_array().size(), 3u);

  // A deleted mention is neither listed nor counted.
  auto gone = send(alice_, team, "@bob look, then forget");
  EXPECT_EQ(channel(bob_, team)["unread_mentions"], 1);
  ASSERT_STATUS(http().del(msg(team, gone), alice_.auth()), 204);
  EXPECT_EQ(channel(bob_, team)["unread_count"], 0);
  EXPECT_EQ(channel(bob_, team)["unread_mentions"], 0);
  EXPECT_EQ(listed(bob_, team)["unread_mentions"], 0);
  ASSERT_STATUS(http().patch(path(muted) + "/membership", bob_.auth(), {{"muted", false}}), 200);
  EXPECT_EQ(totals(bob_)["unread_mentions"], 1);
  EXPECT_EQ(http().get("/v1/mentions", bob_.auth()).obj()["items"].as_array().size(), 1u);
}

TEST_F(ChatRulesTest, SeenByListsMembersWhoReadThatFarButNeverTheAuthor) {
  auto ch = create(alice_, "group", "Team", {"bob", "carol", "dave"});
  for (int i = 1; i <= 3; ++i) send(alice_, ch, "m" + std::to_string(i));
  auto seen = [&](std::int64_t seq) {
    auto r = http().get(msg(ch, seq) + "/seen-by", bob_.auth());
    if (r.status != 200) throw std::runtime_error("seen-by failed: " + r.body);
    return r.obj()["user_ids"].as_array();
  };
  EXPECT_TRUE(seen(1).empty());
  ASSERT_STATUS(http().post(path(ch) + "/read", bob_.auth(), {{"seq", 2}}), 200);
  EXPECT_EQ(seen(2), json::array{"bob"});
  EXPECT_TRUE(seen(3).empty());
  send(carol_, ch, "m4");  // sending reads everything before
  EXPECT_EQ(seen(1), (json::array{"bob", "carol"}));
  EXPECT_EQ(seen(3), json::array{"carol"});
  EXPECT_TRUE(seen(4).empty()) << "the author is not listed";
  ASSERT_STATUS(http().post(path(ch) + "/read", dave_.auth()), 200);
  EXPECT_EQ(seen(4), json::array{"dave"});
  ASSERT_STATUS(http().post(path(ch) + "/read", alice_.auth()), 200);
  EXPECT_EQ(seen(4), (json::array{"alice", "dave"}));
  EXPECT_ERROR(http().get(msg(ch, 5) + "/seen-by", bob_.auth()), 404, "not_found");
}

TEST_F(ChatRulesTest, SeenByLeavesOutMembersWhoJoinedAfterTheMessage) {
  auto ch = create(alice_, "group", "Team", {"bob"});
  auto before = send(alice_, ch, "before dave");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // seen-by compares join and send times (ms)
  auto added = http().post(path(ch) + "/members", alice_.auth(), json::object{{"user_ids", json::array{"dave"}}});
  ASSERT_STATUS(added, 200);
  ASSERT_EQ(added.obj()["added"], json::array{"dave"});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto after = send(alice_, ch, "after dave");
  ASSERT_STATUS(http().post(path(ch) + "/read", dave_.auth()), 200);
  ASSERT_STATUS(http().post(path(ch) + "/read", bob_.auth()), 200);
  auto seen = [&](std::int64_t seq) {
    auto r = http().get(msg(ch, seq) + "/seen-by", alice_.auth());
    if (r.status != 200) throw std::runtime_error("seen-by failed: " + r.body);
    return r.obj()["user_ids"].as_array();
  };
  EXPECT_EQ(seen(before), json::array{"bob"}) << "dave was not there when it was sent";
  EXPECT_EQ(seen(after), (json::array{"bob", "dave"}));
}

// ---- sync ------------------------------------------------------------------------------------

TEST_F(ChatRulesTest, SyncReturnsExactlyTheMissedMessagesPerChannel) {
  auto one = create(alice_, "group", "One", {"bob"});
  auto two = create(alice_, "group", "Two", {"bob"});
  auto open = create(alice_, "public", "Open");
  auto hidden = create(alice_, "group", "Not bob's");
  for (int i = 1; i <= 5; ++i) send(alice_, one, "one-" + std::to_string(i));
  for (int i = 1; i <= 3; ++i) send(alice_, two, "two-" + std::to_string(i));
  send(alice_, open, "open-1");
  send(alice_, hidden, "hidden-1");

  auto sync = [&](json::object channels, int limit) {
    auto r = http().post("/v1/sync", bob_.auth(), {{"channels", channels}, {"limit_per_channel", limit}});
    if (r.status != 200) throw std::runtime_error("sync failed: " + r.body);
    return r.obj();
  };
  auto s = sync({{one, 2}, {two, 0}, {open, 0}, {hidden, 0}, {"ch_nonexistent", 0}}, 2);
  auto chans = s["channels"].as_object();
  EXPECT_EQ(chans.size(), 3u);
  EXPECT_EQ(seqs_of(chans[one].as_object()["messages"].as_array()), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(chans[one].as_object()["has_more"], true);
  EXPECT_EQ(seqs_of(chans[two].as_object()["messages"].as_array()), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(chans[two].as_object()["has_more"], true);
  EXPECT_EQ(field_of(chans[open].as_object()["messages"].as_array(), "text"), std::vector<std::string>{"open-1"})
      << "a public channel is readable without joining";
  EXPECT_EQ(chans[open].as_object()["has_more"], false);
  EXPECT_EQ(id_set(s["changes"].as_object()["removed"].as_array()), (std::set<std::string>{hidden, "ch_nonexistent"}));
  EXPECT_EQ(id_set(s["changes"].as_object()["added"].as_array()), (std::set<std::string>{one, two}));
  EXPECT_EQ(json::serialize(s).find("hidden-1"), std::string::npos);

  s = sync({{one, 2}, {two, 3}}, 10);
  chans = s["channels"].as_object();
  EXPECT_EQ(field_of(chans[one].as_object()["messages"].as_array(), "text"),
            (std::vector<std::string>{"one-3", "one-4", "one-5"}));
  EXPECT_EQ(chans[one].as_object()["has_more"], false);
  EXPECT_TRUE(chans[two].as_object()["messages"].as_array().empty());
  EXPECT_EQ(chans[two].as_object()["has_more"], false);
  EXPECT_TRUE(sync({{one, 99}}, 10)["channels"].as_object()[one].as_object()["messages"].as_array().empty());
}

TEST_F(ChatRulesTest, SyncListsAChannelAsUpdatedWhenTheMembershipChanges) {
  auto muted = create(alice_, "group", "Mute me", {"bob"});
  auto promoted = create(alice_, "group", "Promote me", {"bob"});
  auto untouched = create(alice_, "group", "Leave me be", {"bob"});
  auto first = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}});
  ASSERT_STATUS(first, 200);
  auto cursor = first.obj()["cursor"];

  ASSERT_STATUS(http().patch(path(muted) + "/membership", bob_.auth(), {{"muted", true}}), 200);
  ASSERT_STATUS(http().patch(path(promoted) + "/members/bob", alice_.auth(), {{"role", "admin"}}), 200);
  auto second = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}, {"since", cursor}});
  ASSERT_STATUS(second, 200);
  auto changes = second.obj()["changes"].as_object();
  EXPECT_TRUE(changes["added"].as_array().empty()) << second.body;
  EXPECT_TRUE(changes["removed"].as_array().empty()) << second.body;
  EXPECT_EQ(id_set(changes["updated"].as_array()), (std::set<std::string>{muted, promoted})) << second.body;
  for (const auto& c : changes["updated"].as_array()) {
    auto membership = c.as_object().at("membership").as_object();
    if (str(c.as_object().at("id")) == muted) {
      EXPECT_EQ(membership["muted"], true);
    }
    if (str(c.as_object().at("id")) == promoted) {
      EXPECT_EQ(membership["role"], "admin");
    }
  }
  EXPECT_EQ(second.body.find(untouched), std::string::npos);
  // Alice's own view of the channels did not change.
  auto alices = http().post("/v1/sync", alice_.auth(), {{"channels", json::object{}}, {"since", cursor}});
  ASSERT_STATUS(alices, 200);
  EXPECT_TRUE(alices.obj()["changes"].as_object()["updated"].as_array().empty()) << alices.body;

  auto third = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}, {"since", second.obj()["cursor"]}});
  ASSERT_STATUS(third, 200);
  EXPECT_TRUE(third.obj()["changes"].as_object()["updated"].as_array().empty()) << third.body;
}

TEST_F(ChatRulesTest, SyncSinceACursorReportsJoinedChangedAndDepartedChannels) {
  auto renamed = create(alice_, "group", "Rename me", {"bob"});
  auto archived = create(alice_, "group", "Archive me", {"bob"});
  auto left = create(alice_, "public", "Leave me", {"bob"});
  auto kicked = create(alice_, "group", "Kick bob", {"bob"});
  auto deleted = create(alice_, "group", "Delete me", {"bob"});
  auto quiet = create(alice_, "group", "Quiet", {"bob"});
  auto others = create(alice_, "group", "Not bob's", {"carol"});
  auto later_added = create(alice_, "group", "Bob later", {"carol"});
  auto to_join = create(carol_, "public", "Join me");

  auto first = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}});
  ASSERT_STATUS(first, 200);
  EXPECT_EQ(id_set(first.obj()["changes"].as_object()["added"].as_array()),
            (std::set<std::string>{renamed, archived, left, kicked, deleted, quiet}))
      << "without since: every current channel is added";
  EXPECT_TRUE(first.obj()["changes"].as_object()["removed"].as_array().empty());
  std::string cursor = str(first.obj()["cursor"]);

  ASSERT_STATUS(http().patch(path(renamed), alice_.auth(), {{"name", "Renamed"}}), 200);
  ASSERT_STATUS(http().post(path(archived) + "/archive", alice_.auth()), 200);
  ASSERT_STATUS(http().post(path(left) + "/leave", bob_.auth()), 204);
  ASSERT_STATUS(http().del(path(kicked) + "/members/bob", alice_.auth()), 204);
  ASSERT_STATUS(http().del(path(deleted), alice_.auth()), 204);
  send(alice_, quiet, "messages are not channel changes");
  ASSERT_STATUS(http().patch(path(others), alice_.auth(), {{"name", "Still not bob's"}}), 200);
  auto fresh = create(alice_, "group", "New with bob", {"bob"});
  ASSERT_STATUS(http().post(path(later_added) + "/members", alice_.auth(), {{"user_ids", {"bob"}}}), 200);
  ASSERT_STATUS(http().post(path(to_join) + "/join", bob_.auth()), 200);
  auto direct = dm(carol_, "bob");

  auto second = http().post("/v1/sync", bob_.auth(), {{"channels", {{kicked, 0}, {quiet, 0}}}, {"since", cursor}});
  ASSERT_STATUS(second, 200);
  auto changes = second.obj()["changes"].as_object();
  EXPECT_EQ(id_set(changes["added"].as_array()), (std::set<std::string>{fresh, later_added, to_join, direct}));
  EXPECT_EQ(id_set(changes["updated"].as_array()), (std::set<std::string>{renamed, archived}));
  auto removed = changes["removed"].as_array();
  EXPECT_EQ(id_set(removed), (std::set<std::string>{left, kicked, deleted}));
  EXPECT_EQ(removed.size(), 3u) << "no channel twice: " << second.body;
  for (const auto& c : changes["updated"].as_array()) {
    const auto& o = c.as_object();
    if (str(o.at("id")) == renamed) {
      EXPECT_EQ(o.at("name"), "Renamed");
    }
    if (str(o.at("id")) == archived) {
      EXPECT_TRUE(o.at("archived_at").is_string());
    }
    EXPECT_FALSE(o.at("membership").is_null());
  }
  EXPECT_EQ(second.body.find("Still not bob's"), std::string::npos);
  auto chans = second.obj()["channels"].as_object();
  EXPECT_FALSE(chans.contains(kicked));
  EXPECT_EQ(seqs_of(chans[quiet].as_object()["messages"].as_array()), std::vector<std::int64_t>{1});

  auto third = http().post("/v1/sync", bob_.auth(), {{"channels", json::object{}}, {"since", second.obj()["cursor"]}});
  ASSERT_STATUS(third, 200);
  auto none = third.obj()["changes"].as_object();
  EXPECT_TRUE(none["added"].as_array().empty()) << third.body;
  EXPECT_TRUE(none["updated"].as_array().empty()) << third.body;
  EXPECT_TRUE(none["removed"].as_array().empty()) << third.body;
}

// ---- threads ---------------------------------------------------------------------------------

TEST_F(ChatRulesTest, ThreadsCountRepliesTrackParticipantsAndPage) {
  auto ch = create(alice_, "group", "Team", {"bob", "carol", "dave"});
  auto root = send(alice_, ch, "question");
  auto other_root = send(dave_, ch, "unrelated");
  std::vector<std::int64_t> replies;
  for (const UserTokens* who : {&bob_, &carol_, &bob_, &alice_, &carol_}) {
    replies.push_back(send(*who, ch, "answer " + std::to_string(replies.size() + 1), {{"parent_seq", root}}));
  }
  send(bob_, ch, "elsewhere", {{"parent_seq", other_root}});
  auto parent = message(dave_, ch, root);
  EXPECT_EQ(parent["reply_count"], 5);
  EXPECT_EQ(parent["thread_participants"], (json::array{"bob", "carol", "alice"})) << "each once, first reply first";
  EXPECT_TRUE(parent["last_reply_at"].is_string());
  EXPECT_TRUE(parent["parent_seq"].is_null());
  EXPECT_EQ(message(dave_, ch, other_root)["reply_count"], 1);

  std::vector<std::int64_t> paged;
  std::vector<bool> more;
  for (std::int64_t after = 0;;) {
    auto r = http().get(msg(ch, root) + "/replies?limit=2&after_seq=" + std::to_string(after), dave_.auth());
    ASSERT_STATUS(r, 200);
    auto items = r.obj()["items"].as_array();
    for (const auto& m : items) EXPECT_EQ(m.as_object().at("parent_seq"), root);
    auto s = seqs_of(items);
    paged.insert(paged.end(), s.begin(), s.end());
    more.push_back(r.obj()["has_more"].as_bool());
    if (!more.back() || s.empty() || more.size() > 5) break;
    after = s.back();
  }
  EXPECT_EQ(paged, replies);
  EXPECT_EQ(more, (std::vector<bool>{true, true, false}));
  auto of_reply = http().get(msg(ch, replies[0]) + "/replies", dave_.auth());
  ASSERT_STATUS(of_reply, 200);
  EXPECT_TRUE(of_reply.obj()["items"].as_array().empty());
  EXPECT_EQ(of_reply.obj()["has_more"], false);
}

TEST_F(ChatRulesTest, ADeletedReplyLeavesItsThreadsCount) {
  auto ch = create(alice_, "group", "Team", {"bob", "carol"});
  auto root = send(alice_, ch, "question");
  auto first = send(bob_, ch, "answer 1", {{"parent_seq", root}});
  auto second = send(carol_, ch, "answer 2", {{"parent_seq", root}});
  ASSERT_EQ(message(alice_, ch, root)["reply_count"], 2);

  EXPECT_STATUS(http().del(msg(ch, second), carol_.auth()), 204);
  auto after_one = message(alice_, ch, root);
  EXPECT_EQ(after_one["reply_count"], 1);
  EXPECT_EQ(after_one["last_reply_at"], message(alice_, ch, first)["created_at"]) << "the reply still there";
  // Deleting it again changes nothing.
  http().del(msg(ch, second), carol_.auth());
  EXPECT_EQ(message(alice_, ch, root)["reply_count"], 1);
  // A deleted message that is not a reply leaves the thread alone.
  auto plain = send(bob_, ch, "not in the thread");
  EXPECT_STATUS(http().del(msg(ch, plain), bob_.auth()), 204);
  EXPECT_EQ(message(alice_, ch, root)["reply_count"], 1);

  EXPECT_STATUS(http().del(msg(ch, first), bob_.auth()), 204);
  auto empty = message(alice_, ch, root);
  EXPECT_EQ(empty["reply_count"], 0);
  EXPECT_TRUE(empty["last_reply_at"].is_null());
  // A new reply counts again from there.
  send(bob_, ch, "answer 3", {{"parent_seq", root}});
  EXPECT_EQ(message(alice_, ch, root)["reply_count"], 1);
}

TEST_F(ChatRulesTest, ThreadRepliesCountInUnreadHistoryAndSync) {
  auto ch = create(alice_, "group", "Team", {"bob", "carol"});
  auto root = send(alice_, ch, "question");
  ASSERT_STATUS(http().post(path(ch) + "/read", bob_.auth()), 200);
  send(carol_, ch, "reply 1 @bob", {{"parent_seq", root}});
  send(alice_, ch, "reply 2", {{"parent_seq", root}});
  EXPECT_EQ(channel(bob_, ch)["unread_count"], 2);
  EXPECT_EQ(channel(bob_, ch)["unread_mentions"], 1);
  EXPECT_EQ(totals(bob_)["unread_count"], 2);
  auto last = listed(bob_, ch)["last_message"].as_object();
  EXPECT_EQ(last["text"], "reply 2");
  EXPECT_EQ(last["parent_seq"], root);
  auto history = http().get(path(ch) + "/messages", bob_.auth()).obj()["items"].as_array();
  EXPECT_EQ(seqs_of(history), (std::vector<std::int64_t>{1, 2, 3}));
  auto s = http().post("/v1/sync", bob_.auth(), {{"channels", {{ch, root}}}});
  ASSERT_STATUS(s, 200);
  auto msgs = s.obj()["channels"].as_object()[ch].as_object()["messages"].as_array();
  EXPECT_EQ(field_of(msgs, "text"), (std::vector<std::string>{"reply 1 @bob", "reply 2"}));
  for (const auto& m : msgs) EXPECT_EQ(m.as_object().at("parent_seq"), root);
  auto read = http().post(path(ch) + "/read", bob_.auth());
  ASSERT_STATUS(read, 200);
  EXPECT_EQ(read.obj()["unread_count"], 0);
  EXPECT_EQ(channel(bob_, ch)["unread_mentions"], 0);
}

}  // namespace
}  // namespace parley::test
