// Group commit of message sends (ChatService::send_async → ChatStore::send_batch), on SQLite
// and, when PARLEY_TEST_PG_URL names a maintenance database, on PostgreSQL (a fresh database
// per test, dropped afterwards).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "chat/chat_service.hpp"
#include "chat/outbox.hpp"
#include "core/crypto.hpp"
#include "scratch_database.hpp"
#include "store/store.hpp"

namespace parley {
namespace {

// Collects send outcomes from the committer thread.
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<store::SendResult>> results;  // guarded by mu
  std::size_t done = 0;                            // guarded by mu

  explicit Outcomes(std::size_t n) : results(n) {}
  chat::SendCallback slot(std::size_t i) {
    return [this, i](Result<store::SendResult> r) {
      std::lock_guard lock(mu);
      results[i] = std::move(r);
      ++done;
      cv.notify_all();
    };
  }
  void wait() {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done == results.size(); }));
  }
};

class GroupCommitTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::ScratchDatabase>(GetParam(), "gc");
    if (!db_->available()) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
    url_ = db_->url();
    store_ = store::open_store(url_, 4);
    store::AppRecord app{"app_a", "A", "{}", "k", 1, 1};
    ASSERT_TRUE(store_->create_app(app, {"pk_a", "app_a", "h", 1, std::nullopt}));
    app_ = std::make_shared<const tenancy::App>(app);
    for (int i = 0; i < kUsers; ++i) ASSERT_TRUE(store_->upsert_user("app_a", user(i), {}, 1));
    ASSERT_TRUE(store_->upsert_user("app_a", "outsider", {}, 1));
    // A window makes batches of concurrent sends certain, not a matter of timing.
    chat_ = std::make_unique<chat::ChatService>(*store_, chat::GroupCommitOptions{256, 20000});
    for (int c = 0; c < 2; ++c) {
      chat::NewChannel spec;
      spec.type = store::ChannelType::group;
      spec.name = "room " + std::to_string(c);
      for (int i = 1; i < kUsers; ++i) spec.members.push_back(user(i));
      auto v = chat_->create_channel(caller(0), spec);
      ASSERT_TRUE(v) << v.error().message;
      channels_.push_back(v->channel.id);
    }
  }
  void TearDown() override {
    chat_.reset();
    store_.reset();
    db_.reset();
  }

  static constexpr int kUsers = 8;
  static std::string user(int i) { return "u" + std::to_string(i); }
  chat::Caller caller(int i) { return {app_, user(i)}; }
  chat::Caller caller(const std::string& id) { return {app_, id}; }
  static chat::OutgoingMessage text(std::string t, std::optional<std::string> client_id = {}) {
    chat::OutgoingMessage m;
    m.text = std::move(t);
    m.client_msg_id = std::move(client_id);
    return m;
  }
  std::vector<store::MessageRecord> history(const std::string& channel) {
    auto page = store_->chat().list_messages("app_a", channel, 0, std::nullopt, 10000);
    EXPECT_TRUE(page) << page.error().message;
    return page ? *page : std::vector<store::MessageRecord>{};
  }

  // kThreads threads send kPerThread messages each, alternating between the two channels, and
  // check that each channel holds seqs 1..N, each caller told its own message's seq.
  void send_concurrently_and_check() {
    constexpr int kThreads = 8, kPerThread = 60;
    std::mutex mu;
    std::map<std::string, std::map<std::int64_t, std::string>> got;  // channel -> seq -> text
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < kPerThread; ++k) {
          const std::string& ch = channels_[(t + k) % 2];
          std::string body = "t" + std::to_string(t) + "-" + std::to_string(k);
          auto r = chat_->send(caller(t), ch, text(body, "c" + std::to_string(t) + "-" + std::to_string(k)));
          if (!r || r->duplicate) {
            ++failures;
            continue;
          }
          std::lock_guard lock(mu);
          EXPECT_EQ(r->message.text, body);
          EXPECT_TRUE(got[ch].emplace(r->message.seq, body).second) << "seq " << r->message.seq << " given twice";
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    for (const auto& ch : channels_) {
      auto rows = history(ch);
      ASSERT_EQ(rows.size(), static_cast<std::size_t>(kThreads * kPerThread / 2));
      for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].seq, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(got[ch][rows[i].seq], rows[i].text) << "the caller was told another message's seq";
      }
      auto c = store_->chat().get_channel("app_a", ch);
      ASSERT_TRUE(c);
      EXPECT_EQ(c->last_seq, static_cast<std::int64_t>(rows.size()));
    }
    auto stats = chat_->send_stats();
    EXPECT_EQ(stats.items, static_cast<std::uint64_t>(kThreads * kPerThread));
    EXPECT_GT(stats.mean_batch(), 1.0) << "concurrent sends were never batched";
  }

  std::unique_ptr<test::ScratchDatabase> db_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  tenancy::AppPtr app_;
  std::unique_ptr<chat::ChatService> chat_;
  std::vector<std::string> channels_;
};

