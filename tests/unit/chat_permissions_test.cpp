// The permission rules of chat/permissions.hpp, rule by rule, in each channel type: who may
// post, edit, delete, pin, add and remove members, change roles, and the denials.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "chat/permissions.hpp"

namespace parley::chat {
namespace {

using rules::Member;

store::ChannelRecord channel(const std::string& type) {
  store::ChannelRecord c;
  c.app_id = "app";
  c.id = "ch";
  c.type = type;
  c.member_count = 3;
  return c;
}
store::ChannelRecord archived(const std::string& type) {
  auto c = channel(type);
  c.archived_at = 1;
  return c;
}
store::ChannelRecord deleted(const std::string& type) {
  auto c = channel(type);
  c.deleted_at = 1;
  return c;
}
Member member(const std::string& role, const std::string& user = "me") {
  store::MemberRecord m;
  m.app_id = "app";
  m.channel_id = "ch";
  m.user_id = user;
  m.role = role;
  return m;
}
const Member kNobody = std::nullopt;
std::optional<store::MessageRecord> message(const std::string& author, bool is_deleted = false) {
  store::MessageRecord m;
  m.user_id = author;
  m.seq = 7;
  m.text = "hello";
  if (is_deleted) m.deleted_at = 1;
  return m;
}

Errc code(const Status& s) { return s ? Errc::internal : s.error().code; }  // internal: stands for "allowed"
constexpr Errc kAllowed = Errc::internal;

const char* const kTypes[] = {"group", "public", "dm"};
const char* const kRoles[] = {"member", "moderator", "admin", "owner"};

TEST(ChatPermissions, RolesRankOwnerAdminModeratorMemberAndOnlyThreeAreGranted) {
  EXPECT_GT(role_rank("owner"), role_rank("admin"));
  EXPECT_GT(role_rank("admin"), role_rank("moderator"));
  EXPECT_GT(role_rank("moderator"), role_rank("member"));
  EXPECT_EQ(role_rank("nobody"), 0);
  EXPECT_TRUE(valid_role("admin"));
  EXPECT_TRUE(valid_role("moderator"));
  EXPECT_TRUE(valid_role("member"));
  EXPECT_FALSE(valid_role("owner"));
  EXPECT_FALSE(valid_role(""));
}

TEST(ChatPermissions, ReadingNeedsMembershipExceptInPublicChannels) {
  EXPECT_EQ(code(rules::may_read(channel("public"), kNobody)), kAllowed);
  EXPECT_EQ(code(rules::may_read(channel("group"), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_read(channel("dm"), kNobody)), Errc::not_found);
  for (const char* t : kTypes) {
    EXPECT_EQ(code(rules::may_read(channel(t), member("member"))), kAllowed) << t;
    EXPECT_EQ(code(rules::may_read(archived(t), member("member"))), kAllowed) << t;
    EXPECT_EQ(code(rules::may_read(deleted(t), member("owner"))), Errc::not_found) << t;
  }
}

TEST(ChatPermissions, EveryMemberPostsInAnyTypeUnlessArchived) {
  for (const char* t : kTypes) {
    for (const char* r : kRoles) {
      EXPECT_EQ(code(rules::may_post(channel(t), member(r))), kAllowed) << t << " " << r;
      EXPECT_EQ(code(rules::may_post(archived(t), member(r))), Errc::conflict) << t << " " << r;
      EXPECT_EQ(code(rules::may_post(deleted(t), member(r))), Errc::not_found) << t << " " << r;
    }
  }
  EXPECT_EQ(code(rules::may_post(channel("public"), kNobody)), Errc::forbidden);  // join first
  EXPECT_EQ(rules::may_post(channel("public"), kNobody).error().message, "join the channel first");
  EXPECT_EQ(code(rules::may_post(channel("group"), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_post(channel("dm"), kNobody)), Errc::not_found);
}

TEST(ChatPermissions, NewContentIsBoundedAndNotEmpty) {
  EXPECT_EQ(code(rules::check_new_content("hi", 0, 10)), kAllowed);
  EXPECT_EQ(code(rules::check_new_content("", 1, 10)), kAllowed);  // attachments only
  EXPECT_EQ(code(rules::check_new_content("", 0, 10)), Errc::validation_failed);
  EXPECT_EQ(code(rules::check_new_content(std::string(10, 'x'), 0, 10)), kAllowed);
  EXPECT_EQ(code(rules::check_new_content(std::string(11, 'x'), 0, 10)), Errc::validation_failed);
  EXPECT_EQ(code(rules::may_post_in_dm(false)), kAllowed);
  EXPECT_EQ(code(rules::may_post_in_dm(true)), Errc::forbidden);
}

TEST(ChatPermissions, OnlyTheAuthorEditsAnUndeletedMessage) {
  for (const char* t : kTypes) {
    for (const char* r : kRoles) {
      EXPECT_EQ(code(rules::may_edit(channel(t), member(r), message("me"), "new", std::nullopt, 100)), kAllowed);
      EXPECT_EQ(code(rules::may_edit(channel(t), member(r), message("other"), "new", std::nullopt, 100)),
                Errc::forbidden)
          << t << " " << r;  // not even the owner
      EXPECT_EQ(code(rules::may_edit(channel(t), member(r), message("me", true), "new", std::nullopt, 100)),
                Errc::not_found);
      EXPECT_EQ(code(rules::may_edit(archived(t), member(r), message("me"), "new", std::nullopt, 100)), Errc::conflict);
    }
  }
  EXPECT_EQ(code(rules::may_edit(channel("group"), member("member"), std::nullopt, "new", std::nullopt, 100)),
            Errc::not_found);
  EXPECT_EQ(code(rules::may_edit(channel("public"), kNobody, message("me"), "new", std::nullopt, 100)),
            Errc::forbidden);
}

TEST(ChatPermissions, AnEditKeepsTheMessageNonEmptyAndWithinTheLimit) {
  auto ch = channel("group");
  auto me = member("member");
  EXPECT_EQ(code(rules::may_edit(ch, me, message("me"), "", std::nullopt, 100)), Errc::validation_failed);
  EXPECT_EQ(code(rules::may_edit(ch, me, message("me"), "", std::string("[{}]"), 100)), kAllowed);
  auto with_file = message("me");
  with_file->attachments_json = "[{}]";
  EXPECT_EQ(code(rules::may_edit(ch, me, with_file, "", std::nullopt, 100)), kAllowed);
  EXPECT_EQ(code(rules::may_edit(ch, me, with_file, "", std::string("[]"), 100)), Errc::validation_failed);
  EXPECT_EQ(code(rules::may_edit(ch, me, message("me"), std::string(101, 'x'), std::nullopt, 100)),
            Errc::validation_failed);
}

TEST(ChatPermissions, TheAuthorOrAModeratorAndAboveDeletesAMessage) {
  for (const char* t : kTypes) {
    EXPECT_EQ(code(rules::may_delete_message(channel(t), member("member"), message("me"))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_message(channel(t), member("member"), message("other"))), Errc::forbidden);
    for (const char* r : {"moderator", "admin", "owner"}) {
      EXPECT_EQ(code(rules::may_delete_message(channel(t), member(r), message("other"))), kAllowed) << t << r;
    }
    EXPECT_EQ(code(rules::may_delete_message(channel(t), member("member"), message("me", true))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_message(archived(t), member("owner"), message("me"))), Errc::conflict);
  }
  EXPECT_EQ(code(rules::may_delete_message(channel("group"), member("owner"), std::nullopt)), Errc::not_found);
  EXPECT_EQ(code(rules::may_delete_message(channel("public"), kNobody, message("me"))), Errc::forbidden);
}

TEST(ChatPermissions, MembersReactToMessagesThatAreNotDeleted) {
  for (const char* t : kTypes) {
    EXPECT_EQ(code(rules::may_react(channel(t), member("member"), message("other"))), kAllowed);
    EXPECT_EQ(code(rules::may_react(channel(t), member("member"), message("other", true))), Errc::not_found);
    EXPECT_EQ(code(rules::may_react(archived(t), member("member"), message("other"))), Errc::conflict);
  }
  EXPECT_EQ(code(rules::may_react(channel("public"), kNobody, message("other"))), Errc::forbidden);
}

TEST(ChatPermissions, ModeratorsAndAbovePinAndUnpin) {
  for (const char* t : kTypes) {
    EXPECT_EQ(code(rules::may_pin(channel(t), member("member"), message("me"), true)), Errc::forbidden) << t;
    EXPECT_EQ(code(rules::may_pin(channel(t), member("member"), message("me"), false)), Errc::forbidden) << t;
    for (const char* r : {"moderator", "admin", "owner"}) {
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other"), true)), kAllowed) << t << r;
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other"), false)), kAllowed) << t << r;
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other", true), true)), Errc::not_found);
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other", true), false)), kAllowed);
      EXPECT_EQ(code(rules::may_pin(archived(t), member(r), message("other"), true)), Errc::conflict);
    }
  }
  EXPECT_EQ(code(rules::may_pin(channel("group"), member("admin"), std::nullopt, false)), Errc::not_found);
}

TEST(ChatPermissions, OwnersAndAdminsAddMembersToGroupAndPublicChannels) {
  for (const char* t : {"group", "public"}) {
    EXPECT_EQ(code(rules::may_add_members(channel(t), member("owner"))), kAllowed);
    EXPECT_EQ(code(rules::may_add_members(channel(t), member("admin"))), kAllowed);
    EXPECT_EQ(code(rules::may_add_members(channel(t), member("moderator"))), Errc::forbidden);
    EXPECT_EQ(code(rules::may_add_members(channel(t), member("member"))), Errc::forbidden);
    EXPECT_EQ(code(rules::may_add_members(archived(t), member("owner"))), Errc::conflict);
  }
  for (const char* r : kRoles) EXPECT_EQ(code(rules::may_add_members(channel("dm"), member(r))), Errc::forbidden);
  EXPECT_EQ(code(rules::may_add_members(channel("public"), kNobody)), Errc::forbidden);
}

TEST(ChatPermissions, OwnersAndAdminsRemoveAnyoneButTheOwner) {
  for (const char* t : {"group", "public"}) {
    for (const char* r : {"owner", "admin"}) {
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member("member", "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member("admin", "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member("owner", "u"))), Errc::forbidden);
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), kNobody)), Errc::not_found);
      EXPECT_EQ(code(rules::may_remove_member(archived(t), member(r), member("member", "u"))), Errc::conflict);
    }
    for (const char* r : {"moderator", "member"}) {
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member("member", "u"))), Errc::forbidden);
    }
  }
  for (const char* r : kRoles) {
    EXPECT_EQ(code(rules::may_remove_member(channel("dm"), member(r), member("member", "u"))), Errc::forbidden);
  }
}

