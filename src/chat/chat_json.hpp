#pragma once
// JSON shapes of chat resources (docs/api.md, "Chat API"), shared by the REST routes and the
// realtime events so both carry the same bytes.
#include <boost/json/object.hpp>
#include <vector>

#include "chat/chat_service.hpp"
#include "store/chat_types.hpp"

namespace parley::chat {

constexpr std::size_t kPreviewChars = 200;

boost::json::object to_json(const store::ChannelView& view);
boost::json::object to_json(const store::ChannelRecord& channel);
boost::json::object to_json(const store::MemberRecord& member);
/// `own` are the caller's reaction types on this message; `preview` cuts the text.
boost::json::object to_json(const store::MessageRecord& msg, const std::vector<std::string>& own, bool preview);
/// Every message of a page, with the caller's reactions.
boost::json::array messages_json(const MessagePage& page, bool preview);

}  // namespace parley::chat
