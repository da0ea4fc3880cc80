// The realtime gateway (docs/protocol.md) with real WebSocket clients against the real binary:
// connecting and authenticating, delivery to exactly the right connections (members, devices,
// not outsiders, not other apps) in seq order, live membership, every event kind, resume with
// no gap and no duplicate, presence, typing, backpressure, bad frames, token expiry and
// revocation, and graceful shutdown. Servers run with short timers so the file stays fast.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "fixtures.hpp"
#include "ws_client.hpp"

namespace parley::test {
namespace {

using Clock = std::chrono::steady_clock;
using Frames = std::vector<json::object>;

long ms_since(Clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// The "data" object of an event frame (empty when missing).
json::object data_of(const json::object& f) {
  auto* d = f.if_contains("data");
  return d && d->is_object() ? d->as_object() : json::object{};
}

json::object message_of(const json::object& f) { return data_of(f)["message"].as_object(); }

std::int64_t seq_of(const json::object& f) {
  auto* s = f.if_contains("seq");
  return s && s->is_int64() ? s->as_int64() : -1;
}

// Frames of an event (on a channel, when given).
Frames events(const Frames& frames, std::string_view event, std::string_view channel_id = {}) {
  Frames out;
  for (const auto& f : frames) {
    if (frame_type(f) != "event" || event_name(f) != event) continue;
    if (!channel_id.empty() && (!f.contains("channel_id") || f.at("channel_id").as_string() != channel_id)) continue;
    out.push_back(f);
  }
  return out;
}

std::vector<std::int64_t> seqs(const Frames& frames) {
  std::vector<std::int64_t> out;
  for (const auto& f : frames) out.push_back(seq_of(f));
  return out;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i <= to; ++i) out.push_back(i);
  return out;
}

std::string describe(const Frames& frames) {
  std::string out;
  for (const auto& f : frames) out += json::serialize(f) + "\n";
  return out;
}

class RealtimeTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    ServerProcess::Options o;
    o.flag("presence-grace-ms", "200")
        .flag("typing-ttl-ms", "600")
        .flag("ws-auth-timeout-ms", "500")
        .flag("ws-heartbeat-ms", "20000")
        .flag("ws-max-message-bytes", "8192")
        .flag("resume-max-messages", "20")
        .flag("access-log", "false")
        .flag("rate-limit-ip-per-sec", "100000")
        .flag("rate-limit-ip-burst", "100000")
        .flag("rate-limit-user-per-sec", "100000")
        .flag("rate-limit-user-burst", "100000");
    tune(o);
    return o;
  }
  virtual void tune(ServerProcess::Options&) {}

  static std::string ws_target(const std::string& token, const std::string& extra = "") {
    return "/v1/ws?token=" + url_encode(token) + extra;
  }

  // Connects with the token in the query and reads the hello frame; throws (failing the test)
  // when the upgrade is refused or no hello comes.
  std::unique_ptr<WsClient> open(const std::string& token, const std::string& extra = "", WsClient::Options opts = {}) {
    auto c = std::make_unique<WsClient>(server().port(), opts);
    int status = c->connect(ws_target(token, extra));
    if (status != 101) {
      throw std::runtime_error("upgrade refused: " + std::to_string(status) + " " + c->refusal_body() + c->error());
    }
    auto hello = c->next_frame();
    if (!hello || frame_type(*hello) != "hello") throw std::runtime_error("no hello frame");
    return c;
  }
  std::unique_ptr<WsClient> open(const UserTokens& t, const std::string& extra = "") { return open(t.access, extra); }