TEST_P(GroupCommitTest, ConcurrentSendsGetSeqsOneToNPerChannelEachItsOwn) { send_concurrently_and_check(); }

TEST_P(GroupCommitTest, SeveralCommittersKeepEachChannelGapFree) {
  chat_ = std::make_unique<chat::ChatService>(*store_, chat::GroupCommitOptions{16, 2000, 3});
  send_concurrently_and_check();
}

TEST_P(GroupCommitTest, ABadSendInABatchFailsAloneAndLeavesNoGap) {
  const std::string& ch = channels_[0];
  Outcomes out(7);
  chat::OutgoingMessage reply = text("reply to nothing");
  reply.parent_seq = 999;
  chat::OutgoingMessage bad_mention = text("hi");
  bad_mention.mentions = {"outsider"};
  chat_->send_async(caller(1), ch, text("first"), out.slot(0));
  chat_->send_async(caller("outsider"), ch, text("not a member"), out.slot(1));
  chat_->send_async(caller(2), ch, text(""), out.slot(2));
  chat_->send_async(caller(3), ch, std::move(reply), out.slot(3));
  chat_->send_async(caller(4), ch, std::move(bad_mention), out.slot(4));
  chat_->send_async(caller(5), "ch_nope", text("nowhere"), out.slot(5));
  chat_->send_async(caller(6), ch, text("last @u1"), out.slot(6));
  out.wait();
  ASSERT_TRUE(out.results[0]) << out.results[0].error().message;
  EXPECT_EQ(out.results[0]->message.seq, 1);
  EXPECT_EQ(out.results[1].error().code, Errc::not_found);
  EXPECT_EQ(out.results[2].error().code, Errc::validation_failed);
  EXPECT_EQ(out.results[3].error().code, Errc::validation_failed);
  EXPECT_EQ(out.results[4].error().code, Errc::validation_failed);
  EXPECT_EQ(out.results[5].error().code, Errc::not_found);
  ASSERT_TRUE(out.results[6]) << out.results[6].error().message;
  EXPECT_EQ(out.results[6]->message.seq, 2) << "a refused send must not use up a seq";
  EXPECT_EQ(out.results[6]->message.mentions_json, "[\"u1\"]");
  auto rows = history(ch);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "first");
  EXPECT_EQ(rows[1].text, "last @u1");
  EXPECT_EQ(chat_->send_stats().batches, 1u) << "the seven sends were meant to share one batch";
}

