#include "bus/event_type.hpp"

#include <array>
#include <utility>

namespace parley::bus {

namespace {

using enum EventType;

constexpr std::array<std::pair<EventType, std::string_view>, 20> kNames{{
    {channel_created, "channel.created"},   {channel_updated, "channel.updated"},
    {channel_deleted, "channel.deleted"},   {member_added, "member.added"},
    {member_removed, "member.removed"},     {member_updated, "member.updated"},
    {message_new, "message.new"},           {message_updated, "message.updated"},
    {message_deleted, "message.deleted"},   {thread_reply, "thread.reply"},
    {reaction_added, "reaction.added"},     {reaction_removed, "reaction.removed"},
    {read_updated, "read.updated"},         {unread_changed, "unread.changed"},
    {presence_changed, "presence.changed"}, {typing_start, "typing.start"},
    {typing_stop, "typing.stop"},           {user_updated, "user.updated"},
    {user_deactivated, "user.deactivated"}, {user_reactivated, "user.reactivated"},
}};

// The table is in enumerator order, so a name is found by index.
constexpr bool in_order() {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (static_cast<std::size_t>(kNames[i].first) != i) return false;
  }
  return true;
}
static_assert(in_order(), "kNames lists every EventType once, in declaration order");
static_assert(kNames.size() == static_cast<std::size_t>(user_reactivated) + 1, "kNames covers every EventType");

}  // namespace

std::string_view event_name(EventType type) { return kNames[static_cast<std::size_t>(type)].second; }

std::optional<EventType> parse_event_type(std::string_view name) {
  for (const auto& [type, n] : kNames) {
    if (n == name) return type;
  }
  return std::nullopt;
}

}  // namespace parley::bus