  // POST /v1/channels; throws unless 201.
  std::string create_channel(const UserTokens& who, const std::string& type, const std::string& name,
                             json::array members = {}) {
    auto r = http().post("/v1/channels", who.auth(), {{"type", type}, {"name", name}, {"members", members}});
    if (r.status != 201) throw std::runtime_error("create channel failed: " + r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  // POST …/messages over REST; throws unless 201; returns the seq.
  std::int64_t post(const UserTokens& who, const std::string& ch, const std::string& text, json::object extra = {}) {
    return post_with(http(), who, ch, text, std::move(extra));
  }
  static std::int64_t post_with(HttpClient& c, const UserTokens& who, const std::string& ch, const std::string& text,
                                json::object extra = {}) {
    extra["text"] = text;
    auto r = c.post("/v1/channels/" + ch + "/messages", who.auth(), extra);
    if (r.status != 201) throw std::runtime_error("send failed: " + std::to_string(r.status) + " " + r.body);
    return r.obj()["message"].as_object()["seq"].as_int64();
  }
  std::string ch_path(const std::string& ch) { return "/v1/channels/" + ch; }

  // message.new events on `ch` read until one with seq >= `until` (other frames are skipped).
  static Frames read_messages(WsClient& c, const std::string& ch, std::int64_t until,
                              std::chrono::milliseconds timeout = 3s) {
    Frames out;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto f = c.wait_event("message.new", ch, left);
      if (!f) break;
      out.push_back(*f);
      if (seq_of(*f) >= until) break;
    }
    return out;
  }
};

// ---- connecting ------------------------------------------------------------------------------

TEST_F(RealtimeTest, TheHelloFrameDescribesTheConnection) {
  auto alice = mint("alice");
  WsClient c(server().port());
  ASSERT_EQ(c.connect(ws_target(alice.access)), 101) << c.refusal_body() << c.error();
  auto h = c.next_frame();
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(frame_type(*h), "hello");
  EXPECT_EQ((*h)["protocol"], 1);
  EXPECT_TRUE(str((*h)["connection_id"]).starts_with("conn_")) << json::serialize(*h);
  EXPECT_EQ(str((*h)["app_id"]), app_.id);
  EXPECT_EQ((*h)["user_id"], "alice");
  EXPECT_TRUE(std::regex_match(str((*h)["server_time"]), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << json::serialize(*h);
  EXPECT_EQ((*h)["heartbeat_ms"], 20000);
  EXPECT_EQ((*h)["resume_pending"], false);

  WsClient r(server().port());
  ASSERT_EQ(r.connect(ws_target(alice.access, "&resume=1")), 101);
  auto h2 = r.next_frame();
  ASSERT_TRUE(h2.has_value());
  EXPECT_EQ((*h2)["resume_pending"], true);
  EXPECT_NE((*h2)["connection_id"], (*h)["connection_id"]);
}

TEST_F(RealtimeTest, AProfileChangeReachesTheUsersOwnConnectionsOnly) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  WsClient a(server().port()), b(server().port());
  ASSERT_EQ(a.connect(ws_target(alice.access)), 101);
  ASSERT_EQ(b.connect(ws_target(bob.access)), 101);
  ASSERT_TRUE(a.wait_for([](const json::object& f) { return f.at("type") == "hello"; }));
  ASSERT_TRUE(b.wait_for([](const json::object& f) { return f.at("type") == "hello"; }));
  ASSERT_STATUS(http().patch("/v1/users/me", alice.auth(), {{"name", "Alice A."}}), 200);
  auto ev = a.wait_event("user.updated");
  ASSERT_TRUE(ev.has_value());
  auto user = (*ev)["data"].as_object()["user"].as_object();
  EXPECT_EQ(user["id"], "alice");
  EXPECT_EQ(user["name"], "Alice A.");
  EXPECT_FALSE(b.wait_event("user.updated", {}, 300ms).has_value());
}

TEST_F(RealtimeTest, ABadQueryTokenIsRefusedWithTheHttpErrorBeforeTheUpgrade) {
  auto alice = mint("alice");
  {
    WsClient c(server().port());
    EXPECT_EQ(c.connect(ws_target("not-a-token")), 401);
    auto body = c.refusal_json();
    ASSERT_TRUE(body.contains("error")) << c.refusal_body();
    EXPECT_EQ(body["error"].as_object()["code"], "unauthorized");
  }
  {
    auto key = app_jwt_secret(server().db_path(), app_.id);
    auto p = jwt_payload(alice.access);
    Claims claims{"parley", app_.id, "alice", str(p["sid"]), p["gen"].as_int64(), unix_now() - 600, unix_now() - 60};
    WsClient c(server().port());
    EXPECT_EQ(c.connect(ws_target(sign_hs256(claims, key))), 401);
    EXPECT_EQ(c.refusal_json()["error"].as_object()["code"], "token_expired") << c.refusal_body();
  }
  // The control: the same server upgrades a good token.
  WsClient ok(server().port());
  EXPECT_EQ(ok.connect(ws_target(alice.access)), 101);
}

TEST_F(RealtimeTest, AnAuthFirstFrameAuthenticates) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(bob, "group", "Team", {"alice"});
  WsClient c(server().port());
  ASSERT_EQ(c.connect("/v1/ws"), 101) << c.error();
  EXPECT_FALSE(c.next_frame(100ms).has_value()) << "no hello before auth";
  ASSERT_TRUE(c.send(json::object{{"type", "auth"}, {"id", "a1"}, {"token", alice.access}}));
  auto hello = c.next_frame();
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(frame_type(*hello), "hello");
  EXPECT_EQ((*hello)["user_id"], "alice");
  auto ack = c.next_frame();
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(frame_type(*ack), "ack") << json::serialize(*ack);
  EXPECT_EQ((*ack)["id"], "a1");
  EXPECT_EQ(data_of(*ack)["user_id"], "alice");
  EXPECT_TRUE(data_of(*ack)["expires_at"].is_string());
  // Now a member's connection like any other.
  auto seq = post(bob, ch, "hello alice");
  auto m = c.wait_event("message.new", ch);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(seq_of(*m), seq);
  EXPECT_EQ(message_of(*m)["text"], "hello alice");
}

TEST_F(RealtimeTest, NoAuthFrameInTimeClosesWith4001) {
  WsClient c(server().port());
  auto start = Clock::now();
  ASSERT_EQ(c.connect("/v1/ws"), 101) << c.error();
  auto closed = c.wait_closed(3s);
  ASSERT_TRUE(closed.ended) << "still open after 3 s";
  EXPECT_EQ(closed.code, 4001) << closed.error;
  EXPECT_GE(ms_since(start), 400);  // --ws-auth-timeout-ms 500
}

TEST_F(RealtimeTest, ABadAuthFrameOrACommandBeforeAuthClosesWith4001) {
  WsClient bad(server().port());
  ASSERT_EQ(bad.connect("/v1/ws"), 101);
  ASSERT_TRUE(bad.send(json::object{{"type", "auth"}, {"id", "a1"}, {"token", "garbage"}}));
  auto closed = bad.wait_closed();
  EXPECT_EQ(closed.code, 4001) << closed.error;
  auto err = bad.next_frame(0ms);
  ASSERT_TRUE(err.has_value()) << "the error frame before the close";
  EXPECT_EQ(frame_type(*err), "error");
  EXPECT_EQ((*err)["id"], "a1");
  EXPECT_EQ((*err)["error"].as_object()["code"], "unauthorized");

  WsClient early(server().port());
  ASSERT_EQ(early.connect("/v1/ws"), 101);
  ASSERT_TRUE(early.send(json::object{{"type", "ping"}, {"id", "p1"}}));
  EXPECT_EQ(early.wait_closed().code, 4001);
}

// ---- delivery --------------------------------------------------------------------------------

TEST_F(RealtimeTest, MessagesReachEveryConnectionOfEveryMemberInSeqOrderAndNobodyElse) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto carol = mint("carol");
  auto other = create_app("app B");
  auto b_alice = mint(other, "alice");  // same user ids, another tenant
  auto b_bob = mint(other, "bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto b_ch = create_channel(b_alice, "group", "Team B", {"bob"});

  auto a1 = open(alice);
  auto a2 = open(alice);
  auto b1 = open(bob);
  auto c1 = open(carol);
  auto xa = open(b_alice);
  auto xb = open(b_bob);

  EXPECT_EQ(post(alice, ch, "one"), 1);
  auto two = b1->command({{"type", "message.send"}, {"channel_id", ch}, {"text", "two"}});
  ASSERT_TRUE(two && frame_type(*two) == "ack") << (two ? json::serialize(*two) : "no answer");
  auto three = a2->command({{"type", "message.send"}, {"channel_id", ch}, {"text", "three"}});
  ASSERT_TRUE(three && frame_type(*three) == "ack");
  EXPECT_EQ(post(alice, ch, "four"), 4);

  for (auto* c : {a1.get(), a2.get(), b1.get()}) {
    auto got = read_messages(*c, ch, 4);
    EXPECT_EQ(seqs(got), range(1, 4));
    std::vector<std::string> texts, authors;
    for (auto& f : got) {
      texts.push_back(str(message_of(f)["text"]));
      authors.push_back(str(message_of(f)["user_id"]));
    }
    EXPECT_EQ(texts, (std::vector<std::string>{"one", "two", "three", "four"}));
    EXPECT_EQ(authors, (std::vector<std::string>{"alice", "bob", "alice", "alice"}));
  }
  // A non-member and the other app's users (with the same ids) heard nothing at all.
  EXPECT_EQ(c1->until_pong(), Frames{}) << describe(c1->until_pong());
  EXPECT_EQ(xa->until_pong(), Frames{});
  EXPECT_EQ(xb->until_pong(), Frames{});

  // And the wall holds the other way round.
  auto b_seq = post(b_alice, b_ch, "app B only");
  auto got = xb->wait_event("message.new", b_ch);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(seq_of(*got), b_seq);
  EXPECT_TRUE(events(a1->until_pong(), "message.new").empty());
  EXPECT_TRUE(events(b1->until_pong(), "message.new").empty());
}

TEST_F(RealtimeTest, ASocketSendIsAckedWithItsSeqAndIsIdempotent) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b = open(bob);
  json::object cmd{{"type", "message.send"}, {"channel_id", ch}, {"text", "hi @alice"}, {"client_msg_id", "cm-1"}};
  auto first = b->command(cmd);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(frame_type(*first), "ack") << json::serialize(*first);
  auto d = data_of(*first);
  EXPECT_EQ(d["duplicate"], false);
  auto msg = d["message"].as_object();
  EXPECT_EQ(msg["seq"], 1);
  EXPECT_EQ(str(msg["channel_id"]), ch);
  EXPECT_EQ(msg["user_id"], "bob");
  EXPECT_EQ(msg["text"], "hi @alice");
  EXPECT_EQ(msg["client_msg_id"], "cm-1");
  EXPECT_EQ(msg["mentions"], json::array{"alice"});