// Keeps every event (and so its outbox receipt) until the test lets go, as a durable consumer
// does until it stored what the event causes.
struct HoldingSink : chat::EventSink {
  std::mutex mu;
  std::vector<chat::ChatEvent> events;  // guarded by mu
  void publish(chat::ChatEvent e) override {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
  std::vector<chat::ChatEvent> take() {
    std::lock_guard lock(mu);
    return std::exchange(events, {});
  }
};

TEST_P(GroupCommitTest, TheOutboxRowsOfABatchGoOnceConfirmedAndAreReplayedOtherwise) {
  HoldingSink sink;
  chat::Outbox outbox(store_->chat(), chat::OutboxOptions{0, 10, 512});
  outbox.set_filter([](const tenancy::App&, std::string_view t) { return t.find("hook") != std::string_view::npos; });
  outbox.start();
  chat_->set_event_sink(&sink);
  chat_->set_outbox(&outbox);
  const std::string &a = channels_[0], &b = channels_[1];
  Outcomes out(5);
  chat_->send_async(caller(1), a, text("hook 1"), out.slot(0));
  chat_->send_async(caller(1), a, text("plain"), out.slot(1));
  chat_->send_async(caller("outsider"), a, text("hook refused"), out.slot(2));
  chat_->send_async(caller(2), a, text("hook 2"), out.slot(3));
  chat_->send_async(caller(3), b, text("hook 3"), out.slot(4));
  out.wait();
  ASSERT_EQ(chat_->send_stats().batches, 1u) << "the five sends were meant to share one batch";
  auto rows = store_->chat().stale_outbox(now_ms() + 1000, 10);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> ranges;
  for (const auto& r : *rows) ranges[r.channel_id] = {r.first_seq, r.last_seq};
  EXPECT_EQ(ranges[a], (std::pair<std::int64_t, std::int64_t>{1, 3}));  // "plain" (2) lies between
  EXPECT_EQ(ranges[b], (std::pair<std::int64_t, std::int64_t>{1, 1}));
  EXPECT_EQ(outbox.pending(), 2u);
  auto stale = outbox.stale(now_ms() + 1000, 10);
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->empty()) << "rows whose receipts are alive here are not replayed";

  // The consumer stores what channel a's events cause, and fails on channel b's.
  auto events = sink.take();
  ASSERT_EQ(events.size(), 4u);
  for (auto& e : events) {
    EXPECT_FALSE(e.replay);
    const bool flagged = e.data.at("message").at("text").as_string().find("hook") != std::string::npos;
    EXPECT_EQ(e.receipt != nullptr, flagged) << e.data;
    if (e.channel_id == b && e.receipt) e.receipt->fail();
  }
  events.clear();
  EXPECT_EQ(outbox.pending(), 0u);
  auto left = [&] {
    auto r = store_->chat().stale_outbox(now_ms() + 1000, 10);
    return r ? *r : std::vector<store::OutboxRow>{};
  };
  for (int i = 0; i < 200 && left().size() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(left().size(), 1u);
  EXPECT_EQ(left()[0].channel_id, b);

  // The replay hands channel b's message out again, marked as a replay, with a new receipt.
  auto n = chat_->replay_outbox(now_ms() + 1000, 10);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1);
  events = sink.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].replay);
  EXPECT_EQ(events[0].channel_id, b);
  EXPECT_EQ(events[0].data.at("message").at("text"), "hook 3");
  ASSERT_NE(events[0].receipt, nullptr);
  events.clear();
  for (int i = 0; i < 200 && !left().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(left().empty());
  outbox.stop();
  chat_->set_outbox(nullptr);
  chat_->set_event_sink(nullptr);
}

TEST_P(GroupCommitTest, TwoCopiesOfAClientIdInOneBatchStoreOneMessage) {
  const std::string& ch = channels_[0];
  ASSERT_TRUE(chat_->send(caller(1), ch, text("before", "old")));
  Outcomes out(4);
  chat_->send_async(caller(2), ch, text("hello", "dup"), out.slot(0));
  chat_->send_async(caller(2), ch, text("hello again", "dup"), out.slot(1));
  chat_->send_async(caller(1), ch, text("retry", "old"), out.slot(2));
  chat_->send_async(caller(3), ch, text("same id, other user", "dup"), out.slot(3));
  out.wait();
  for (auto& r : out.results) ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(out.results[0]->duplicate);
  EXPECT_TRUE(out.results[1]->duplicate);
  EXPECT_EQ(out.results[1]->message.seq, out.results[0]->message.seq);
  EXPECT_EQ(out.results[1]->message.text, "hello");
  EXPECT_TRUE(out.results[2]->duplicate);
  EXPECT_EQ(out.results[2]->message.seq, 1);
  EXPECT_EQ(out.results[2]->message.text, "before");
  EXPECT_FALSE(out.results[3]->duplicate);
  auto rows = history(ch);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].text, "hello");
  EXPECT_EQ(rows[2].text, "same id, other user");
  EXPECT_EQ(rows[2].seq, 3);
}

