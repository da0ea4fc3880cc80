#pragma once
// What the chat service tells the world after a write commits: one ChatEvent per change.
// The realtime layer implements EventSink (serialise once, fan out); without one, events are
// dropped. REST and WebSocket writes go through the same service, so both produce the same
// events.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "bus/event_type.hpp"
#include "bus/receipt.hpp"

namespace parley::chat {

struct ChatEvent {
  bus::EventType type = bus::EventType::message_new;
  std::string app_id;
  std::string channel_id;          // empty for user-only events
  std::int64_t seq = 0;            // the message seq, for events about one message
  std::vector<std::string> users;  // also deliver to these users (and, for member.added, subscribe them)
  bool users_only = false;         // deliver to `users` only, not to the channel's subscribers
  boost::json::object data;
  std::shared_ptr<bus::Receipt> receipt;  // see bus::Envelope
  bool replay = false;                    // see bus::Envelope
};

/// Receives events; called on the thread that made the change (a database thread). Must not block.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(ChatEvent event) = 0;
};

}  // namespace parley::chat
