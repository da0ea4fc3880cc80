// Chat over HTTP: every channel, member, block, message, pin, saved, mention, read and sync route
// answers as documented; a channel the caller may not see is 404 and one they may not change 403;
// and the tenant wall holds for chat resources too (app B never reaches app A's channels, even
// as a user with the same id).
#include <set>

#include "fixtures.hpp"

namespace parley::test {
namespace {

class ChatTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    alice_ = mint("alice", {{"name", "Alice"}});
    bob_ = mint("bob", {{"name", "Bob"}});
    carol_ = mint("carol", {{"name", "Carol"}});
  }
  // POST /v1/channels; throws unless 201.
  std::string create_channel(const UserTokens& who, const std::string& type, const std::string& name,
                             json::array members = {}) {
    auto r = http().post("/v1/channels", who.auth(), {{"type", type}, {"name", name}, {"members", members}});
    if (r.status != 201) throw std::runtime_error("create channel failed: " + r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  // POST …/messages; throws unless 201; returns the seq.
  std::int64_t send(const UserTokens& who, const std::string& ch, const std::string& text, json::object extra = {}) {
    extra["text"] = text;
    auto r = http().post("/v1/channels/" + ch + "/messages", who.auth(), extra);
    if (r.status != 201) throw std::runtime_error("send failed: " + r.body);
    return r.obj()["message"].as_object()["seq"].as_int64();
  }
  std::string ch_path(const std::string& ch) { return "/v1/channels/" + ch; }

  UserTokens alice_, bob_, carol_;
};

// ---- channels --------------------------------------------------------------------------------

TEST_F(ChatTest, CreatingAGroupMakesTheCallerOwnerAndAddsTheMembers) {
  auto r = http().post("/v1/channels", alice_.auth(),
                       {{"type", "group"}, {"name", "Team"}, {"topic", "work"}, {"members", {"bob"}}});
  ASSERT_STATUS(r, 201);
  auto ch = r.obj()["channel"].as_object();
  EXPECT_EQ(ch["type"], "group");
  EXPECT_EQ(ch["name"], "Team");
  EXPECT_EQ(ch["topic"], "work");
  EXPECT_EQ(ch["created_by"], "alice");
  EXPECT_EQ(ch["member_count"], 2);
  EXPECT_EQ(ch["last_seq"], 0);
  EXPECT_EQ(ch["membership"].as_object()["role"], "owner");
  auto bobs = http().get(ch_path(str(ch["id"])), bob_.auth());
  ASSERT_STATUS(bobs, 200);
  EXPECT_EQ(bobs.obj()["channel"].as_object()["membership"].as_object()["role"], "member");
}

TEST_F(ChatTest, AGroupIsNotFoundForNonMembers) {
  auto ch = create_channel(alice_, "group", "Secret", {"bob"});
  EXPECT_ERROR(http().get(ch_path(ch), carol_.auth()), 404, "not_found");
  EXPECT_ERROR(http().get(ch_path(ch) + "/messages", carol_.auth()), 404, "not_found");
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", carol_.auth(), {{"text", "hi"}}), 404, "not_found");
  EXPECT_ERROR(http().post(ch_path(ch) + "/join", carol_.auth()), 404, "not_found");
}

TEST_F(ChatTest, ChannelsNeedAUserToken) {
  auto ch = create_channel(alice_, "group", "Team");
  EXPECT_ERROR(http().get("/v1/channels"), 401, "unauthorized");
  // App credentials verify but are the wrong kind of credentials for a user route.
  EXPECT_ERROR(http().get(ch_path(ch), app_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().post("/v1/channels", app_.auth(), {{"type", "group"}, {"name", "x"}}), 403, "forbidden");
}

TEST_F(ChatTest, ListingMyChannelsShowsOnlyThoseIAmIn) {
  auto team = create_channel(alice_, "group", "Team", {"bob"});
  create_channel(carol_, "group", "Carol's");
  auto r = http().get("/v1/channels", bob_.auth());
  ASSERT_STATUS(r, 200);
  auto items = r.obj()["items"].as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(str(items[0].as_object()["id"]), team);
  EXPECT_TRUE(r.obj().contains("next_cursor"));
}

TEST_F(ChatTest, PublicChannelsAreListedJoinedAndLeft) {
  auto ch = create_channel(alice_, "public", "General");
  create_channel(alice_, "group", "Private");
  auto pub = http().get("/v1/channels/public", carol_.auth());
  ASSERT_STATUS(pub, 200);
  std::vector<std::string> names;
  for (const auto& c : pub.obj()["items"].as_array()) names.push_back(str(c.as_object().at("name")));
  EXPECT_EQ(names, std::vector<std::string>{"General"});
  auto join = http().post(ch_path(ch) + "/join", carol_.auth());
  ASSERT_STATUS(join, 200);
  EXPECT_EQ(join.obj()["member"].as_object()["user_id"], "carol");
  EXPECT_EQ(http().get(ch_path(ch), carol_.auth()).obj()["channel"].as_object()["member_count"], 2);
  EXPECT_STATUS(http().post(ch_path(ch) + "/leave", carol_.auth()), 204);
  EXPECT_EQ(http().get(ch_path(ch), alice_.auth()).obj()["channel"].as_object()["member_count"], 1);
}

TEST_F(ChatTest, JoiningIsIdempotentAndKeepsTheMembersRole) {
  auto ch = create_channel(alice_, "public", "General", {"bob"});
  auto owner = http().post(ch_path(ch) + "/join", alice_.auth());
  ASSERT_STATUS(owner, 200);
  EXPECT_EQ(owner.obj()["member"].as_object()["role"], "owner");
  ASSERT_STATUS(http().post(ch_path(ch) + "/join", carol_.auth()), 200);
  ASSERT_STATUS(http().post(ch_path(ch) + "/join", carol_.auth()), 200);
  EXPECT_EQ(http().get(ch_path(ch), alice_.auth()).obj()["channel"].as_object()["member_count"], 3);
}

TEST_F(ChatTest, TheOwnerUpdatesTheChannelAndAPlainMemberGets403) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto r = http().patch(ch_path(ch), alice_.auth(), {{"name", "Renamed"}, {"topic", "new topic"}});
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["channel"].as_object()["name"], "Renamed");
  EXPECT_ERROR(http().patch(ch_path(ch), bob_.auth(), {{"name", "Mine now"}}), 403, "forbidden");
  EXPECT_EQ(http().get(ch_path(ch), bob_.auth()).obj()["channel"].as_object()["name"], "Renamed");
}

TEST_F(ChatTest, AnArchivedChannelIsReadOnlyUntilUnarchived) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  send(alice_, ch, "before");
  auto a = http().post(ch_path(ch) + "/archive", alice_.auth());
  ASSERT_STATUS(a, 200);
  EXPECT_TRUE(a.obj()["channel"].as_object()["archived_at"].is_string());
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", bob_.auth(), {{"text", "x"}}), 409, "conflict");
  EXPECT_STATUS(http().get(ch_path(ch) + "/messages", bob_.auth()), 200);
  EXPECT_ERROR(http().post(ch_path(ch) + "/archive", bob_.auth()), 403, "forbidden");
  auto u = http().post(ch_path(ch) + "/unarchive", alice_.auth());
  ASSERT_STATUS(u, 200);
  EXPECT_TRUE(u.obj()["channel"].as_object()["archived_at"].is_null());
  EXPECT_STATUS(http().post(ch_path(ch) + "/messages", bob_.auth(), {{"text", "after"}}), 201);
}

