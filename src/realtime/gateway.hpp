#pragma once
// The realtime gateway: turns chat events into shared frames on the bus, and accepts
// WebSocket upgrades at /v1/ws (token in the query, or an "auth" first frame).
#include <memory>

#include <functional>

#include "bus/bus.hpp"
#include "chat/events.hpp"
#include "net/websocket.hpp"
#include "realtime/hub.hpp"
#include "services/services.hpp"

namespace parley::realtime {

/// Serialises each chat event once into a frame and publishes it on the bus.
class Publisher final : public chat::EventSink {
 public:
  explicit Publisher(bus::Bus& bus) : bus_(bus) {}
  void publish(chat::ChatEvent event) override;

 private:
  bus::Bus& bus_;
};

/// The HTTP answer to an upgrade the gateway refuses (not ready, rate limited, bad token): the
/// REST front end's error response, passed in by the composition root so that the realtime
/// front end does not depend on the REST one.
using Refuse = std::function<net::Response(const Error&)>;

/// The upgrade handler for net::HttpServer::enable_websocket.
net::WsAccept make_accept(services::Services& services, Hub& hub, Refuse refuse);

}  // namespace parley::realtime
