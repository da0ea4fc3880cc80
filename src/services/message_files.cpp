#include "services/message_files.hpp"

#include <spdlog/spdlog.h>

#include "services/on_db.hpp"
#include "services/send_message.hpp"

// GCC 12 warns of a mismatched operator delete for an Asio coroutine frame here that is not
// there (the -Wmismatched-new-delete false positive realtime/gateway.cpp describes).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace parley::services {

using boost::asio::awaitable;

bool names_files(const std::string& attachments_json) {
  return attachments_json.find("\"file_id\"") != std::string::npos;
}

awaitable<Result<store::SendResult>> send_with_files(Services& s, chat::Caller who, std::string channel_id,
                                                     chat::OutgoingMessage msg) {
  if (!names_files(msg.attachments_json)) co_return co_await send_message(s.chat, who, channel_id, std::move(msg));
  auto resolved = co_await on_files(s, [&] {
    return s.files.resolve_attachments(*who.app, who.user_id, channel_id, msg.attachments_json, std::nullopt,
                                       msg.client_msg_id);
  });
  if (!resolved) co_return std::move(resolved).error();
  msg.attachments_json = std::move(resolved->json);
  auto sent = co_await send_message(s.chat, who, channel_id, std::move(msg));
  if (sent && !sent->duplicate && !resolved->file_ids.empty()) {
    auto seq = sent->message.seq;
    auto st = co_await on_files(
        s, [&] { return s.files.attach(who.app_id(), channel_id, seq, resolved->file_ids, /*exact=*/false); });
    // The message is durable; its files were noted with their channel, so the clean-up attaches
    // them from the stored message instead of removing them.
    if (!st) spdlog::warn("files: attaching to message {}/{} failed: {}", channel_id, seq, st.error().message);
  }
  co_return sent;
}

awaitable<Result<chat::MessagePage>> edit_with_files(Services& s, chat::Caller who, std::string channel_id,
                                                     std::int64_t seq, std::string text,
                                                     std::optional<std::string> attachments_json) {
  std::optional<std::vector<std::string>> file_ids;
  if (attachments_json) {
    auto resolved = co_await on_files(s, [&] {
      return s.files.resolve_attachments(*who.app, who.user_id, channel_id, *attachments_json, seq, std::nullopt);
    });
    if (!resolved) co_return std::move(resolved).error();
    attachments_json = std::move(resolved->json);
    file_ids = std::move(resolved->file_ids);
  }
  auto p = co_await on_db(s, [&] { return s.chat.edit(who, channel_id, seq, text, attachments_json); });
  if (p && file_ids) {
    auto st = co_await on_files(s, [&] { return s.files.attach(who.app_id(), channel_id, seq, *file_ids, true); });
    if (!st) spdlog::warn("files: updating the files of message {}/{} failed: {}", channel_id, seq, st.error().message);
  }
  co_return p;
}

awaitable<void> release_message_files(Services& s, std::string app_id, std::string channel_id, std::int64_t seq) {
  auto st = co_await on_files(s, [&] { return s.files.release_message(app_id, channel_id, seq); });
  if (!st) spdlog::warn("files: releasing the files of message {}/{} failed: {}", channel_id, seq, st.error().message);
}

awaitable<void> release_channel_files(Services& s, std::string app_id, std::string channel_id) {
  auto st = co_await on_files(s, [&] { return s.files.release_channel(app_id, channel_id); });
  if (!st) spdlog::warn("files: releasing the files of channel {} failed: {}", channel_id, st.error().message);
}

}  // namespace parley::services