TEST_P(GroupCommitTest, AnAcknowledgedSendIsReadableFromAnotherConnection) {
  auto other = store::open_store(url_, 1);
  for (int i = 0; i < 20; ++i) {
    Outcomes out(1);
    chat_->send_async(caller(1), channels_[1], text("m" + std::to_string(i)), out.slot(0));
    out.wait();
    ASSERT_TRUE(out.results[0]);
    // Read at once, through a connection the committer never used.
    auto m = other->chat().get_message("app_a", channels_[1], out.results[0]->message.seq);
    ASSERT_TRUE(m) << "acknowledged before its commit was visible";
    EXPECT_EQ(m->text, "m" + std::to_string(i));
  }
}

// Deleting the app deletes its channels and their messages (on PostgreSQL a trigger on channels
// does, not a foreign key: see its V006 migration), also those of send batches that commit
// while the deletion runs: none is left behind, and a send refused for it fails not found.
TEST_P(GroupCommitTest, DeletingTheAppLeavesNoMessageEvenWithSendsRacingIt) {
  ASSERT_TRUE(chat_->send(caller(1), channels_[0], text("before")));
  std::atomic<bool> deleted{false};
  std::atomic<int> after{0};
  std::vector<std::thread> threads;
  for (int t = 1; t <= 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 400 && after.load() < 20; ++k) {
        bool was_deleted = deleted.load();
        auto r = chat_->send(caller(t), channels_[k % 2], text("m" + std::to_string(k)));
        if (was_deleted) {
          ++after;
          EXPECT_FALSE(r) << "a send after the app was deleted was stored";
          if (!r) {
            EXPECT_EQ(r.error().code, Errc::not_found) << r.error().message;
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a few batches (20 ms windows)
  ASSERT_TRUE(store_->delete_app("app_a"));
  deleted = true;
  for (auto& t : threads) t.join();
  for (const auto& ch : channels_) EXPECT_EQ(history(ch).size(), 0u) << "messages outlived their channel";
}

TEST_P(GroupCommitTest, RepliesAndMentionsInABatchUpdateTheirRows) {
  const std::string& ch = channels_[0];
  auto parent = chat_->send(caller(1), ch, text("parent"));
  ASSERT_TRUE(parent);
  Outcomes out(3);
  for (int i = 0; i < 3; ++i) {
    chat::OutgoingMessage m = text("re @u2 " + std::to_string(i));
    m.parent_seq = parent->message.seq;
    chat_->send_async(caller(3 + i), ch, std::move(m), out.slot(static_cast<std::size_t>(i)));
  }
  out.wait();
  for (auto& r : out.results) ASSERT_TRUE(r) << r.error().message;
  auto p = store_->chat().get_message("app_a", ch, parent->message.seq);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->reply_count, 3);
  EXPECT_EQ(boost::json::parse(p->thread_participants_json), boost::json::parse(R"(["u3","u4","u5"])"));
  auto view = store_->chat().channel_view("app_a", ch, user(2));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->unread_mentions, 3);
  auto sender = store_->chat().get_member("app_a", ch, user(5));
  ASSERT_TRUE(sender && *sender);
  EXPECT_EQ((*sender)->last_read_seq, 4);
}

// A retried reply, in a batch with a new one: answered with the stored copy, counted once on
// its parent. (PostgreSQL finds the copy through the failed insert and runs the batch again.)
TEST_P(GroupCommitTest, ARetriedReplyIsCountedOnceOnItsParent) {
  const std::string& ch = channels_[0];
  auto parent = chat_->send(caller(1), ch, text("parent"));
  ASSERT_TRUE(parent);
  chat::OutgoingMessage first = text("reply", "r1");
  first.parent_seq = parent->message.seq;
  auto stored = chat_->send(caller(2), ch, std::move(first));
  ASSERT_TRUE(stored) << stored.error().message;
  Outcomes out(2);
  chat::OutgoingMessage retry = text("reply", "r1");
  retry.parent_seq = parent->message.seq;
  chat_->send_async(caller(2), ch, std::move(retry), out.slot(0));
  chat::OutgoingMessage other = text("another reply", "r2");
  other.parent_seq = parent->message.seq;
  chat_->send_async(caller(3), ch, std::move(other), out.slot(1));
  out.wait();
  for (auto& r : out.results) ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(out.results[0]->duplicate);
  EXPECT_EQ(out.results[0]->message.seq, stored->message.seq);
  EXPECT_FALSE(out.results[1]->duplicate);
  EXPECT_EQ(out.results[1]->message.seq, stored->message.seq + 1);
  auto p = store_->chat().get_message("app_a", ch, parent->message.seq);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->reply_count, 2);
  EXPECT_EQ(history(ch).size(), 3u);
}

