#pragma once
// Messages that carry uploaded files (docs/files.md, "Attachments"): their {"file_id"}
// attachments are resolved to what Parley knows of the files before the message is stored, and
// the files are tied to the message once it committed; edits, deletes and channel deletes
// release the files a message no longer names.
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "chat/chat_service.hpp"
#include "services/services.hpp"

namespace parley::services {

/// Whether attachments JSON may name uploaded files (holds a "file_id" key).
bool names_files(const std::string& attachments_json);

/// Sends through group commit like send_message(); a message naming files gets them resolved
/// first (validation_failed when the sender may not attach one) and attached after the commit.
boost::asio::awaitable<Result<store::SendResult>> send_with_files(Services& s, chat::Caller who, std::string channel_id,
                                                                  chat::OutgoingMessage msg);

/// Edits a message; new attachments are resolved like a send's, and files the edit dropped are
/// released.
boost::asio::awaitable<Result<chat::MessagePage>> edit_with_files(Services& s, chat::Caller who, std::string channel_id,
                                                                  std::int64_t seq, std::string text,
                                                                  std::optional<std::string> attachments_json);

/// After a message was deleted or purged, or a channel deleted: their files go. Failures are
/// logged (the hourly clean-up finds what is left).
boost::asio::awaitable<void> release_message_files(Services& s, std::string app_id, std::string channel_id,
                                                   std::int64_t seq);
boost::asio::awaitable<void> release_channel_files(Services& s, std::string app_id, std::string channel_id);

}  // namespace parley::services