  auto again = b->command(cmd);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(frame_type(*again), "ack") << json::serialize(*again);
  EXPECT_EQ(data_of(*again)["duplicate"], true);
  EXPECT_EQ(data_of(*again)["message"].as_object()["seq"], 1);

  // The ack comes after the message is durable: REST sees it.
  auto hist = http().get(ch_path(ch) + "/messages", alice.auth());
  ASSERT_STATUS(hist, 200);
  EXPECT_EQ(hist.obj()["items"].as_array().size(), 1u);
  // Exactly one message.new, on both sides.
  auto on_a = events(a->until_pong(), "message.new", ch);
  EXPECT_EQ(seqs(on_a), std::vector<std::int64_t>{1});
  auto on_b = events(b->until_pong(), "message.new", ch);
  EXPECT_EQ(seqs(on_b), std::vector<std::int64_t>{1});

  // The same rules as REST: a channel the user is not in is not found; empty text is invalid.
  auto carol = mint("carol");
  auto c = open(carol);
  auto nf = c->command({{"type", "message.send"}, {"channel_id", ch}, {"text", "let me in"}});
  ASSERT_TRUE(nf.has_value());
  EXPECT_EQ(frame_type(*nf), "error");
  EXPECT_EQ((*nf)["error"].as_object()["code"], "not_found");
  auto empty = b->command({{"type", "message.send"}, {"channel_id", ch}, {"text", ""}});
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ((*empty)["error"].as_object()["code"], "validation_failed") << json::serialize(*empty);
}

// A connection may send without waiting for each ack: sends are pipelined (up to 64 wait for
// their commit at once, then reading waits), answered once each, in order, with their seqs.
class RealtimePipelineTest : public RealtimeTest {
 protected:
  void tune(ServerProcess::Options& o) override { o.flag("ws-rate-burst", "1000").flag("ws-rate-per-sec", "1000"); }
};

TEST_F(RealtimePipelineTest, SendsWrittenBackToBackAreAnsweredInOrderWithConsecutiveSeqs) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b = open(bob);
  constexpr int kSends = 300;  // well past the 64 in flight: both paths
  constexpr int kBad = 150;    // an empty text: refused, the others unharmed
  for (int i = 0; i < kSends; ++i) {
    json::object cmd{{"type", "message.send"},
                     {"id", "p" + std::to_string(i)},
                     {"channel_id", ch},
                     {"text", i == kBad ? "" : "n" + std::to_string(i)}};
    ASSERT_TRUE(b->send(cmd));
  }
  std::vector<std::string> answered;
  std::vector<std::int64_t> acked_seqs;
  while (answered.size() < static_cast<std::size_t>(kSends)) {
    auto f = b->wait_for([](const json::object& x) { return frame_type(x) == "ack" || frame_type(x) == "error"; },
                         std::chrono::seconds(10));
    ASSERT_TRUE(f.has_value()) << answered.size() << " answers";
    std::string id = str((*f)["id"]);
    answered.push_back(id);
    if (frame_type(*f) == "ack") {
      auto m = message_of(*f);
      EXPECT_EQ(str(m["text"]), "n" + id.substr(1));
      acked_seqs.push_back(m["seq"].as_int64());
    } else {
      EXPECT_EQ(id, "p" + std::to_string(kBad));
      EXPECT_EQ((*f)["error"].as_object()["code"], "validation_failed");
    }
  }
  std::vector<std::string> in_order;
  for (int i = 0; i < kSends; ++i) in_order.push_back("p" + std::to_string(i));
  EXPECT_EQ(answered, in_order);
  EXPECT_EQ(acked_seqs, range(1, kSends - 1));
  // The other member hears them in the order they were written.
  auto got = read_messages(*a, ch, kSends - 1);
  EXPECT_EQ(seqs(got), range(1, kSends - 1));
  std::vector<std::string> texts, expected;
  for (auto& f : got) texts.push_back(str(message_of(f)["text"]));
  for (int i = 0; i < kSends; ++i)
    if (i != kBad) expected.push_back("n" + std::to_string(i));
  EXPECT_EQ(texts, expected);
}

TEST_F(RealtimeTest, MembershipChangesApplyLive) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto carol = mint("carol");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto b = open(bob);
  auto c = open(carol);
  post(alice, ch, "before carol");
  EXPECT_EQ(c->until_pong(), Frames{});

  ASSERT_STATUS(http().post(ch_path(ch) + "/members", alice.auth(), {{"user_ids", {"carol"}}}), 200);
  auto added = c->wait_event("member.added", ch);
  ASSERT_TRUE(added.has_value()) << "member.added starts the channel's events";
  EXPECT_EQ(data_of(*added)["user_ids"], json::array{"carol"});
  EXPECT_EQ(data_of(*added)["added_by"], "alice");
  auto seq = post(alice, ch, "welcome carol");
  auto m = c->wait_event("message.new", ch);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(seq_of(*m), seq);

  ASSERT_STATUS(http().del(ch_path(ch) + "/members/carol", alice.auth()), 204);
  auto removed = c->wait_event("member.removed", ch);
  ASSERT_TRUE(removed.has_value()) << "member.removed is delivered to the removed user";
  EXPECT_EQ(data_of(*removed)["user_id"], "carol");
  EXPECT_EQ(data_of(*removed)["removed_by"], "alice");
  auto after = post(alice, ch, "carol is gone");
  ASSERT_TRUE(b->wait_event("message.new", ch).has_value());  // it was sent and delivered
  EXPECT_EQ(c->until_pong(), Frames{}) << "seq " << after << " reached a removed member";

  // Joining and leaving a public channel work the same way.
  auto pub = create_channel(alice, "public", "General");
  ASSERT_STATUS(http().post(ch_path(pub) + "/join", carol.auth()), 200);
  ASSERT_TRUE(c->wait_event("member.added", pub).has_value());
  post(alice, pub, "hello general");
  ASSERT_TRUE(c->wait_event("message.new", pub).has_value());
  ASSERT_STATUS(http().post(ch_path(pub) + "/leave", carol.auth()), 204);
  ASSERT_TRUE(c->wait_event("member.removed", pub).has_value());
  post(alice, pub, "after carol left");
  EXPECT_EQ(c->until_pong(), Frames{});
}