TEST_F(ChatTest, OnlyTheOwnerDeletesAChannelAndThenItIsGoneForEveryone) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  EXPECT_ERROR(http().del(ch_path(ch), bob_.auth()), 403, "forbidden");
  EXPECT_STATUS(http().del(ch_path(ch), alice_.auth()), 204);
  EXPECT_ERROR(http().get(ch_path(ch), alice_.auth()), 404, "not_found");
  EXPECT_ERROR(http().get(ch_path(ch), bob_.auth()), 404, "not_found");
}

TEST_F(ChatTest, ChannelBodiesAreValidated) {
  auto unknown = http().post("/v1/channels", alice_.auth(), {{"type", "group"}, {"name", "x"}, {"colour", "red"}});
  EXPECT_ERROR(unknown, 400, "invalid_request");
  EXPECT_EQ(error_detail(unknown), "colour");
  auto type = http().post("/v1/channels", alice_.auth(), {{"type", "secret"}, {"name", "x"}});
  EXPECT_ERROR(type, 422, "validation_failed");
  EXPECT_EQ(error_detail(type), "type");
  EXPECT_ERROR(http().post("/v1/channels", alice_.auth(), {{"type", "group"}, {"name", ""}}), 422, "validation_failed");
  EXPECT_ERROR(http().post("/v1/channels", alice_.auth(), {{"type", "group"}, {"name", "x"}, {"members", "bob"}}), 400,
               "invalid_request");
  EXPECT_ERROR(http().post("/v1/channels", alice_.auth(), {{"type", "group"}}), 400, "invalid_request");
  EXPECT_ERROR(http().send_raw("POST", "/v1/channels", alice_.auth(), "{\"type\":"), 400, "invalid_json");
}

