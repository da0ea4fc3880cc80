#pragma once
// parley-send-bench --events / --webhook: the path a committed send's event takes in the server,
// so that its cost on durable sends can be measured. realtime::Publisher serialises the event
// once, the in-process bus hands it to the webhook service (WebhookService::on_event), whose
// dispatcher thread writes a delivery and its webhook.deliver job per subscribed endpoint, and a
// job runner with the server's defaults (prefetch 64, poll 250 ms) sends them over the SSRF-safe
// client. There is no WebSocket hub: nobody is connected. With an endpoint (--webhook) the app
// has one, subscribed to message.new, at a receiver on 127.0.0.1 (answering 200; the outbound
// allow-list opens 127.0.0.1/32 for it), which counts the deliveries it got. As in the server,
// sends of an app that may have an endpoint write an outbox row per channel and batch, deleted
// once the dispatcher stored the deliveries (chat/outbox.hpp).
// Threads: constructed, started and stopped by the bench's main thread; the sink is called by
// the group committer's publisher.
#include <memory>
#include <string>

#include "bus/bus.hpp"
#include "chat/outbox.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/runner.hpp"
#include "outbound/http_client.hpp"
#include "realtime/gateway.hpp"
#include "store/store.hpp"
#include "tenancy/audit_log.hpp"
#include "webhook_receiver.hpp"
#include "webhooks/webhook_service.hpp"

namespace parley::bench {

class SendEvents {
 public:
  /// `endpoint`: create the app's endpoint to the receiver; `workers`: the runner's threads.
  SendEvents(store::Store& st, const std::string& app_id, bool endpoint, int workers)
      : audit_(st.database()),
        http_(*outbound::AddressPolicy::with_allowed({"127.0.0.1/32"}), "Parley-Webhooks/1"),
        webhooks_(st.database(), audit_, http_, webhooks::WebhookOptions{}),
        queue_(st.database()),
        runner_(queue_, runner_options(workers)),
        workers_(workers),
        outbox_(st.chat(), chat::OutboxOptions{}),
        chat_(st.chat()) {
    outbox_.set_filter([this](const tenancy::App& app, std::string_view) { return webhooks_.may_want(app.id); });
    webhooks_.register_jobs(runner_);
    bus_.subscribe([this](const bus::Envelope& e) { webhooks_.on_event(e); });
    if (endpoint) {
      webhooks::EndpointInput in;
      in.url = "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/hook";
      in.event_types = std::vector<std::string>{"message.new"};
      auto ep = webhooks_.create(app_id, in);
      if (!ep) throw std::runtime_error("webhook endpoint: " + ep.error().message);
    }
  }
  ~SendEvents() { stop(); }
  SendEvents(const SendEvents&) = delete;
  SendEvents& operator=(const SendEvents&) = delete;

  chat::EventSink* sink() { return &publisher_; }
  chat::Outbox* outbox() { return &outbox_; }
  void start() {
    if (workers_ > 0) start_delivering();
    webhooks_.start([this] { runner_.wake(); });
    outbox_.start();
  }
  /// Starts the runner (with 0 workers asked for, start() leaves that to the caller); idempotent.
  void start_delivering() {
    if (!delivering_) runner_.start();
    delivering_ = true;
  }
  /// Records the deliveries of the events published so far, deletes the outbox rows they
  /// confirmed, then stops the runner; idempotent.
  void stop() {
    webhooks_.stop();
    outbox_.stop();
    runner_.stop();
  }
  /// Outbox rows still in the database (none once stopped, when every send was confirmed).
  Result<std::size_t> outbox_rows() {
    PARLEY_ASSIGN_OR_RETURN(auto rows, chat_.stale_outbox(now_ms() + 3'600'000, 1'000'000));
    return rows.size();
  }
  WebhookReceiver& receiver() { return receiver_; }
  Result<jobs::QueueStats> queue_stats() { return queue_.stats(now_ms()); }

 private:
  static jobs::RunnerOptions runner_options(int workers) {
    jobs::RunnerOptions o;
    o.owner = "send-bench";
    o.workers = workers > 0 ? workers : 2;
    return o;
  }

  WebhookReceiver receiver_;
  tenancy::AuditLog audit_;
  outbound::HttpClient http_;
  webhooks::WebhookService webhooks_;
  jobs::JobQueue queue_;
  jobs::Runner runner_;
  const int workers_;
  bool delivering_ = false;  // main thread only
  chat::Outbox outbox_;
  store::ChatStore& chat_;
  bus::InProcessBus bus_;
  realtime::Publisher publisher_{bus_};
};

}  // namespace parley::bench
