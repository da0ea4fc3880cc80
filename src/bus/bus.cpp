#include "bus/bus.hpp"

namespace parley::bus {

void InProcessBus::publish(const Envelope& e) {
  for (const auto& h : handlers_) h(e);
}

void InProcessBus::subscribe(Handler h) { handlers_.push_back(std::move(h)); }

}  // namespace parley::bus