// ---- members ---------------------------------------------------------------------------------

TEST_F(ChatTest, AnAdminAddsListsChangesAndRemovesMembers) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto add = http().post(ch_path(ch) + "/members", alice_.auth(), {{"user_ids", {"carol"}}});
  ASSERT_STATUS(add, 200);
  EXPECT_EQ(add.obj()["added"], json::array{"carol"});
  auto list = http().get(ch_path(ch) + "/members", bob_.auth());
  ASSERT_STATUS(list, 200);
  std::vector<std::string> ids;
  for (const auto& m : list.obj()["items"].as_array()) ids.push_back(str(m.as_object().at("user_id")));
  EXPECT_EQ(ids, (std::vector<std::string>{"alice", "bob", "carol"}));
  auto role = http().patch(ch_path(ch) + "/members/bob", alice_.auth(), {{"role", "moderator"}});
  ASSERT_STATUS(role, 200);
  EXPECT_EQ(role.obj()["member"].as_object()["role"], "moderator");
  EXPECT_STATUS(http().del(ch_path(ch) + "/members/carol", alice_.auth()), 204);
  EXPECT_ERROR(http().get(ch_path(ch), carol_.auth()), 404, "not_found");
}

TEST_F(ChatTest, APlainMemberCannotManageMembers) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  EXPECT_ERROR(http().post(ch_path(ch) + "/members", bob_.auth(), {{"user_ids", {"carol"}}}), 403, "forbidden");
  EXPECT_ERROR(http().del(ch_path(ch) + "/members/alice", bob_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().patch(ch_path(ch) + "/members/bob", bob_.auth(), {{"role", "admin"}}), 403, "forbidden");
}

TEST_F(ChatTest, TheOwnersRoleCannotChangeAndTheOwnerCannotLeaveOthersBehind) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto r = http().patch(ch_path(ch) + "/members/alice", alice_.auth(), {{"role", "member"}});
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_LT(r.status, 500) << r.body;
  EXPECT_ERROR(http().post(ch_path(ch) + "/leave", alice_.auth()), 409, "conflict");
}

TEST_F(ChatTest, MembersSetTheirOwnMembershipFlags) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto r = http().patch(ch_path(ch) + "/membership", bob_.auth(), {{"muted", true}, {"starred", true}});
  ASSERT_STATUS(r, 200);
  auto m = r.obj()["member"].as_object();
  EXPECT_EQ(m["user_id"], "bob");
  EXPECT_EQ(m["muted"], true);
  EXPECT_EQ(m["starred"], true);
  EXPECT_EQ(m["hidden"], false);
  EXPECT_ERROR(http().patch(ch_path(ch) + "/membership", bob_.auth(), {{"muted", "yes"}}), 400, "invalid_request");
}

TEST_F(ChatTest, AddingAnUnknownUserIsRejected) {
  auto ch = create_channel(alice_, "group", "Team");
  auto r = http().post(ch_path(ch) + "/members", alice_.auth(), {{"user_ids", {"nobody"}}});
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_LT(r.status, 500) << r.body;
}