TEST_F(RealtimeTest, WatchingAPublicChannelHearsItWithoutJoining) {
  auto alice = mint("alice");
  auto carol = mint("carol");
  auto pub = create_channel(alice, "public", "General");
  auto grp = create_channel(alice, "group", "Private");
  post(alice, pub, "first");
  auto c = open(carol);
  auto ack = c->command({{"type", "channel.watch"}, {"channel_id", pub}});
  ASSERT_TRUE(ack.has_value());
  ASSERT_EQ(frame_type(*ack), "ack") << json::serialize(*ack);
  EXPECT_EQ(str(data_of(*ack)["channel_id"]), pub);
  EXPECT_EQ(data_of(*ack)["last_seq"], 1);
  auto seq = post(alice, pub, "second");
  auto m = c->wait_event("message.new", pub);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(seq_of(*m), seq);

  auto denied = c->command({{"type", "channel.watch"}, {"channel_id", grp}});
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ((*denied)["error"].as_object()["code"], "not_found") << json::serialize(*denied);

  ASSERT_EQ(frame_type(*c->command({{"type", "channel.unwatch"}, {"channel_id", pub}})), "ack");
  post(alice, pub, "third");
  EXPECT_EQ(c->until_pong(), Frames{});
}

// ---- the other events ------------------------------------------------------------------------

TEST_F(RealtimeTest, EditsDeletesReactionsPinsThreadsReadsAndChannelChangesAreEvents) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b1 = open(bob);
  auto b2 = open(bob);
  auto mp = [&](std::int64_t seq) { return ch_path(ch) + "/messages/" + std::to_string(seq); };

  ASSERT_EQ(post(alice, ch, "original"), 1);
  ASSERT_STATUS(http().patch(mp(1), alice.auth(), {{"text", "edited"}}), 200);
  auto upd = b1->wait_event("message.updated", ch);
  ASSERT_TRUE(upd.has_value());
  EXPECT_EQ(seq_of(*upd), 1);
  EXPECT_EQ(message_of(*upd)["text"], "edited");
  EXPECT_TRUE(message_of(*upd)["edited_at"].is_string());

  ASSERT_STATUS(http().post(mp(1) + "/reactions", bob.auth(), {{"type", "like"}}), 200);
  auto ra = a->wait_event("reaction.added", ch);
  ASSERT_TRUE(ra.has_value());
  EXPECT_EQ(seq_of(*ra), 1);
  EXPECT_EQ(data_of(*ra)["seq"], 1);
  EXPECT_EQ(data_of(*ra)["type"], "like");
  EXPECT_EQ(data_of(*ra)["user_id"], "bob");
  EXPECT_EQ(data_of(*ra)["reactions"], (json::object{{"like", 1}}));
  ASSERT_STATUS(http().del(mp(1) + "/reactions/like", bob.auth()), 200);
  auto rr = a->wait_event("reaction.removed", ch);
  ASSERT_TRUE(rr.has_value());
  EXPECT_EQ(data_of(*rr)["type"], "like");
  EXPECT_EQ(data_of(*rr)["reactions"], json::object{});

  ASSERT_STATUS(http().put(ch_path(ch) + "/pins/1", alice.auth()), 204);
  auto pinned = b1->wait_event("message.updated", ch);
  ASSERT_TRUE(pinned.has_value()) << "pinning is a message.updated (docs/protocol.md)";
  EXPECT_EQ(message_of(*pinned)["pinned"], true);
  ASSERT_STATUS(http().del(ch_path(ch) + "/pins/1", alice.auth()), 204);
  auto unpinned = b1->wait_event("message.updated", ch);
  ASSERT_TRUE(unpinned.has_value());
  EXPECT_EQ(message_of(*unpinned)["pinned"], false);

  auto reply = b1->command({{"type", "message.send"}, {"channel_id", ch}, {"text", "in thread"}, {"parent_seq", 1}});
  ASSERT_TRUE(reply && frame_type(*reply) == "ack") << (reply ? json::serialize(*reply) : "no answer");
  auto tr = a->wait_event("thread.reply", ch);
  ASSERT_TRUE(tr.has_value());
  EXPECT_EQ(seq_of(*tr), 1);
  EXPECT_EQ(data_of(*tr)["parent_seq"], 1);
  EXPECT_EQ(data_of(*tr)["reply_seq"], 2);
  EXPECT_EQ(data_of(*tr)["reply_count"], 1);
  EXPECT_EQ(data_of(*tr)["thread_participants"], json::array{"bob"});

  ASSERT_STATUS(http().del(mp(2), bob.auth()), 204);
  auto del = a->wait_event("message.deleted", ch);
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(seq_of(*del), 2);
  EXPECT_TRUE(message_of(*del)["deleted_at"].is_string());
  EXPECT_EQ(message_of(*del)["text"], "");

  // Reading: "seen by" to the channel, unread totals to the reader's own connections only.
  post(alice, ch, "third");  // bob's unread: 1 (edited) and 3 (2 is deleted)
  b1->until_pong();
  b2->until_pong();
  a->until_pong();
  auto read = b1->command({{"type", "read.mark"}, {"channel_id", ch}, {"seq", 3}});
  ASSERT_TRUE(read.has_value());
  ASSERT_EQ(frame_type(*read), "ack") << json::serialize(*read);
  EXPECT_EQ(data_of(*read)["last_read_seq"], 3);
  EXPECT_EQ(data_of(*read)["unread_count"], 0);
  auto seen = a->wait_event("read.updated", ch);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(data_of(*seen)["user_id"], "bob");
  EXPECT_EQ(data_of(*seen)["last_read_seq"], 3);
  EXPECT_EQ(seq_of(*seen), 3);
  for (auto* c : {b1.get(), b2.get()}) {
    auto u = c->wait_event("unread.changed");
    ASSERT_TRUE(u.has_value());
    auto d = data_of(*u);
    EXPECT_EQ(d["unread_count"], 0);
    EXPECT_EQ(d["unread_mentions"], 0);
    EXPECT_EQ(d["channels_with_unread"], 0);
    EXPECT_EQ(str(d["channel_id"]), ch);
    EXPECT_EQ(d["channel_unread_count"], 0);
  }
  EXPECT_TRUE(events(a->until_pong(), "unread.changed").empty()) << "unread.changed went to another user";

  ASSERT_STATUS(http().patch(ch_path(ch), alice.auth(), {{"name", "Renamed"}}), 200);
  for (auto* c : {a.get(), b1.get(), b2.get()}) {
    auto cu = c->wait_event("channel.updated", ch);
    ASSERT_TRUE(cu.has_value());
    EXPECT_EQ(data_of(*cu)["channel"].as_object()["name"], "Renamed");
  }
  ASSERT_STATUS(http().patch(ch_path(ch) + "/members/bob", alice.auth(), {{"role", "moderator"}}), 200);
  auto mu = b2->wait_event("member.updated", ch);
  ASSERT_TRUE(mu.has_value());
  EXPECT_EQ(data_of(*mu)["member"].as_object()["role"], "moderator");
}

