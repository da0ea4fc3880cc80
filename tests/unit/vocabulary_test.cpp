// The domain vocabulary's names: roles, channel types and event types are enums inside and
// names at the edges (JSON, database rows, frames). Every enumerator has its wire name and
// reads back from it; anything else reads as nothing.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "bus/event_type.hpp"
#include "store/chat_types.hpp"

namespace parley {
namespace {

using bus::EventType;
using store::ChannelType;
using store::Role;

TEST(Vocabulary, EveryRoleHasItsNameAndReadsBackFromIt) {
  const std::pair<Role, std::string_view> names[] = {
      {Role::member, "member"}, {Role::moderator, "moderator"}, {Role::admin, "admin"}, {Role::owner, "owner"}};
  for (const auto& [role, name] : names) {
    EXPECT_EQ(store::role_name(role), name);
    EXPECT_EQ(store::parse_role(name), role) << name;
  }
}

TEST(Vocabulary, RolesAreInRankOrder) {
  EXPECT_LT(Role::member, Role::moderator);
  EXPECT_LT(Role::moderator, Role::admin);
  EXPECT_LT(Role::admin, Role::owner);
}

TEST(Vocabulary, EveryChannelTypeHasItsNameAndReadsBackFromIt) {
  const std::pair<ChannelType, std::string_view> names[] = {
      {ChannelType::dm, "dm"}, {ChannelType::group, "group"}, {ChannelType::public_, "public"}};
  for (const auto& [type, name] : names) {
    EXPECT_EQ(store::channel_type_name(type), name);
    EXPECT_EQ(store::parse_channel_type(name), type) << name;
  }
}

TEST(Vocabulary, EveryEventTypeHasItsWireNameAndReadsBackFromIt) {
  const std::pair<EventType, std::string_view> names[] = {
      {EventType::channel_created, "channel.created"},   {EventType::channel_updated, "channel.updated"},
      {EventType::channel_deleted, "channel.deleted"},   {EventType::member_added, "member.added"},
      {EventType::member_removed, "member.removed"},     {EventType::member_updated, "member.updated"},
      {EventType::message_new, "message.new"},           {EventType::message_updated, "message.updated"},
      {EventType::message_deleted, "message.deleted"},   {EventType::thread_reply, "thread.reply"},
      {EventType::reaction_added, "reaction.added"},     {EventType::reaction_removed, "reaction.removed"},
      {EventType::read_updated, "read.updated"},         {EventType::unread_changed, "unread.changed"},
      {EventType::presence_changed, "presence.changed"}, {EventType::typing_start, "typing.start"},
      {EventType::typing_stop, "typing.stop"},           {EventType::user_updated, "user.updated"},
      {EventType::user_deactivated, "user.deactivated"}, {EventType::user_reactivated, "user.reactivated"}};
  std::set<std::string_view> seen;
  for (const auto& [type, name] : names) {
    EXPECT_EQ(bus::event_name(type), name);
    EXPECT_EQ(bus::parse_event_type(name), type) << name;
    seen.insert(bus::event_name(type));
  }
  EXPECT_EQ(seen.size(), std::size(names));  // no two events share a name
  // The list above is every enumerator: the last one is user_reactivated.
  EXPECT_EQ(static_cast<std::size_t>(EventType::user_reactivated) + 1, std::size(names));
}

TEST(Vocabulary, UnknownNamesReadAsNothing) {
  for (std::string_view name : {"", "Owner", "superuser", "members", " admin", "owner\n"}) {
    EXPECT_FALSE(store::parse_role(name).has_value()) << name;
  }
  for (std::string_view name : {"", "Public", "private", "public_", "dms"}) {
    EXPECT_FALSE(store::parse_channel_type(name).has_value()) << name;
  }
  // WebSocket command names are not events.
  for (std::string_view name : {"", "message", "message.send", "read.mark", "Message.New", "message_new"}) {
    EXPECT_FALSE(bus::parse_event_type(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace parley