// ---- direct messages and blocks --------------------------------------------------------------

TEST_F(ChatTest, ADirectMessageChannelIsCreatedOnceForAPair) {
  auto first = http().post("/v1/channels/dm", alice_.auth(), {{"user_id", "bob"}});
  ASSERT_STATUS(first, 201);
  EXPECT_EQ(first.obj()["created"], true);
  auto ch = first.obj()["channel"].as_object();
  EXPECT_EQ(ch["type"], "dm");
  auto again = http().post("/v1/channels/dm", bob_.auth(), {{"user_id", "alice"}});
  ASSERT_STATUS(again, 200);
  EXPECT_EQ(again.obj()["created"], false);
  EXPECT_EQ(again.obj()["channel"].as_object()["id"], ch["id"]);
}

TEST_F(ChatTest, ADirectMessageToYourselfOrAnUnknownUserIsRefused) {
  EXPECT_ERROR(http().post("/v1/channels/dm", alice_.auth(), {{"user_id", "alice"}}), 422, "validation_failed");
  EXPECT_ERROR(http().post("/v1/channels/dm", alice_.auth(), {{"user_id", "nobody"}}), 404, "not_found");
}

TEST_F(ChatTest, BlockingPreventsDirectMessagesUntilUnblocked) {
  EXPECT_STATUS(http().put("/v1/users/me/blocks/bob", alice_.auth()), 204);
  auto list = http().get("/v1/users/me/blocks", alice_.auth());
  ASSERT_STATUS(list, 200);
  ASSERT_EQ(list.obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(list.obj()["items"].as_array()[0].as_object()["user_id"], "bob");
  EXPECT_ERROR(http().post("/v1/channels/dm", bob_.auth(), {{"user_id", "alice"}}), 403, "forbidden");
  EXPECT_STATUS(http().del("/v1/users/me/blocks/bob", alice_.auth()), 204);
  EXPECT_STATUS(http().post("/v1/channels/dm", bob_.auth(), {{"user_id", "alice"}}), 201);
}

TEST_F(ChatTest, BlockingStopsMessagesInAnExistingDirectMessageChannel) {
  auto dm = http().post("/v1/channels/dm", alice_.auth(), {{"user_id", "bob"}});
  ASSERT_STATUS(dm, 201);
  std::string ch = str(dm.obj()["channel"].as_object()["id"]);
  send(bob_, ch, "hello");
  ASSERT_STATUS(http().put("/v1/users/me/blocks/bob", alice_.auth()), 204);
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", bob_.auth(), {{"text", "still there?"}}), 403, "forbidden");
}

// ---- messages --------------------------------------------------------------------------------

TEST_F(ChatTest, MessagesTakeConsecutiveSeqsAndReadBackInOrder) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(send(i % 2 ? bob_ : alice_, ch, "m" + std::to_string(i)));
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  auto r = http().get(ch_path(ch) + "/messages?after_seq=2&limit=2", bob_.auth());
  ASSERT_STATUS(r, 200);
  auto items = r.obj()["items"].as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].as_object()["seq"], 3);
  EXPECT_EQ(items[0].as_object()["text"], "m2");
  EXPECT_EQ(items[1].as_object()["seq"], 4);
  EXPECT_EQ(r.obj()["has_more"], true);
  auto newest = http().get(ch_path(ch) + "/messages?limit=2", bob_.auth()).obj();
  EXPECT_EQ(newest["items"].as_array()[1].as_object()["seq"], 5);
  auto one = http().get(ch_path(ch) + "/messages/1", bob_.auth());
  ASSERT_STATUS(one, 200);
  EXPECT_EQ(one.obj()["message"].as_object()["user_id"], "alice");
  EXPECT_ERROR(http().get(ch_path(ch) + "/messages/99", bob_.auth()), 404, "not_found");
}

