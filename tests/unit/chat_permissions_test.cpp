// The permission rules of chat/permissions.hpp, rule by rule, in each channel type: who may
// post, edit, delete, pin, add and remove members, change roles, and the denials.
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

#include "chat/permissions.hpp"

namespace parley::store {
// Failure messages name the type and role a case ran with.
std::ostream& operator<<(std::ostream& os, ChannelType t) { return os << channel_type_name(t); }
std::ostream& operator<<(std::ostream& os, Role r) { return os << role_name(r); }
}  // namespace parley::store

namespace parley::chat {
namespace {

using rules::Member;
using store::ChannelType;
using store::Role;

store::ChannelRecord channel(ChannelType type) {
  store::ChannelRecord c;
  c.app_id = "app";
  c.id = "ch";
  c.type = type;
  c.member_count = 3;
  return c;
}
store::ChannelRecord archived(ChannelType type) {
  auto c = channel(type);
  c.archived_at = 1;
  return c;
}
store::ChannelRecord deleted(ChannelType type) {
  auto c = channel(type);
  c.deleted_at = 1;
  return c;
}
Member member(Role role, const std::string& user = "me") {
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

constexpr ChannelType kTypes[] = {ChannelType::group, ChannelType::public_, ChannelType::dm};
constexpr Role kRoles[] = {Role::member, Role::moderator, Role::admin, Role::owner};

TEST(ChatPermissions, RolesRankOwnerAdminModeratorMemberAndOnlyThreeAreGranted) {
  EXPECT_GT(Role::owner, Role::admin);
  EXPECT_GT(Role::admin, Role::moderator);
  EXPECT_GT(Role::moderator, Role::member);
  EXPECT_TRUE(rules::at_least(member(Role::admin), Role::admin));
  EXPECT_TRUE(rules::at_least(member(Role::owner), Role::admin));
  EXPECT_FALSE(rules::at_least(member(Role::moderator), Role::admin));
  EXPECT_FALSE(rules::at_least(kNobody, Role::member));
  EXPECT_TRUE(grantable(Role::admin));
  EXPECT_TRUE(grantable(Role::moderator));
  EXPECT_TRUE(grantable(Role::member));
  EXPECT_FALSE(grantable(Role::owner));
}

TEST(ChatPermissions, ReadingNeedsMembershipExceptInPublicChannels) {
  EXPECT_EQ(code(rules::may_read(channel(ChannelType::public_), kNobody)), kAllowed);
  EXPECT_EQ(code(rules::may_read(channel(ChannelType::group), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_read(channel(ChannelType::dm), kNobody)), Errc::not_found);
  for (ChannelType t : kTypes) {
    EXPECT_EQ(code(rules::may_read(channel(t), member(Role::member))), kAllowed) << t;
    EXPECT_EQ(code(rules::may_read(archived(t), member(Role::member))), kAllowed) << t;
    EXPECT_EQ(code(rules::may_read(deleted(t), member(Role::owner))), Errc::not_found) << t;
  }
}

TEST(ChatPermissions, EveryMemberPostsInAnyTypeUnlessArchived) {
  for (ChannelType t : kTypes) {
    for (Role r : kRoles) {
      EXPECT_EQ(code(rules::may_post(channel(t), member(r))), kAllowed) << t << " " << r;
      EXPECT_EQ(code(rules::may_post(archived(t), member(r))), Errc::conflict) << t << " " << r;
      EXPECT_EQ(code(rules::may_post(deleted(t), member(r))), Errc::not_found) << t << " " << r;
    }
  }
  EXPECT_EQ(code(rules::may_post(channel(ChannelType::public_), kNobody)), Errc::forbidden);  // join first
  EXPECT_EQ(rules::may_post(channel(ChannelType::public_), kNobody).error().message, "join the channel first");
  EXPECT_EQ(code(rules::may_post(channel(ChannelType::group), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_post(channel(ChannelType::dm), kNobody)), Errc::not_found);
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
  for (ChannelType t : kTypes) {
    for (Role r : kRoles) {
      EXPECT_EQ(code(rules::may_edit(channel(t), member(r), message("me"), "new", std::nullopt, 100)), kAllowed);
      EXPECT_EQ(code(rules::may_edit(channel(t), member(r), message("other"), "new", std::nullopt, 100)),
                Errc::forbidden)
          << t << " " << r;  // not even the owner
      EXPECT_EQ(code(rules::may_edit(channel(t), member(r), message("me", true), "new", std::nullopt, 100)),
                Errc::not_found);
      EXPECT_EQ(code(rules::may_edit(archived(t), member(r), message("me"), "new", std::nullopt, 100)), Errc::conflict);
    }
  }
  EXPECT_EQ(
      code(rules::may_edit(channel(ChannelType::group), member(Role::member), std::nullopt, "new", std::nullopt, 100)),
      Errc::not_found);
  EXPECT_EQ(code(rules::may_edit(channel(ChannelType::public_), kNobody, message("me"), "new", std::nullopt, 100)),
            Errc::forbidden);
}

TEST(ChatPermissions, AnEditKeepsTheMessageNonEmptyAndWithinTheLimit) {
  auto ch = channel(ChannelType::group);
  auto me = member(Role::member);
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
  for (ChannelType t : kTypes) {
    EXPECT_EQ(code(rules::may_delete_message(channel(t), member(Role::member), message("me"))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_message(channel(t), member(Role::member), message("other"))), Errc::forbidden);
    for (Role r : {Role::moderator, Role::admin, Role::owner}) {
      EXPECT_EQ(code(rules::may_delete_message(channel(t), member(r), message("other"))), kAllowed) << t << r;
    }
    EXPECT_EQ(code(rules::may_delete_message(channel(t), member(Role::member), message("me", true))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_message(archived(t), member(Role::owner), message("me"))), Errc::conflict);
  }
  EXPECT_EQ(code(rules::may_delete_message(channel(ChannelType::group), member(Role::owner), std::nullopt)),
            Errc::not_found);
  EXPECT_EQ(code(rules::may_delete_message(channel(ChannelType::public_), kNobody, message("me"))), Errc::forbidden);
}

TEST(ChatPermissions, MembersReactToMessagesThatAreNotDeleted) {
  for (ChannelType t : kTypes) {
    EXPECT_EQ(code(rules::may_react(channel(t), member(Role::member), message("other"))), kAllowed);
    EXPECT_EQ(code(rules::may_react(channel(t), member(Role::member), message("other", true))), Errc::not_found);
    EXPECT_EQ(code(rules::may_react(archived(t), member(Role::member), message("other"))), Errc::conflict);
  }
  EXPECT_EQ(code(rules::may_react(channel(ChannelType::public_), kNobody, message("other"))), Errc::forbidden);
}

TEST(ChatPermissions, ModeratorsAndAbovePinAndUnpin) {
  for (ChannelType t : kTypes) {
    EXPECT_EQ(code(rules::may_pin(channel(t), member(Role::member), message("me"), true)), Errc::forbidden) << t;
    EXPECT_EQ(code(rules::may_pin(channel(t), member(Role::member), message("me"), false)), Errc::forbidden) << t;
    for (Role r : {Role::moderator, Role::admin, Role::owner}) {
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other"), true)), kAllowed) << t << r;
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other"), false)), kAllowed) << t << r;
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other", true), true)), Errc::not_found);
      EXPECT_EQ(code(rules::may_pin(channel(t), member(r), message("other", true), false)), kAllowed);
      EXPECT_EQ(code(rules::may_pin(archived(t), member(r), message("other"), true)), Errc::conflict);
    }
  }
  EXPECT_EQ(code(rules::may_pin(channel(ChannelType::group), member(Role::admin), std::nullopt, false)),
            Errc::not_found);
}

TEST(ChatPermissions, OwnersAndAdminsAddMembersToGroupAndPublicChannels) {
  for (ChannelType t : {ChannelType::group, ChannelType::public_}) {
    EXPECT_EQ(code(rules::may_add_members(channel(t), member(Role::owner))), kAllowed);
    EXPECT_EQ(code(rules::may_add_members(channel(t), member(Role::admin))), kAllowed);
    EXPECT_EQ(code(rules::may_add_members(channel(t), member(Role::moderator))), Errc::forbidden);
    EXPECT_EQ(code(rules::may_add_members(channel(t), member(Role::member))), Errc::forbidden);
    EXPECT_EQ(code(rules::may_add_members(archived(t), member(Role::owner))), Errc::conflict);
  }
  for (Role r : kRoles) EXPECT_EQ(code(rules::may_add_members(channel(ChannelType::dm), member(r))), Errc::forbidden);
  EXPECT_EQ(code(rules::may_add_members(channel(ChannelType::public_), kNobody)), Errc::forbidden);
}

TEST(ChatPermissions, OwnersAndAdminsRemoveAnyoneButTheOwner) {
  for (ChannelType t : {ChannelType::group, ChannelType::public_}) {
    for (Role r : {Role::owner, Role::admin}) {
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member(Role::member, "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member(Role::admin, "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member(Role::owner, "u"))), Errc::forbidden);
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), kNobody)), Errc::not_found);
      EXPECT_EQ(code(rules::may_remove_member(archived(t), member(r), member(Role::member, "u"))), Errc::conflict);
    }
    for (Role r : {Role::moderator, Role::member}) {
      EXPECT_EQ(code(rules::may_remove_member(channel(t), member(r), member(Role::member, "u"))), Errc::forbidden);
    }
  }
  for (Role r : kRoles) {
    EXPECT_EQ(code(rules::may_remove_member(channel(ChannelType::dm), member(r), member(Role::member, "u"))),
              Errc::forbidden);
  }
}

