#pragma once
// The realtime gateway: turns chat events into shared frames on the bus, and accepts
// WebSocket upgrades at /v1/ws (token in the query, or an "auth" first frame).
#include <memory>

#include "api/context.hpp"
#include "bus/bus.hpp"
#include "chat/events.hpp"
#include "net/websocket.hpp"
#include "realtime/hub.hpp"

namespace parley::realtime {

/// Serialises each chat event once into a frame and publishes it on the bus.
class Publisher final : public chat::EventSink {
 public:
  explicit Publisher(bus::Bus& bus) : bus_(bus) {}
  void publish(chat::ChatEvent event) override;

 private:
  bus::Bus& bus_;
};

/// The upgrade handler for net::HttpServer::enable_websocket.
net::WsAccept make_accept(api::Services& services, Hub& hub);

}  // namespace parley::realtime