TEST_F(ChatTest, ResendingWithTheSameClientMessageIdReturnsTheOriginal) {
  auto ch = create_channel(alice_, "group", "Team");
  auto first = http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", "once"}, {"client_msg_id", "c-1"}});
  ASSERT_STATUS(first, 201);
  EXPECT_EQ(first.obj()["duplicate"], false);
  auto again = http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", "once"}, {"client_msg_id", "c-1"}});
  ASSERT_STATUS(again, 200);
  EXPECT_EQ(again.obj()["duplicate"], true);
  EXPECT_EQ(again.obj()["message"].as_object()["seq"], first.obj()["message"].as_object()["seq"]);
  EXPECT_EQ(http().get(ch_path(ch), alice_.auth()).obj()["channel"].as_object()["last_seq"], 1);
}

TEST_F(ChatTest, MessageBodiesAreValidated) {
  auto ch = create_channel(alice_, "group", "Team");
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", 5}}), 400, "invalid_request");
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", "x"}, {"txt", "y"}}), 400,
               "invalid_request");
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", ""}}), 422, "validation_failed");
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", std::string(10001, 'x')}}), 422,
               "validation_failed");
  EXPECT_STATUS(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", std::string(10000, 'x')}}), 201);
}

TEST_F(ChatTest, TheAppsMaxMessageBytesSettingApplies) {
  ASSERT_STATUS(http().patch("/v1/admin/apps/" + app_.id, admin_auth(), {{"settings", {{"max_message_bytes", 10}}}}),
                200);
  auto ch = create_channel(alice_, "group", "Team");
  EXPECT_STATUS(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", "0123456789"}}), 201);
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", "0123456789a"}}), 422,
               "validation_failed");
}

TEST_F(ChatTest, OnlyTheAuthorEditsAndAModeratorMayDelete) {
  auto ch = create_channel(alice_, "group", "Team", {"bob", "carol"});
  auto seq = std::to_string(send(bob_, ch, "typo"));
  EXPECT_ERROR(http().patch(ch_path(ch) + "/messages/" + seq, carol_.auth(), {{"text", "hijack"}}), 403, "forbidden");
  auto edit = http().patch(ch_path(ch) + "/messages/" + seq, bob_.auth(), {{"text", "fixed"}});
  ASSERT_STATUS(edit, 200);
  EXPECT_EQ(edit.obj()["message"].as_object()["text"], "fixed");
  EXPECT_TRUE(edit.obj()["message"].as_object()["edited_at"].is_string());
  EXPECT_ERROR(http().del(ch_path(ch) + "/messages/" + seq, carol_.auth()), 403, "forbidden");
  EXPECT_STATUS(http().del(ch_path(ch) + "/messages/" + seq, alice_.auth()), 204);  // the owner moderates
  auto gone = http().get(ch_path(ch) + "/messages/" + seq, bob_.auth());
  ASSERT_STATUS(gone, 200);
  auto m = gone.obj()["message"].as_object();
  EXPECT_TRUE(m["deleted_at"].is_string());
  EXPECT_EQ(m["text"], "");
}

TEST_F(ChatTest, PurgeNeedsAppCredentials) {
  auto ch = create_channel(alice_, "group", "Team");
  auto seq = std::to_string(send(alice_, ch, "erase me"));
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages/" + seq + "/purge", alice_.auth()), 403, "forbidden");
  EXPECT_STATUS(http().post(ch_path(ch) + "/messages/" + seq + "/purge", app_.auth()), 204);
  auto m = http().get(ch_path(ch) + "/messages/" + seq, alice_.auth()).obj()["message"].as_object();
  EXPECT_EQ(m["text"], "");
}

TEST_F(ChatTest, RepliesFormAThread) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto root = send(alice_, ch, "question");
  send(bob_, ch, "answer 1", {{"parent_seq", root}});
  send(alice_, ch, "answer 2", {{"parent_seq", root}});
  auto r = http().get(ch_path(ch) + "/messages/" + std::to_string(root) + "/replies", bob_.auth());
  ASSERT_STATUS(r, 200);
  auto items = r.obj()["items"].as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].as_object()["parent_seq"], root);
  auto parent = http().get(ch_path(ch) + "/messages/" + std::to_string(root), bob_.auth()).obj()["message"];
  EXPECT_EQ(parent.as_object()["reply_count"], 2);
}

