#pragma once
// Sends a message through the chat service's group commit from a coroutine: the coroutine
// suspends without holding any thread and resumes on its own executor once the transaction
// holding the message committed (or failed).
#include <memory>
#include <string>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chat/chat_service.hpp"

namespace parley::services {

inline boost::asio::awaitable<Result<store::SendResult>> send_message(chat::ChatService& chat, chat::Caller who,
                                                                      std::string channel_id,
                                                                      chat::OutgoingMessage msg) {
  auto ex = co_await boost::asio::this_coro::executor;
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Result<store::SendResult>)>(
      [&](auto handler) {
        // std::function needs a copyable target; the handler is move-only.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        chat.send_async(who, channel_id, std::move(msg), [h, ex](Result<store::SendResult> r) {
          boost::asio::post(ex, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace parley::services
