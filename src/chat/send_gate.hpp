#pragma once
// A check every send of an app passes before it is queued for its group commit: the app's
// synchronous before-send hook (docs/bots.md, "Before-send hook"), which may allow, reject or
// rewrite it. Implemented above chat (the server wires it); thread-safe.
#include <functional>
#include <string>

#include "chat/chat_service.hpp"

namespace parley::chat {

class SendGate {
 public:
  virtual ~SendGate() = default;
  /// Whether this app's sends pass through check(). Cheap; never blocks.
  virtual bool applies(const std::string& app_id) const = 0;
  /// Judges `msg`: `done` gets it back (perhaps rewritten) to be sent, or the error the sender
  /// gets. Never blocks; `done` may run on any thread, once. One sender's messages are judged
  /// in the order they came, so they keep their order.
  virtual void check(const Caller& who, const std::string& channel_id, OutgoingMessage msg,
                     std::function<void(Result<OutgoingMessage>)> done) = 0;
};

}  // namespace parley::chat
