#pragma once
// The seam between event producers and the realtime gateways. Today: in-process pub/sub. A
// NATS or Redis implementation can carry the same envelopes between nodes without touching
// the gateway. Thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bus/event_type.hpp"
#include "bus/receipt.hpp"

namespace parley::bus {

/// One event as it travels: routing facts plus the frame, serialised once and shared.
struct Envelope {
  EventType type = EventType::message_new;  // drives subscription changes and resume ordering
  std::string app_id;
  std::string channel_id;  // empty: user-only
  std::int64_t seq = 0;
  std::vector<std::string> users;  // extra recipients / users whose subscriptions change
  bool users_only = false;
  std::string exclude_user;  // not delivered to this user's connections (their own typing)
  std::shared_ptr<const std::string> frame;
  /// Set on the events of an outbox row: durable consumers hold it until they stored what the
  /// event causes (bus/receipt.hpp). Never sent between nodes.
  std::shared_ptr<Receipt> receipt;
  /// A replay of an outbox row whose node died before its consumers confirmed it: for the
  /// durable consumers only, not for realtime sessions (they resume by seq).
  bool replay = false;
};

class Bus {
 public:
  using Handler = std::function<void(const Envelope&)>;
  virtual ~Bus() = default;
  virtual void publish(const Envelope& e) = 0;
  /// Handlers are added at start-up, before anything is published.
  virtual void subscribe(Handler h) = 0;
};

/// Delivers synchronously on the publishing thread to every subscriber.
class InProcessBus final : public Bus {
 public:
  void publish(const Envelope& e) override;
  void subscribe(Handler h) override;

 private:
  std::vector<Handler> handlers_;  // written before serving, then read-only
};

}  // namespace parley::bus