// The send path may keep channel and member rows from batch to batch (SQLite does); whatever
// another connection commits in between must be seen by the next batch.
TEST_P(GroupCommitTest, ABatchSeesMembershipAndChannelChangesCommittedSinceTheLastOne) {
  const std::string& ch = channels_[0];
  ASSERT_TRUE(chat_->send(caller(1), ch, text("first")));
  ASSERT_TRUE(store_->chat().remove_member("app_a", ch, user(1)));
  auto gone = chat_->send(caller(1), ch, text("after leaving"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);

  store::MemberRecord back{"app_a", ch, user(1)};
  back.joined_at = 2;
  ASSERT_TRUE(store_->chat().add_members("app_a", ch, {back}, 1000));
  auto again = chat_->send(caller(1), ch, text("back again"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->message.seq, 2);

  auto channel = store_->chat().get_channel("app_a", ch);
  ASSERT_TRUE(channel);
  channel->archived_at = 3;
  ASSERT_TRUE(store_->chat().update_channel(*channel));
  auto archived = chat_->send(caller(2), ch, text("into the archive"));
  ASSERT_FALSE(archived);
  EXPECT_EQ(archived.error().code, Errc::conflict);
  EXPECT_EQ(history(ch).size(), 2u);
}

// Two stores on one database, as two Parley processes: their sends into the same channels take
// turns, and each batch must continue from the seqs the other one committed.
TEST_P(GroupCommitTest, TwoStoresOnOneDatabaseTakeTurnsWithoutGapsOrErrors) {
  auto other_store = store::open_store(url_, 2);
  chat::ChatService other(*other_store, chat::GroupCommitOptions{256, 0});
  constexpr int kRounds = 40;
  std::map<std::string, std::set<std::int64_t>> seqs;
  for (int i = 0; i < kRounds; ++i) {
    const std::string& ch = channels_[static_cast<std::size_t>(i % 2)];
    auto a = chat_->send(caller(1 + i % 3), ch, text("a" + std::to_string(i)));
    ASSERT_TRUE(a) << a.error().message;
    auto b = other.send(caller(4 + i % 3), ch, text("b" + std::to_string(i)));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_TRUE(seqs[ch].insert(a->message.seq).second);
    EXPECT_TRUE(seqs[ch].insert(b->message.seq).second);
  }
  for (const auto& ch : channels_) {
    auto h = history(ch);
    ASSERT_EQ(h.size(), static_cast<std::size_t>(kRounds));
    for (std::size_t i = 0; i < h.size(); ++i) EXPECT_EQ(h[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(seqs[ch].size(), static_cast<std::size_t>(kRounds));
    auto sender = store_->chat().get_member("app_a", ch, user(4));
    ASSERT_TRUE(sender && *sender);
    EXPECT_GT((*sender)->last_read_seq, 0);
  }
}

TEST_P(GroupCommitTest, SendsAfterStopFailRetryably) {
  chat_->stop_sends();
  auto r = chat_->send(caller(1), channels_[0], text("late"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unavailable);
}

// PostgreSQL sends a batch in two pipeline flights (reads, then writes and COMMIT); the rule
// runs between them. These break the second flight on purpose.
class PipelineTest : public GroupCommitTest {
 protected:
  void SetUp() override {
    if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL only (pipeline mode)";
    GroupCommitTest::SetUp();
  }
  std::vector<store::QueuedSend> batch_of(int n, const std::string& prefix) {
    std::vector<store::QueuedSend> batch(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto& q = batch[static_cast<std::size_t>(i)];
      q.app_id = "app_a";
      q.channel_id = channels_[static_cast<std::size_t>(i % 2)];
      q.message.user_id = user(1 + i % (kUsers - 1));
      q.message.text = prefix + std::to_string(i);
      q.message.client_msg_id = prefix + std::to_string(i);
      q.message.created_at = 1;
    }
    return batch;
  }
  // Runs SQL on a connection of its own (not the store's).
  void on_the_side(const std::string& sql) { store::postgres::Connection(url_).exec(sql); }
};

TEST_P(PipelineTest, AConnectionLostMidBatchFailsTheWholeBatchRetryably) {
  auto batch = batch_of(6, "lost");
  bool killed = false;
  store_->chat().send_batch(
      batch, [&](std::size_t, const store::ChannelRecord&, store::QueuedSend&, store::SendReader&) -> Status {
        if (!killed) {  // the batch's backend is idle in its transaction, between the two flights
          killed = true;
          on_the_side(
              "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() "
              "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'");
        }
        return ok_status();
      });
  ASSERT_TRUE(killed);
  for (auto& q : batch) {
    ASSERT_FALSE(q.result);
    EXPECT_EQ(q.result.error().code, Errc::unavailable) << q.result.error().message;
  }
  EXPECT_TRUE(history(channels_[0]).empty());
  EXPECT_TRUE(history(channels_[1]).empty());
  // The connection is made again for the next batch.
  auto next = batch_of(4, "after");
  store_->chat().send_batch(
      next, [](std::size_t, const store::ChannelRecord&, store::QueuedSend&, store::SendReader&) -> Status {
        return ok_status();
      });
  for (auto& q : next) ASSERT_TRUE(q.result) << q.result.error().message;
  EXPECT_EQ(history(channels_[0]).size(), 2u);
  EXPECT_EQ(next[0].result->message.seq, 1);
}

TEST_P(PipelineTest, AWriteThatFailsInTheLastFlightCommitsNothingOfTheBatch) {
  auto batch = batch_of(6, "clash");
  store::postgres::Connection side(url_);
  bool clashed = false;
  store_->chat().send_batch(
      batch, [&](std::size_t, const store::ChannelRecord&, store::QueuedSend&, store::SendReader&) -> Status {
        if (!clashed) {  // takes seq 1 of channel 0 behind the batch's back (no row lock stops an insert)
          clashed = true;
          side.exec("INSERT INTO messages(app_id, channel_id, seq, user_id, text, created_at) VALUES ('app_a', '" +
                    channels_[0] + "', 1, 'u1', 'intruder', 1)");
        }
        return ok_status();
      });
  for (auto& q : batch) {
    ASSERT_FALSE(q.result);
    EXPECT_EQ(q.result.error().code, Errc::conflict) << q.result.error().message;
  }
  auto rows = history(channels_[0]);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text, "intruder");
  EXPECT_TRUE(history(channels_[1]).empty()) << "the COMMIT behind the failed write must not commit";
  auto c1 = store_->chat().get_channel("app_a", channels_[1]);
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->last_seq, 0);
}

TEST_P(PipelineTest, ASendTheDatabaseCannotStoreFailsAloneInAPipelinedBatch) {
  auto batch = batch_of(5, "nul");
  batch[2].message.text = std::string("a\0b", 3);
  store_->chat().send_batch(
      batch, [](std::size_t, const store::ChannelRecord&, store::QueuedSend&, store::SendReader&) -> Status {
        return ok_status();
      });
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i == 2) {
      ASSERT_FALSE(batch[i].result);
      EXPECT_EQ(batch[i].result.error().code, Errc::validation_failed);
    } else {
      ASSERT_TRUE(batch[i].result) << batch[i].result.error().message;
    }
  }
  EXPECT_EQ(history(channels_[0]).size(), 2u);
  EXPECT_EQ(history(channels_[1]).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Stores, GroupCommitTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Stores, PipelineTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace parley
