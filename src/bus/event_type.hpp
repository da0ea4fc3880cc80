#pragma once
// The events Parley emits, as one enum from the chat service through the bus to the realtime
// hub. Only the edges see the names: the frame's "event" field, and (later) webhook filters
// that read a name back. Thread-safe: plain functions.
#include <optional>
#include <string_view>

namespace parley::bus {

enum class EventType {
  channel_created,
  channel_updated,
  channel_deleted,
  member_added,
  member_removed,
  member_updated,
  message_new,
  message_updated,
  message_deleted,
  thread_reply,
  reaction_added,
  reaction_removed,
  read_updated,
  unread_changed,
  presence_changed,
  typing_start,
  typing_stop,
  user_updated,
  user_deactivated,
  user_reactivated,
};

/// The wire name: "message.new", "member.added", …
std::string_view event_name(EventType type);
/// The event a wire name names; nullopt for anything else.
std::optional<EventType> parse_event_type(std::string_view name);

}  // namespace parley::bus
