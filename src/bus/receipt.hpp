#pragma once
// Proof that an event's durable consumers are done with it (docs/jobs.md, "Outbox"). The events
// of an outbox row carry one shared Receipt; each durable consumer (webhooks, link previews)
// keeps a reference while the event waits in its queue and lets go once it has stored what the
// event causes, or found that it causes nothing. When the last reference goes, `settled` runs on
// that thread with whether every holder succeeded: the outbox row is deleted, or kept for a
// replay. Thread-safe.
#include <atomic>
#include <functional>
#include <utility>

namespace parley::bus {

class Receipt {
 public:
  explicit Receipt(std::function<void(bool ok)> settled) : settled_(std::move(settled)) {}
  Receipt(const Receipt&) = delete;
  Receipt& operator=(const Receipt&) = delete;
  ~Receipt() {
    if (settled_) settled_(!failed_.load(std::memory_order_acquire));
  }
  /// A holder could not store what the event causes (or dropped it): the event must be replayed.
  void fail() { failed_.store(true, std::memory_order_release); }

 private:
  std::function<void(bool)> settled_;
  std::atomic<bool> failed_{false};
};

}  // namespace parley::bus