// ---- resume ----------------------------------------------------------------------------------

class RealtimeResumeTest : public RealtimeTest {
 protected:
  // Room for every missed and concurrent message: this test is about order, not resume.too_far.
  void tune(ServerProcess::Options& o) override { o.flag("resume-max-messages", "100"); }
};

TEST_F(RealtimeResumeTest, ResumeReplaysExactlyTheMissedMessagesThenLiveOnesWithNoGapOrDuplicate) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto quiet = create_channel(alice, "group", "Quiet", {"bob"});
  std::int64_t last = 0;
  {
    auto b = open(bob);
    for (int i = 0; i < 3; ++i) post(alice, ch, "seen " + std::to_string(i));
    last = seq_of(read_messages(*b, ch, 3).back());
    ASSERT_EQ(last, 3);
    b->close();
  }
  for (int i = 0; i < 15; ++i) post(alice, ch, "missed " + std::to_string(i));  // seqs 4..18

  // Live messages keep coming while bob resumes.
  constexpr int kLive = 20;  // seqs 19..38
  std::atomic<bool> go{false};
  std::string sender_error;
  std::thread sender([&] {
    try {
      HttpClient c(server().port());
      while (!go.load()) std::this_thread::sleep_for(1ms);
      for (int i = 0; i < kLive; ++i) post_with(c, alice, ch, "live " + std::to_string(i));
    } catch (const std::exception& e) {
      sender_error = e.what();
    }
  });
  struct Join {  // however this test ends, the sender is started and joined
    std::atomic<bool>& go;
    std::thread& t;
    ~Join() {
      go = true;
      if (t.joinable()) t.join();
    }
  } join{go, sender};
  auto b = open(bob, "&resume=1");
  go = true;
  std::this_thread::sleep_for(5ms);  // a few live messages are committed before the resume
  ASSERT_TRUE(b->send(json::object{{"type", "resume"}, {"id", "r1"}, {"channels", {{ch, last}, {quiet, 0}}}}));
  Frames got;
  std::optional<json::object> ack;
  auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && !(ack && !got.empty() && seq_of(got.back()) >= 18 + kLive)) {
    auto f = b->next_frame(1s);
    if (!f) continue;
    if (frame_type(*f) == "ack" && (*f)["id"] == "r1") {
      ack = *f;
    } else if (frame_type(*f) == "resume.too_far") {
      ADD_FAILURE() << json::serialize(*f);
    } else if (event_name(*f) == "message.new") {
      got.push_back(*f);
    }
  }
  sender.join();
  ASSERT_EQ(sender_error, "");
  ASSERT_TRUE(ack.has_value());
  auto caught_up = data_of(*ack)["channels"].as_object();
  EXPECT_GE(caught_up[ch].as_int64(), 18);
  EXPECT_EQ(caught_up[quiet], 0);
  EXPECT_EQ(seqs(got), range(4, 18 + kLive)) << describe(got);
  for (const auto& f : got) {
    if (seq_of(f) <= 18) {
      EXPECT_EQ(f.at("replay"), true) << json::serialize(f);
    }
  }
  EXPECT_EQ(events(b->until_pong(), "message.new"), Frames{});
}

TEST_F(RealtimeTest, ResumeTooFarBehindSendsWhatFitsThenTellsTheClientToPage) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  for (int i = 0; i < 30; ++i) post(alice, ch, "m" + std::to_string(i));  // --resume-max-messages 20
  auto b = open(bob, "&resume=1");
  auto ack = b->command({{"type", "resume"}, {"channels", {{ch, 2}}}});
  ASSERT_TRUE(ack.has_value());
  ASSERT_EQ(frame_type(*ack), "ack") << json::serialize(*ack);
  Frames before;
  while (auto f = b->next_frame(0ms)) before.push_back(*f);
  // command() kept what came before the ack: 20 replayed messages, then resume.too_far.
  auto replayed = events(before, "message.new", ch);
  EXPECT_EQ(seqs(replayed), range(3, 22));
  auto too_far = std::find_if(before.begin(), before.end(), [](auto& f) { return frame_type(f) == "resume.too_far"; });
  ASSERT_NE(too_far, before.end()) << describe(before);
  EXPECT_EQ(str((*too_far)["channel_id"]), ch);
  EXPECT_EQ((*too_far)["from_seq"], 22);
  EXPECT_EQ((*too_far)["until_seq"], 30);
  EXPECT_EQ(data_of(*ack)["channels"].as_object()[ch], 30);
  // Live events continue after it.
  auto seq = post(alice, ch, "live");
  auto live = b->wait_event("message.new", ch);
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(seq_of(*live), seq);
  EXPECT_FALSE(live->contains("replay"));
}

TEST_F(RealtimeTest, AnAnnouncedResumeThatNeverComesReleasesTheHeldEvents) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto b = open(bob, "&resume=1");
  auto start = Clock::now();
  post(alice, ch, "held");
  auto m = b->wait_event("message.new", ch, 3s);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(seq_of(*m), 1);
  EXPECT_GE(ms_since(start), 300);  // held for about --ws-auth-timeout-ms (500)
}

// ---- presence and typing ---------------------------------------------------------------------