TEST_F(ChatTest, ReactionsAreCountedOncePerUserAndType) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto path = ch_path(ch) + "/messages/" + std::to_string(send(alice_, ch, "nice")) + "/reactions";
  ASSERT_STATUS(http().post(path, bob_.auth(), {{"type", "like"}}), 200);
  auto twice = http().post(path, bob_.auth(), {{"type", "like"}});
  ASSERT_STATUS(twice, 200);
  EXPECT_EQ(twice.obj()["message"].as_object()["reactions"], json::parse(R"({"like":1})"));
  EXPECT_EQ(twice.obj()["message"].as_object()["own_reactions"], json::array{"like"});
  auto removed = http().del(path + "/like", bob_.auth());
  ASSERT_STATUS(removed, 200);
  EXPECT_EQ(removed.obj()["message"].as_object()["reactions"], json::object{});
}

TEST_F(ChatTest, ReadStateUnreadCountsAndSeenBy) {
  auto ch = create_channel(alice_, "group", "Team", {"bob", "carol"});
  for (int i = 0; i < 3; ++i) send(alice_, ch, "m" + std::to_string(i));
  auto unread = http().get("/v1/channels/unread", bob_.auth());
  ASSERT_STATUS(unread, 200);
  EXPECT_EQ(unread.obj()["unread_count"], 3);
  EXPECT_EQ(unread.obj()["channels_with_unread"], 1);
  auto read = http().post(ch_path(ch) + "/read", bob_.auth(), {{"seq", 2}});
  ASSERT_STATUS(read, 200);
  EXPECT_EQ(read.obj()["last_read_seq"], 2);
  EXPECT_EQ(read.obj()["unread_count"], 1);
  // Never backwards, never past the end.
  EXPECT_EQ(http().post(ch_path(ch) + "/read", bob_.auth(), {{"seq", 1}}).obj()["last_read_seq"], 2);
  EXPECT_EQ(http().post(ch_path(ch) + "/read", bob_.auth(), {{"seq", 99}}).obj()["last_read_seq"], 3);
  auto seen = http().get(ch_path(ch) + "/messages/2/seen-by", alice_.auth());
  ASSERT_STATUS(seen, 200);
  EXPECT_EQ(seen.obj()["user_ids"], json::array{"bob"});
}

TEST_F(ChatTest, AModeratorPinsAndUnpinsMessages) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto seq = std::to_string(send(bob_, ch, "important"));
  EXPECT_ERROR(http().put(ch_path(ch) + "/pins/" + seq, bob_.auth()), 403, "forbidden");
  EXPECT_STATUS(http().put(ch_path(ch) + "/pins/" + seq, alice_.auth()), 204);
  auto pins = http().get(ch_path(ch) + "/pins", bob_.auth());
  ASSERT_STATUS(pins, 200);
  ASSERT_EQ(pins.obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(pins.obj()["items"].as_array()[0].as_object()["pinned"], true);
  EXPECT_STATUS(http().del(ch_path(ch) + "/pins/" + seq, alice_.auth()), 204);
  EXPECT_TRUE(http().get(ch_path(ch) + "/pins", bob_.auth()).obj()["items"].as_array().empty());
}

TEST_F(ChatTest, SavedMessagesArePerUser) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto seq = std::to_string(send(alice_, ch, "keep this"));
  EXPECT_STATUS(http().put("/v1/saved/" + ch + "/" + seq, bob_.auth()), 204);
  auto saved = http().get("/v1/saved", bob_.auth());
  ASSERT_STATUS(saved, 200);
  ASSERT_EQ(saved.obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(saved.obj()["items"].as_array()[0].as_object()["text"], "keep this");
  EXPECT_TRUE(http().get("/v1/saved", alice_.auth()).obj()["items"].as_array().empty());
  EXPECT_STATUS(http().del("/v1/saved/" + ch + "/" + seq, bob_.auth()), 204);
  EXPECT_TRUE(http().get("/v1/saved", bob_.auth()).obj()["items"].as_array().empty());
}

