#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "chat/chat_json.hpp"
#include "chat/chat_service.hpp"
#include "core/crypto.hpp"
#include "core/utf8.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"

namespace parley {
namespace {

TEST(Mentions, FindsAtTokensOnceWithoutTrailingPunctuation) {
  EXPECT_EQ(chat::mentions_in_text("hi @bob and @carol. @bob again"), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_TRUE(chat::mentions_in_text("mail me at x@y.z").empty());
  EXPECT_TRUE(chat::mentions_in_text("@ alone").empty());
}

TEST(Preview, CutsAtCharacterBoundaries) {
  bool cut = false;
  EXPECT_EQ(utf8_prefix("héllo", 2, cut), "hé");
  EXPECT_TRUE(cut);
  EXPECT_EQ(utf8_prefix("hi", 5, cut), "hi");
  EXPECT_FALSE(cut);
}

TEST(Roles, RankOwnerAboveAdminAboveModeratorAboveMember) {
  EXPECT_GT(store::Role::owner, store::Role::admin);
  EXPECT_GT(store::Role::admin, store::Role::moderator);
  EXPECT_GT(store::Role::moderator, store::Role::member);
  EXPECT_FALSE(chat::grantable(store::Role::owner));  // never granted, only held by the creator
}

class ChatStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("parley-chat-" + crypto::random_id("", 8));
    std::string url = "sqlite:" + (dir_ / "t.db").string();
    store::open_migrator(url)->apply();
    store_ = store::open_store(url, 4);
    store::AppRecord app{"app_a", "A", "{}", "k", 1, 1};
    ASSERT_TRUE(store_->create_app(app, {"pk_a", "app_a", "h", 1, std::nullopt}));
    app_ = std::make_shared<const tenancy::App>(app);
    for (const char* u : {"alice", "bob", "carol"}) ASSERT_TRUE(store_->upsert_user("app_a", u, {}, 1));
    chat_ = std::make_unique<chat::ChatService>(*store_);
    chat::NewChannel spec;
    spec.type = store::ChannelType::group;
    spec.name = "General";
    spec.members = {"bob", "carol"};
    auto v = chat_->create_channel(alice(), spec);
    ASSERT_TRUE(v) << v.error().message;
    channel_ = v->channel.id;
  }
  void TearDown() override {
    chat_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  chat::Caller alice() { return {app_, "alice"}; }
  chat::Caller bob() { return {app_, "bob"}; }
  store::SendResult send(const chat::Caller& who, std::string text, std::optional<std::string> client_id = {}) {
    chat::OutgoingMessage m;
    m.text = std::move(text);
    m.client_msg_id = std::move(client_id);
    auto r = chat_->send(who, channel_, m);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : store::SendResult{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  tenancy::AppPtr app_;
  std::unique_ptr<chat::ChatService> chat_;
  std::string channel_;
};

TEST_F(ChatStoreTest, ConcurrentSendersGetEverySeqExactlyOnce) {
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::int64_t> seqs;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        chat::OutgoingMessage m;
        m.text = "m" + std::to_string(t) + "-" + std::to_string(i);
        auto r = chat_->send(t % 2 ? alice() : bob(), channel_, m);
        ASSERT_TRUE(r) << r.error().message;
        std::lock_guard lock(mu);
        EXPECT_TRUE(seqs.insert(r->message.seq).second);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), kThreads * kEach);
}

TEST_F(ChatStoreTest, ARetriedClientMessageIdReturnsTheOriginal) {
  auto first = send(alice(), "once", "c-1");
  auto again = send(alice(), "once", "c-1");
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(first.message.seq, again.message.seq);
  EXPECT_EQ(send(bob(), "same id, other user", "c-1").message.seq, first.message.seq + 1);
}

TEST_F(ChatStoreTest, UnreadSkipsOwnAndDeletedMessages) {
  send(alice(), "1");
  send(alice(), "2");
  auto third = send(alice(), "3");
  auto totals = chat_->unread(bob());
  EXPECT_EQ(totals->unread_count, 3);
  EXPECT_EQ(chat_->unread(alice())->unread_count, 0);
  ASSERT_TRUE(chat_->delete_message(alice(), channel_, third.message.seq));
  EXPECT_EQ(chat_->unread(bob())->unread_count, 2);
  auto read = chat_->mark_read(bob(), channel_, 1);
  EXPECT_EQ(read->first, 1);
  EXPECT_EQ(read->second, 1);
  EXPECT_EQ(chat_->mark_read(bob(), channel_, 0)->first, 1);   // never backwards
  EXPECT_EQ(chat_->mark_read(bob(), channel_, 99)->first, 3);  // never past the last seq
}

TEST_F(ChatStoreTest, MentionsFlagOnlyTheMentionedMember) {
  chat::OutgoingMessage m;
  m.text = "hey @carol and @nobody";
  ASSERT_TRUE(chat_->send(alice(), channel_, m));
  EXPECT_EQ(chat_->unread({app_, "carol"})->unread_mentions, 1);
  EXPECT_EQ(chat_->unread(bob())->unread_mentions, 0);
  auto flagged = chat_->flagged({app_, "carol"}, store::MessageFlag::mentioned, true, std::nullopt, 10);
  ASSERT_EQ(flagged->size(), 1u);
  chat::OutgoingMessage bad;
  bad.text = "x";
  bad.mentions = {"nobody"};
  EXPECT_EQ(chat_->send(alice(), channel_, bad).error().code, Errc::validation_failed);
}

TEST_F(ChatStoreTest, RepliesCountOnTheParentAndPageBySeq) {
  auto parent = send(alice(), "parent");
  for (int i = 0; i < 3; ++i) {
    chat::OutgoingMessage r;
    r.text = "reply";
    r.parent_seq = parent.message.seq;
    ASSERT_TRUE(chat_->send(i % 2 ? alice() : bob(), channel_, r));
  }
  auto p = chat_->get_message(alice(), channel_, parent.message.seq);
  EXPECT_EQ(p->items[0].reply_count, 3);
  EXPECT_EQ(p->items[0].thread_participants_json, R"(["bob","alice"])");
  auto page = chat_->replies(alice(), channel_, parent.message.seq, 0, 2);
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_TRUE(page->has_more);
  chat::OutgoingMessage nested;
  nested.text = "nested";
  nested.parent_seq = page->items[0].seq;
  EXPECT_EQ(chat_->send(bob(), channel_, nested).error().code, Errc::validation_failed);
}

TEST_F(ChatStoreTest, NonMembersOfAGroupSeeNothing) {
  ASSERT_TRUE(store_->upsert_user("app_a", "mallory", {}, 1));
  chat::Caller mallory{app_, "mallory"};
  EXPECT_EQ(chat_->get_channel(mallory, channel_).error().code, Errc::not_found);
  EXPECT_EQ(chat_->history(mallory, channel_, std::nullopt, std::nullopt, 10).error().code, Errc::not_found);
  chat::OutgoingMessage m;
  m.text = "let me in";
  EXPECT_EQ(chat_->send(mallory, channel_, m).error().code, Errc::not_found);
}

TEST_F(ChatStoreTest, DmIsTheSameChannelForThePairAndBlockingStopsIt) {
  auto first = chat_->ensure_dm(alice(), "bob");
  auto second = chat_->ensure_dm(bob(), "alice");
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->second);
  EXPECT_FALSE(second->second);
  EXPECT_EQ(first->first.channel.id, second->first.channel.id);
  ASSERT_TRUE(chat_->block(bob(), "carol", true));
  EXPECT_EQ(chat_->ensure_dm({app_, "carol"}, "bob").error().code, Errc::forbidden);
}

TEST_F(ChatStoreTest, SyncReportsJoinedRenamedAndLeftChannels) {
  auto initial = chat_->sync(bob(), {});
  ASSERT_TRUE(initial);
  EXPECT_EQ(initial->changes.added.size(), 1u);
  std::int64_t cursor = initial->changes.cursor;
  chat::ChannelPatch rename;
  rename.name = "Renamed";
  ASSERT_TRUE(chat_->update_channel(alice(), channel_, rename));
  chat::SyncRequest req;
  req.since = cursor;
  auto after_rename = chat_->sync(bob(), req);
  ASSERT_EQ(after_rename->changes.updated.size(), 1u);
  EXPECT_EQ(after_rename->changes.updated[0].channel.name, "Renamed");
  ASSERT_TRUE(chat_->leave(bob(), channel_));
  req.since = after_rename->changes.cursor;
  auto after_leave = chat_->sync(bob(), req);
  EXPECT_EQ(after_leave->changes.removed, std::vector<std::string>{channel_});
}

TEST_F(ChatStoreTest, SendWritesNoRowPerMember) {
  // A channel of 300 members: one message adds one message row and no member/flag rows.
  chat::NewChannel spec;
  spec.type = store::ChannelType::public_;
  spec.name = "Big";
  for (int i = 0; i < 300; ++i) {
    std::string id = "u" + std::to_string(i);
    ASSERT_TRUE(store_->upsert_user("app_a", id, {}, 1));
    spec.members.push_back(id);
  }
  auto big = chat_->create_channel(alice(), spec);
  ASSERT_TRUE(big);
  chat::OutgoingMessage m;
  m.text = "to everyone";
  ASSERT_TRUE(chat_->send(alice(), big->channel.id, m));
  auto flagged = chat_->flagged({app_, "u1"}, store::MessageFlag::mentioned, false, std::nullopt, 10);
  EXPECT_TRUE(flagged->empty());
  auto members = chat_->list_members(alice(), big->channel.id, "", 1000);
  for (const auto& mem : *members) {
    if (mem.user_id != "alice") {
      ASSERT_EQ(mem.last_read_seq, 0) << mem.user_id;
    }
  }
  EXPECT_EQ(chat_->unread({app_, "u7"})->unread_count, 1);
}

}  // namespace
}  // namespace parley
