#include "store/chat_types.hpp"

namespace parley::store {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::member: return "member";
    case Role::moderator: return "moderator";
    case Role::admin: return "admin";
    case Role::owner: return "owner";
  }
  return "member";  // not reached: every enumerator is named above
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role r : {Role::member, Role::moderator, Role::admin, Role::owner}) {
    if (role_name(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view channel_type_name(ChannelType type) {
  switch (type) {
    case ChannelType::dm: return "dm";
    case ChannelType::group: return "group";
    case ChannelType::public_: return "public";
  }
  return "group";  // not reached: every enumerator is named above
}

std::optional<ChannelType> parse_channel_type(std::string_view name) {
  for (ChannelType t : {ChannelType::dm, ChannelType::group, ChannelType::public_}) {
    if (channel_type_name(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace parley::store