TEST(ChatPermissions, OwnersAndAdminsChangeAnyRoleButTheOwners) {
  for (const char* t : kTypes) {
    for (const char* r : {"owner", "admin"}) {
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member("member", "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member("moderator", "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member("owner", "u"))), Errc::forbidden);
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), kNobody)), Errc::not_found);
      EXPECT_EQ(code(rules::may_set_role(archived(t), member(r), member("member", "u"))), Errc::conflict);
    }
    for (const char* r : {"moderator", "member"}) {
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member("member", "u"))), Errc::forbidden);
    }
  }
}

TEST(ChatPermissions, JoiningTakesAReadableChannelThatIsNotArchived) {
  EXPECT_EQ(code(rules::may_join(channel("public"), kNobody)), kAllowed);
  EXPECT_EQ(code(rules::may_join(archived("public"), kNobody)), Errc::conflict);
  EXPECT_EQ(code(rules::may_join(channel("group"), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_join(channel("dm"), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_join(archived("group"), member("member"))), kAllowed);  // already in: no change
  EXPECT_EQ(code(rules::may_join(deleted("public"), kNobody)), Errc::not_found);
}

TEST(ChatPermissions, MembersLeaveExceptFromADmAndExceptTheOwnerWhileOthersRemain) {
  for (const char* t : {"group", "public"}) {
    EXPECT_EQ(code(rules::may_leave(channel(t), member("member"))), kAllowed);
    EXPECT_EQ(code(rules::may_leave(channel(t), member("admin"))), kAllowed);
    EXPECT_EQ(code(rules::may_leave(channel(t), member("owner"))), Errc::conflict);
    auto alone = channel(t);
    alone.member_count = 1;
    EXPECT_EQ(code(rules::may_leave(alone, member("owner"))), kAllowed);
    EXPECT_EQ(code(rules::may_leave(archived(t), member("member"))), kAllowed);
  }
  EXPECT_EQ(code(rules::may_leave(channel("dm"), member("member"))), Errc::forbidden);
  EXPECT_EQ(code(rules::may_leave(channel("public"), kNobody)), Errc::not_found);
}

TEST(ChatPermissions, ChannelSettingsBelongToOwnersAndAdminsOfGroupAndPublicChannels) {
  for (const char* t : {"group", "public"}) {
    for (const char* r : {"owner", "admin"}) {
      EXPECT_EQ(code(rules::may_update_channel(channel(t), member(r))), kAllowed);
      EXPECT_EQ(code(rules::may_archive(channel(t), member(r))), kAllowed);
      EXPECT_EQ(code(rules::may_archive(archived(t), member(r))), kAllowed);  // unarchive
      EXPECT_EQ(code(rules::may_update_channel(archived(t), member(r))), Errc::conflict);
    }
    for (const char* r : {"moderator", "member"}) {
      EXPECT_EQ(code(rules::may_update_channel(channel(t), member(r))), Errc::forbidden);
      EXPECT_EQ(code(rules::may_archive(channel(t), member(r))), Errc::forbidden);
    }
    EXPECT_EQ(code(rules::may_delete_channel(channel(t), member("owner"))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_channel(archived(t), member("owner"))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_channel(channel(t), member("admin"))), Errc::forbidden);
  }
  EXPECT_EQ(code(rules::may_archive(channel("public"), kNobody)), Errc::forbidden);
  EXPECT_EQ(code(rules::may_delete_channel(channel("public"), kNobody)), Errc::forbidden);
  for (const char* r : kRoles) {
    EXPECT_EQ(code(rules::may_update_channel(channel("dm"), member(r))), Errc::forbidden);
    EXPECT_EQ(code(rules::may_archive(channel("dm"), member(r))), Errc::forbidden);
  }
  EXPECT_EQ(code(rules::may_delete_channel(channel("dm"), member("member"))), Errc::forbidden);
}

TEST(ChatPermissions, ReadStateSavedMessagesAndMembershipSettingsAreForMembers) {
  for (const char* t : kTypes) {
    EXPECT_EQ(code(rules::may_mark_read(channel(t), member("member"))), kAllowed);
    EXPECT_EQ(code(rules::may_save(archived(t), member("member"))), kAllowed);
    EXPECT_EQ(code(rules::may_update_membership(archived(t), member("member"))), kAllowed);
  }
  EXPECT_EQ(code(rules::may_mark_read(channel("public"), kNobody)), Errc::forbidden);
  EXPECT_EQ(code(rules::may_save(channel("public"), kNobody)), Errc::forbidden);
  EXPECT_EQ(code(rules::may_update_membership(channel("public"), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_mark_read(channel("group"), kNobody)), Errc::not_found);
}

}  // namespace
}  // namespace parley::chat
