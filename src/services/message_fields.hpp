#pragma once
// The fields of a message a client sends, read with their limits. Shared by REST and the
// WebSocket "message.send" command so both accept exactly the same input.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_service.hpp"
#include "core/json_reader.hpp"

namespace parley::services {

/// text, attachments, parent_seq, client_msg_id, mentions; errors are recorded on `r`
/// (the caller calls finish()).
void read_outgoing_message(ObjectReader& r, const boost::json::object& body, chat::OutgoingMessage& msg);

/// attachments: at most 10 objects of at most 2 KiB each; returns the serialized array.
std::optional<std::string> read_attachments(ObjectReader& r, const boost::json::object& body, std::size_t& count);

}  // namespace parley::services