TEST_F(ChatTest, MentionsReachTheMentionedMember) {
  auto ch = create_channel(alice_, "group", "Team", {"bob", "carol"});
  send(alice_, ch, "hey @bob, look", {});
  send(alice_, ch, "explicit", {{"mentions", {"carol"}}});
  auto bob = http().get("/v1/mentions", bob_.auth());
  ASSERT_STATUS(bob, 200);
  ASSERT_EQ(bob.obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(bob.obj()["items"].as_array()[0].as_object()["text"], "hey @bob, look");
  EXPECT_EQ(http().get("/v1/mentions", carol_.auth()).obj()["items"].as_array().size(), 1u);
  EXPECT_ERROR(http().post(ch_path(ch) + "/messages", alice_.auth(), {{"text", "x"}, {"mentions", {"nobody"}}}), 422,
               "validation_failed");
}

TEST_F(ChatTest, SyncReturnsNewMessagesAndChannelChanges) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  send(alice_, ch, "one");
  send(alice_, ch, "two");
  auto r = http().post("/v1/sync", bob_.auth(), {{"channels", {{ch, 1}}}});
  ASSERT_STATUS(r, 200);
  auto msgs = r.obj()["channels"].as_object()[ch].as_object()["messages"].as_array();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].as_object()["text"], "two");
  auto added = r.obj()["changes"].as_object()["added"].as_array();
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(str(added[0].as_object()["id"]), ch);
  EXPECT_TRUE(r.obj()["cursor"].is_string());
  EXPECT_ERROR(http().post("/v1/sync", bob_.auth(), {{"channels", {{ch, "one"}}}}), 400, "invalid_request");
}

// ---- the tenant wall for chat ----------------------------------------------------------------

class ChatCrossTenantTest : public ChatTest {
 protected:
  void SetUp() override {
    ChatTest::SetUp();
    channel_ = create_channel(alice_, "public", "A's general", {"bob"});
    seq_ = std::to_string(send(alice_, channel_, "A's message"));
    b_ = create_app("app B");
    b_alice_ = ServerFixture::mint(b_, "alice");  // same user id, other app
    b_zed_ = ServerFixture::mint(b_, "zed");
  }
  std::string channel_, seq_;
  AppCreds b_;
  UserTokens b_alice_, b_zed_;
};

TEST_F(ChatCrossTenantTest, EveryChannelRouteOfAppAIsNotFoundForAppBsUsers) {
  std::string c = ch_path(channel_), m = c + "/messages/" + seq_;
  for (const UserTokens* who : {&b_alice_, &b_zed_}) {
    auto auth = who->auth();
    auto h = [&](const char* method, const std::string& path) {
      HttpRequest r;
      r.method = method;
      r.target = path;
      r.headers = {{"Authorization", *auth.header}};
      return r;
    };
    auto with_body = [&](const char* method, const std::string& path, const json::value& body) {
      auto r = h(method, path);
      r.body = json::serialize(body);
      return r;
    };
    std::vector<HttpRequest> requests{
        h("GET", c),
        with_body("PATCH", c, {{"name", "taken"}}),
        h("POST", c + "/archive"),
        h("POST", c + "/unarchive"),
        h("GET", c + "/members"),
        with_body("POST", c + "/members", {{"user_ids", {"zed"}}}),
        with_body("PATCH", c + "/members/bob", {{"role", "admin"}}),
        h("DELETE", c + "/members/bob"),
        h("POST", c + "/join"),
        h("POST", c + "/leave"),
        with_body("PATCH", c + "/membership", {{"muted", true}}),
        h("GET", c + "/messages"),
        with_body("POST", c + "/messages", {{"text", "intruder"}}),
        h("GET", m),
        with_body("PATCH", m, {{"text", "rewritten"}}),
        h("GET", m + "/replies"),
        with_body("POST", m + "/reactions", {{"type", "like"}}),
        h("DELETE", m + "/reactions/like"),
        h("GET", m + "/seen-by"),
        with_body("POST", c + "/read", {{"seq", 1}}),
        h("PUT", c + "/pins/" + seq_),
        h("DELETE", c + "/pins/" + seq_),
        h("GET", c + "/pins"),
        h("PUT", "/v1/saved/" + channel_ + "/" + seq_),
        h("DELETE", "/v1/saved/" + channel_ + "/" + seq_),
        h("DELETE", m),
        h("DELETE", c),
    };
    for (const auto& req : requests) {
      EXPECT_ERROR(http().send(req), 404, "not_found") << req.method << " " << req.target;
    }
  }
  // Nothing of A changed.
  auto ch = http().get(ch_path(channel_), alice_.auth());
  ASSERT_STATUS(ch, 200);
  EXPECT_EQ(ch.obj()["channel"].as_object()["name"], "A's general");
  EXPECT_EQ(ch.obj()["channel"].as_object()["member_count"], 2);
  EXPECT_TRUE(ch.obj()["channel"].as_object()["archived_at"].is_null());
  auto msg = http().get(ch_path(channel_) + "/messages/" + seq_, alice_.auth()).obj()["message"].as_object();
  EXPECT_EQ(msg["text"], "A's message");
  EXPECT_EQ(msg["reactions"], json::object{});
  EXPECT_EQ(http().get(ch_path(channel_), alice_.auth()).obj()["channel"].as_object()["last_seq"], 1);
}