TEST_F(RealtimeTest, PresenceFollowsTheConnectionsOfAUserWithAGracePeriod) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto carol = mint("carol");
  auto ch = create_channel(bob, "group", "Team", {"alice", "carol"});
  auto c = open(carol);
  auto w = c->command({{"type", "presence.watch"}, {"user_ids", {"alice"}}});
  ASSERT_TRUE(w.has_value());
  ASSERT_EQ(frame_type(*w), "ack") << json::serialize(*w);
  EXPECT_EQ(data_of(*w)["presence"], (json::array{json::object{{"user_id", "alice"}, {"online", false}}}));

  auto a1 = open(alice);
  auto on = c->wait_event("presence.changed");
  ASSERT_TRUE(on.has_value());
  EXPECT_EQ(data_of(*on)["user_id"], "alice");
  EXPECT_EQ(data_of(*on)["online"], true);
  auto a2 = open(alice);
  EXPECT_TRUE(events(c->until_pong(), "presence.changed").empty()) << "a second device is not a second online";

  auto p = http().get("/v1/presence?user_ids=alice,carol,bob,nobody", bob.auth());
  ASSERT_STATUS(p, 200);
  std::map<std::string, bool> online;
  for (const auto& it : p.obj()["items"].as_array()) {
    online[str(it.as_object().at("user_id"))] = it.as_object().at("online").as_bool();
  }
  EXPECT_EQ(online, (std::map<std::string, bool>{{"alice", true}, {"bob", false}, {"carol", true}}));
  auto o = http().get(ch_path(ch) + "/online", bob.auth());
  ASSERT_STATUS(o, 200);
  std::set<std::string> ids;
  for (const auto& u : o.obj()["user_ids"].as_array()) ids.insert(str(u));
  EXPECT_EQ(ids, (std::set<std::string>{"alice", "carol"}));

  a1->close();
  EXPECT_TRUE(events(c->drain(600ms), "presence.changed").empty()) << "alice still has a connection";
  a2->drop();
  auto closed_at = Clock::now();
  auto off = c->wait_event("presence.changed", {}, 3s);
  ASSERT_TRUE(off.has_value());
  EXPECT_GE(ms_since(closed_at), 150);  // --presence-grace-ms 200
  EXPECT_EQ(data_of(*off)["online"], false);
  EXPECT_TRUE(data_of(*off)["last_seen_at"].is_string()) << json::serialize(*off);

  // last_seen_at is stored right after.
  json::object alice_p;
  for (int i = 0; i < 50; ++i) {
    auto r = http().get("/v1/presence?user_ids=alice", app_.auth());
    ASSERT_STATUS(r, 200);
    alice_p = r.obj()["items"].as_array().at(0).as_object();
    if (alice_p["last_seen_at"].is_string()) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(alice_p["online"], false);
  EXPECT_TRUE(alice_p["last_seen_at"].is_string()) << json::serialize(alice_p);
  auto o2 = http().get(ch_path(ch) + "/online", bob.auth());
  EXPECT_EQ(o2.obj()["user_ids"], json::array{"carol"});
}

TEST_F(RealtimeTest, TypingReachesOtherMembersAndStopsByItself) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto carol = mint("carol");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b = open(bob);
  auto c = open(carol);
  auto start = Clock::now();
  auto ack = a->command({{"type", "typing.start"}, {"channel_id", ch}});
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(frame_type(*ack), "ack") << json::serialize(*ack);
  auto t = b->wait_event("typing.start", ch);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(data_of(*t)["user_id"], "alice");
  // A second start within a second is not sent again (it only refreshes the expiry).
  ASSERT_EQ(frame_type(*a->command({{"type", "typing.start"}, {"channel_id", ch}})), "ack");
  EXPECT_TRUE(events(b->until_pong(), "typing.start").empty());
  auto stop = b->wait_event("typing.stop", ch, 3s);
  ASSERT_TRUE(stop.has_value()) << "typing.stop comes by itself after --typing-ttl-ms";
  EXPECT_EQ(data_of(*stop)["user_id"], "alice");
  EXPECT_GE(ms_since(start), 550);  // --typing-ttl-ms 600
  EXPECT_EQ(c->until_pong(), Frames{}) << "a non-member saw typing";
  auto own = a->until_pong();  // everything alice's socket got since her commands' acks
  EXPECT_TRUE(events(own, "typing.start").empty()) << "the typer got her own typing.start";
  EXPECT_TRUE(events(own, "typing.stop").empty()) << "the typer got her own typing.stop";

  // An explicit stop arrives at once; a non-member may not type.
  auto by_bob = [&](std::string_view event) {
    return [&ch, event](const json::object& f) {
      return event_name(f) == event && f.at("channel_id").as_string() == ch && data_of(f)["user_id"] == "bob";
    };
  };
  ASSERT_EQ(frame_type(*b->command({{"type", "typing.start"}, {"channel_id", ch}})), "ack");
  ASSERT_TRUE(a->wait_for(by_bob("typing.start")).has_value());
  auto stop_sent = Clock::now();
  ASSERT_EQ(frame_type(*b->command({{"type", "typing.stop"}, {"channel_id", ch}})), "ack");
  ASSERT_TRUE(a->wait_for(by_bob("typing.stop")).has_value());
  EXPECT_LT(ms_since(stop_sent), 500) << "an explicit typing.stop goes out at once";
  auto denied = c->command({{"type", "typing.start"}, {"channel_id", ch}});
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ((*denied)["error"].as_object()["code"], "not_found");
}

// ---- backpressure ----------------------------------------------------------------------------

class RealtimeSlowConsumerTest : public RealtimeTest {
 protected:
  void tune(ServerProcess::Options& o) override { o.flag("ws-max-queue-bytes", "65536"); }
};

TEST_F(RealtimeSlowConsumerTest, AClientThatNeverReadsIsCutOffWhileOthersGetEveryMessage) {
  auto big = create_app("big messages", {{"max_message_bytes", 20000}});
  auto alice = mint(big, "alice");
  auto bob = mint(big, "bob");
  auto ch = create_channel(alice, "group", "Firehose", {"bob"});
  auto slow = open(alice.access, "", WsClient::Options{4096});  // from now on: never read
  auto good = open(bob);
  auto sessions = [&] { return metric_value(http().get("/metrics").body, "parley_realtime_sessions").value_or(-1); };
  ASSERT_EQ(sessions(), 2);
  std::string text(16000, 'x');
  int sent = 0;
  bool cut = false;
  while (sent < 400 && !cut) {
    auto seq = post(alice, ch, text);
    ++sent;
    auto m = good->wait_event("message.new", ch);
    ASSERT_TRUE(m.has_value()) << "the reading client missed seq " << seq;
    ASSERT_EQ(seq_of(*m), seq);
    if (sent % 10 == 0) cut = sessions() == 1;
  }
  // Over its queue budget the connection gets a close frame after the write in flight; one that
  // takes nothing at all is cut off when the short closing deadline (1 s) passes.
  for (auto start = Clock::now(); !cut && ms_since(start) < 4000; std::this_thread::sleep_for(50ms)) {
    cut = sessions() == 1;
  }
  EXPECT_TRUE(cut) << "the non-reading client was not cut off after " << sent << " messages of 16 KB";
  // The server closed the slow connection: reading now drains what the kernel held, then the end.
  auto closed = slow->wait_closed(5s);
  EXPECT_TRUE(closed.ended);
  if (closed.code) {
    EXPECT_EQ(*closed.code, 4008);
  }
  // The other client keeps going, and the server is healthy.
  auto seq = post(alice, ch, "still here");
  auto m = good->wait_event("message.new", ch);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(seq_of(*m), seq);
  EXPECT_STATUS(http().get("/health"), 200);
}