TEST(ChatPermissions, OwnersAndAdminsChangeAnyRoleButTheOwners) {
  for (ChannelType t : kTypes) {
    for (Role r : {Role::owner, Role::admin}) {
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member(Role::member, "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member(Role::moderator, "u"))), kAllowed);
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member(Role::owner, "u"))), Errc::forbidden);
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), kNobody)), Errc::not_found);
      EXPECT_EQ(code(rules::may_set_role(archived(t), member(r), member(Role::member, "u"))), Errc::conflict);
    }
    for (Role r : {Role::moderator, Role::member}) {
      EXPECT_EQ(code(rules::may_set_role(channel(t), member(r), member(Role::member, "u"))), Errc::forbidden);
    }
  }
}

TEST(ChatPermissions, JoiningTakesAReadableChannelThatIsNotArchived) {
  EXPECT_EQ(code(rules::may_join(channel(ChannelType::public_), kNobody)), kAllowed);
  EXPECT_EQ(code(rules::may_join(archived(ChannelType::public_), kNobody)), Errc::conflict);
  EXPECT_EQ(code(rules::may_join(channel(ChannelType::group), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_join(channel(ChannelType::dm), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_join(archived(ChannelType::group), member(Role::member))),
            kAllowed);  // already in: no change
  EXPECT_EQ(code(rules::may_join(deleted(ChannelType::public_), kNobody)), Errc::not_found);
}

TEST(ChatPermissions, MembersLeaveExceptFromADmAndExceptTheOwnerWhileOthersRemain) {
  for (ChannelType t : {ChannelType::group, ChannelType::public_}) {
    EXPECT_EQ(code(rules::may_leave(channel(t), member(Role::member))), kAllowed);
    EXPECT_EQ(code(rules::may_leave(channel(t), member(Role::admin))), kAllowed);
    EXPECT_EQ(code(rules::may_leave(channel(t), member(Role::owner))), Errc::conflict);
    auto alone = channel(t);
    alone.member_count = 1;
    EXPECT_EQ(code(rules::may_leave(alone, member(Role::owner))), kAllowed);
    EXPECT_EQ(code(rules::may_leave(archived(t), member(Role::member))), kAllowed);
  }
  EXPECT_EQ(code(rules::may_leave(channel(ChannelType::dm), member(Role::member))), Errc::forbidden);
  EXPECT_EQ(code(rules::may_leave(channel(ChannelType::public_), kNobody)), Errc::not_found);
}

TEST(ChatPermissions, ChannelSettingsBelongToOwnersAndAdminsOfGroupAndPublicChannels) {
  for (ChannelType t : {ChannelType::group, ChannelType::public_}) {
    for (Role r : {Role::owner, Role::admin}) {
      EXPECT_EQ(code(rules::may_update_channel(channel(t), member(r))), kAllowed);
      EXPECT_EQ(code(rules::may_archive(channel(t), member(r))), kAllowed);
      EXPECT_EQ(code(rules::may_archive(archived(t), member(r))), kAllowed);  // unarchive
      EXPECT_EQ(code(rules::may_update_channel(archived(t), member(r))), Errc::conflict);
    }
    for (Role r : {Role::moderator, Role::member}) {
      EXPECT_EQ(code(rules::may_update_channel(channel(t), member(r))), Errc::forbidden);
      EXPECT_EQ(code(rules::may_archive(channel(t), member(r))), Errc::forbidden);
    }
    EXPECT_EQ(code(rules::may_delete_channel(channel(t), member(Role::owner))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_channel(archived(t), member(Role::owner))), kAllowed);
    EXPECT_EQ(code(rules::may_delete_channel(channel(t), member(Role::admin))), Errc::forbidden);
  }
  EXPECT_EQ(code(rules::may_archive(channel(ChannelType::public_), kNobody)), Errc::forbidden);
  EXPECT_EQ(code(rules::may_delete_channel(channel(ChannelType::public_), kNobody)), Errc::forbidden);
  for (Role r : kRoles) {
    EXPECT_EQ(code(rules::may_update_channel(channel(ChannelType::dm), member(r))), Errc::forbidden);
    EXPECT_EQ(code(rules::may_archive(channel(ChannelType::dm), member(r))), Errc::forbidden);
  }
  EXPECT_EQ(code(rules::may_delete_channel(channel(ChannelType::dm), member(Role::member))), Errc::forbidden);
}

TEST(ChatPermissions, ReadStateSavedMessagesAndMembershipSettingsAreForMembers) {
  for (ChannelType t : kTypes) {
    EXPECT_EQ(code(rules::may_mark_read(channel(t), member(Role::member))), kAllowed);
    EXPECT_EQ(code(rules::may_save(archived(t), member(Role::member))), kAllowed);
    EXPECT_EQ(code(rules::may_update_membership(archived(t), member(Role::member))), kAllowed);
  }
  EXPECT_EQ(code(rules::may_mark_read(channel(ChannelType::public_), kNobody)), Errc::forbidden);
  EXPECT_EQ(code(rules::may_save(channel(ChannelType::public_), kNobody)), Errc::forbidden);
  EXPECT_EQ(code(rules::may_update_membership(channel(ChannelType::public_), kNobody)), Errc::not_found);
  EXPECT_EQ(code(rules::may_mark_read(channel(ChannelType::group), kNobody)), Errc::not_found);
}

}  // namespace
}  // namespace parley::chat