TEST_F(ChatCrossTenantTest, PurgingWithAppBsCredentialsIsNotFound) {
  EXPECT_ERROR(http().post(ch_path(channel_) + "/messages/" + seq_ + "/purge", b_.auth()), 404, "not_found");
  EXPECT_EQ(http().get(ch_path(channel_) + "/messages/" + seq_, alice_.auth()).obj()["message"].as_object()["text"],
            "A's message");
}

TEST_F(ChatCrossTenantTest, AppBsPublicChannelListDoesNotShowAppAsChannels) {
  auto r = http().get("/v1/channels/public", b_zed_.auth());
  ASSERT_STATUS(r, 200);
  EXPECT_TRUE(r.obj()["items"].as_array().empty()) << r.body;
  EXPECT_TRUE(http().get("/v1/channels", b_alice_.auth()).obj()["items"].as_array().empty());
}

TEST_F(ChatCrossTenantTest, ADirectMessageToAUserOfAnotherAppIsNotFound) {
  EXPECT_ERROR(http().post("/v1/channels/dm", b_zed_.auth(), {{"user_id", "bob"}}), 404, "not_found");
}

TEST_F(ChatCrossTenantTest, AddingAUserOfAnotherAppToAChannelFails) {
  auto mine = create_channel(b_zed_, "group", "B's group");
  auto r = http().post(ch_path(mine) + "/members", b_zed_.auth(), {{"user_ids", {"bob"}}});
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_LT(r.status, 500) << r.body;
  EXPECT_ERROR(http().get(ch_path(mine), bob_.auth()), 404, "not_found");
}

TEST_F(ChatCrossTenantTest, SyncingAppAsChannelReportsItRemovedAndLeaksNoMessages) {
  auto r = http().post("/v1/sync", b_alice_.auth(), {{"channels", {{channel_, 0}}}});
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.body.find("A's message"), std::string::npos) << r.body;
  auto removed = r.obj()["changes"].as_object()["removed"].as_array();
  EXPECT_NE(std::find(removed.begin(), removed.end(), json::value(channel_)), removed.end()) << r.body;
}

TEST_F(ChatCrossTenantTest, AppBsMentionsAndSavedDoNotShowAppAsMessages) {
  send(alice_, channel_, "hi @alice");
  EXPECT_TRUE(http().get("/v1/mentions", b_alice_.auth()).obj()["items"].as_array().empty());
  EXPECT_TRUE(http().get("/v1/saved", b_alice_.auth()).obj()["items"].as_array().empty());
  EXPECT_EQ(http().get("/v1/channels/unread", b_alice_.auth()).obj()["unread_count"], 0);
}

}  // namespace
}  // namespace parley::test