// ---- bad frames ------------------------------------------------------------------------------

TEST_F(RealtimeTest, MalformedCommandsGetErrorFramesAndTheConnectionStaysOpen) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b = open(bob);

  ASSERT_TRUE(a->send_text("this is not json"));
  auto e1 = a->next_frame();
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(frame_type(*e1), "error");
  EXPECT_EQ((*e1)["error"].as_object()["code"], "invalid_json");
  ASSERT_TRUE(a->send_text("[1,2,3]"));
  auto e2 = a->next_frame();
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ((*e2)["error"].as_object()["code"], "invalid_json");

  auto unknown = a->command({{"type", "self.destruct"}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(frame_type(*unknown), "error");
  EXPECT_EQ((*unknown)["error"].as_object()["code"], "invalid_request");
  auto wrong = a->command({{"type", "message.send"}, {"channel_id", 5}, {"text", "hi"}});
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ((*wrong)["error"].as_object()["code"], "invalid_request");
  EXPECT_EQ((*wrong)["error"].as_object()["details"].as_object()["field"], "channel_id");
  auto extra = a->command({{"type", "read.mark"}, {"channel_id", ch}, {"seq", "three"}});
  ASSERT_TRUE(extra.has_value());
  EXPECT_EQ((*extra)["error"].as_object()["code"], "invalid_request");
  auto notype = a->command({{"channel_id", ch}});
  ASSERT_TRUE(notype.has_value());
  EXPECT_EQ((*notype)["error"].as_object()["code"], "invalid_request");

  // Still open: ping is answered and commands work; the other client saw none of it.
  auto pong = a->command({{"type", "ping"}});
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(frame_type(*pong), "pong");
  EXPECT_TRUE(pong->at("server_time").is_string());
  EXPECT_EQ(b->until_pong(), Frames{});
  auto sent = a->command({{"type", "message.send"}, {"channel_id", ch}, {"text", "fine"}});
  ASSERT_TRUE(sent && frame_type(*sent) == "ack");
  ASSERT_TRUE(b->wait_event("message.new", ch).has_value());
}

TEST_F(RealtimeTest, ABinaryMessageClosesWith1003AndLeavesOthersAlone) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b = open(bob);
  ASSERT_TRUE(a->send_binary(std::string("\x01\x02\x03", 3)));
  auto closed = a->wait_closed();
  ASSERT_TRUE(closed.ended);
  EXPECT_EQ(closed.code, 1003) << closed.error;
  post(alice, ch, "after");
  ASSERT_TRUE(b->wait_event("message.new", ch).has_value());
}

TEST_F(RealtimeTest, AnOversizeMessageClosesWith1009AndLeavesOthersAlone) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto a = open(alice);
  auto b = open(bob);
  // --ws-max-message-bytes 8192
  std::string text =
      json::serialize(json::object{{"type", "message.send"}, {"channel_id", ch}, {"text", std::string(9000, 'y')}});
  a->send_text(text);  // may fail half-way: the server stops reading
  auto closed = a->wait_closed();
  ASSERT_TRUE(closed.ended);
  EXPECT_EQ(closed.code, 1009) << closed.error;
  // Just under the limit is fine.
  auto fits = b->command({{"type", "message.send"}, {"channel_id", ch}, {"text", std::string(7000, 'z')}});
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(frame_type(*fits), "ack") << json::serialize(*fits);
  EXPECT_STATUS(http().get("/health"), 200);
}

class RealtimeRateLimitTest : public RealtimeTest {
 protected:
  void tune(ServerProcess::Options& o) override { o.flag("ws-rate-burst", "3").flag("ws-rate-per-sec", "0.01"); }
};

TEST_F(RealtimeRateLimitTest, CommandsOverTheLimitGetRateLimitedAndTenInARowClose4029) {
  auto alice = mint("alice");
  auto a = open(alice);
  auto b = open(alice);
  for (int i = 0; i < 13; ++i) ASSERT_TRUE(a->send(json::object{{"type", "ping"}, {"id", std::to_string(i)}}));
  auto closed = a->wait_closed();
  EXPECT_EQ(closed.code, 4029) << closed.error;
  int pongs = 0, limited = 0;
  while (auto f = a->next_frame(0ms)) {
    if (frame_type(*f) == "pong") ++pongs;
    if (frame_type(*f) == "error" && (*f)["error"].as_object()["code"] == "rate_limited") ++limited;
  }
  EXPECT_EQ(pongs, 3);
  EXPECT_EQ(limited, 10);
  // Per connection: another one is not limited by it.
  auto pong = b->command({{"type", "ping"}});
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(frame_type(*pong), "pong");
}

// ---- tokens and users ------------------------------------------------------------------------

TEST_F(RealtimeTest, AnExpiredTokenClosesWith4002UnlessAnAuthFrameRefreshedIt) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto ch = create_channel(alice, "group", "Team", {"bob"});
  auto key = app_jwt_secret(server().db_path(), app_.id);
  auto p = jwt_payload(alice.access);
  auto now = unix_now();
  Claims claims{"parley", app_.id, "alice", str(p["sid"]), p["gen"].as_int64(), now, now + 2};
  auto short_lived = sign_hs256(claims, key);
  auto expiring = open(short_lived);
  auto refreshed = open(short_lived);
  auto fresh = mint("alice");
  auto ack = refreshed->command({{"type", "auth"}, {"token", fresh.access}});
  ASSERT_TRUE(ack.has_value());
  ASSERT_EQ(frame_type(*ack), "ack") << json::serialize(*ack);
  EXPECT_TRUE(data_of(*ack)["expires_at"].is_string());
  // Refreshing as another user is refused and changes nothing.
  auto other = refreshed->command({{"type", "auth"}, {"token", bob.access}});
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ((*other)["error"].as_object()["code"], "forbidden");

  auto closed = expiring->wait_closed(5s);
  ASSERT_TRUE(closed.ended) << "still open after the token expired";
  EXPECT_EQ(closed.code, 4002) << closed.error;
  EXPECT_GE(unix_now(), now + 2);
  std::this_thread::sleep_for(300ms);  // past the next deadline check
  auto seq = post(bob, ch, "still with us?");
  auto m = refreshed->wait_event("message.new", ch);
  ASSERT_TRUE(m.has_value()) << "the refreshed connection was closed";
  EXPECT_EQ(seq_of(*m), seq);
  EXPECT_FALSE(refreshed->close_info().ended);
}

TEST_F(RealtimeTest, RevokingTokensCloses4001AndDeactivatingCloses4003) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto carol = mint("carol");
  auto a1 = open(alice);
  auto a2 = open(alice);
  auto b = open(bob);
  auto c = open(carol);

  ASSERT_STATUS(http().post("/v1/users/alice/revoke-tokens", app_.auth()), 204);
  for (auto* conn : {a1.get(), a2.get()}) {
    auto closed = conn->wait_closed();
    ASSERT_TRUE(closed.ended);
    EXPECT_EQ(closed.code, 4001) << closed.error;
  }
  WsClient again(server().port());
  EXPECT_EQ(again.connect(ws_target(alice.access)), 401);
  EXPECT_EQ(again.refusal_json()["error"].as_object()["code"], "token_revoked") << again.refusal_body();

  ASSERT_STATUS(http().post("/v1/users/bob/deactivate", app_.auth()), 200);
  auto closed = b->wait_closed();
  ASSERT_TRUE(closed.ended);
  EXPECT_EQ(closed.code, 4003) << closed.error;
  WsClient gone(server().port());
  EXPECT_EQ(gone.connect(ws_target(bob.access)), 403);
  EXPECT_EQ(gone.refusal_json()["error"].as_object()["code"], "forbidden") << gone.refusal_body();

  // Nobody else was touched.
  EXPECT_EQ(c->until_pong(), Frames{});
}

// ---- connection lifetime ---------------------------------------------------------------------

TEST_F(RealtimeTest, EndedConnectionsAreReleased) {
  auto alice = mint("alice");
  auto open_connections = [&] {
    return metric_value(http().get("/metrics").body, "parley_http_open_connections").value_or(-1);
  };
  ASSERT_EQ(open_connections(), 1);  // this HTTP client
  auto a = open(alice);
  auto b = open(alice);
  auto c = open(alice);
  WsClient unauthenticated(server().port());
  ASSERT_EQ(unauthenticated.connect("/v1/ws"), 101);
  EXPECT_EQ(open_connections(), 5);
  a->close();                                           // clean close handshake
  b->drop();                                            // the client vanishes
  ASSERT_TRUE(c->send_binary("x"));                     // the server closes it (1003)
  EXPECT_EQ(unauthenticated.wait_closed().code, 4001);  // no auth frame in time
  EXPECT_TRUE(c->wait_closed().ended);
  double n = -1;
  for (int i = 0; i < 100 && n != 1; ++i) {
    n = open_connections();
    if (n != 1) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(n, 1) << "closed WebSocket connections are still counted as open";
}

class RealtimeHeartbeatTest : public RealtimeTest {
 protected:
  void tune(ServerProcess::Options& o) override { o.flag("ws-heartbeat-ms", "1000"); }
};

TEST_F(RealtimeHeartbeatTest, AConnectionThatAnswersNoPingIsClosedAndGoesOffline) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto w = open(bob);
  ASSERT_EQ(frame_type(*w->command({{"type", "presence.watch"}, {"user_ids", {"alice"}}})), "ack");
  auto silent = open(alice);  // from now on never read: pings go unanswered
  ASSERT_TRUE(w->wait_event("presence.changed").has_value());
  // bob keeps reading (the client answers pings while it reads): he outlives the heartbeat period.
  auto start = Clock::now();
  auto off = w->wait_event("presence.changed", {}, 4s);
  ASSERT_TRUE(off.has_value()) << "the silent connection was not closed";
  EXPECT_EQ(data_of(*off)["online"], false);
  EXPECT_GE(ms_since(start), 900);  // --ws-heartbeat-ms 1000, then --presence-grace-ms 200
  EXPECT_TRUE(silent->wait_closed().ended);
  EXPECT_FALSE(w->close_info().ended);
  auto pong = w->command({{"type", "ping"}});
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(frame_type(*pong), "pong");
}

// ---- shutdown --------------------------------------------------------------------------------

TEST_F(RealtimeTest, SigtermClosesSocketsWith1001AndExitsZero) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  auto a = open(alice);
  auto b = open(bob);
  auto start = Clock::now();
  server().child().signal(SIGTERM);
  for (auto* c : {a.get(), b.get()}) {
    auto closed = c->wait_closed();
    ASSERT_TRUE(closed.ended);
    EXPECT_EQ(closed.code, 1001) << closed.error;
  }
  EXPECT_EQ(server().wait_exit(5s), 0) << server().err();
  EXPECT_LT(ms_since(start), 3000);
}

// Sockets still in their upgrade when shutdown begins are closed with 1001 too, as soon as they
// open, not cut off when the grace period ends.
TEST_F(RealtimeTest, ASocketThatOpensDuringShutdownIsClosedWith1001) {
  auto alice = mint("alice");
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::unique_ptr<WsClient>> upgraded;
  std::vector<std::thread> openers;
  for (int t = 0; t < 6; ++t) {
    openers.emplace_back([&] {
      while (!stop.load()) {
        auto c = std::make_unique<WsClient>(server().port());
        if (c->connect(ws_target(alice.access, ""), 2s) != 101) continue;
        std::lock_guard lock(mu);
        upgraded.push_back(std::move(c));
      }
    });
  }
  std::this_thread::sleep_for(150ms);
  auto start = Clock::now();
  server().child().signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : openers) t.join();
  ASSERT_FALSE(upgraded.empty());
  int without_1001 = 0;
  for (auto& c : upgraded) {
    auto closed = c->wait_closed(3s);
    if (!closed.ended || closed.code != 1001) ++without_1001;
  }
  EXPECT_EQ(without_1001, 0) << "of " << upgraded.size() << " upgraded sockets";
  EXPECT_EQ(server().wait_exit(10s), 0) << server().err();
  EXPECT_LT(ms_since(start), 3000) << "nobody waited for the grace period";
}

}  // namespace
}  // namespace parley::test
