#include "server/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "api/errors.hpp"
#include "api/pipeline.hpp"
#include "auth/token_service.hpp"
#include "bus/bus.hpp"
#include "chat/chat_service.hpp"
#include "chat/outbox.hpp"
#include "chat/send_gate.hpp"
#include "core/crypto.hpp"
#include "files/file_service.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/runner.hpp"
#include "jobs/test_kinds.hpp"
#include "metrics/metrics.hpp"
#include "net/http_server.hpp"
#include "outbound/http_client.hpp"
#include "previews/preview_service.hpp"
#include "realtime/gateway.hpp"
#include "realtime/hub.hpp"
#include "search/indexer.hpp"
#include "search/search_service.hpp"
#include "services/services.hpp"
#include "tenancy/tenancy_service.hpp"
#include "users/user_service.hpp"
#include "webhooks/webhook_service.hpp"

namespace parley::server {

namespace {

// Sends of apps with a before-send hook wait for its verdict (webhooks/before_send.hpp).
class HookGate final : public chat::SendGate {
 public:
  explicit HookGate(webhooks::BeforeSendHooks& hooks) : hooks_(hooks) {}
  bool applies(const std::string& app_id) const override { return hooks_.applies(app_id); }
  void check(const chat::Caller& who, const std::string& channel_id, chat::OutgoingMessage msg,
             std::function<void(Result<chat::OutgoingMessage>)> done) override {
    webhooks::PendingMessage m{who.app_id(),         who.user_id,    channel_id,       msg.text,
                               msg.attachments_json, msg.parent_seq, msg.client_msg_id};
    hooks_.check(std::move(m), [msg = std::move(msg), done = std::move(done)](webhooks::HookOutcome out) mutable {
      if (!out) return done(std::move(out).error());
      if (*out) msg.text = std::move(**out);
      done(std::move(msg));
    });
  }

 private:
  webhooks::BeforeSendHooks& hooks_;
};

}  // namespace

struct Server::Impl {
  const Config& cfg;
  store::Store& store;
  boost::asio::thread_pool db_pool;
  metrics::Metrics metrics;
  tenancy::TenancyService tenancy;
  auth::TokenService tokens;
  users::UserService users;
  chat::Outbox outbox;  // before chat: its receipts outlive the sends
  chat::ChatService chat;
  jobs::JobQueue jobs;
  std::unique_ptr<jobs::Runner> job_runner;  // null with --jobs-workers 0
  tenancy::AuditLog audit;
  outbound::HttpClient outbound_http;
  webhooks::WebhookService webhooks;
  webhooks::BeforeSendHooks before_send;
  HookGate send_gate{before_send};
  outbound::HttpClient preview_http;
  previews::PreviewService previews;
  search::SearchService search;
  search::Indexer indexer;
  std::unique_ptr<files::Storage> file_storage;
  boost::asio::thread_pool files_pool;
  files::FileService files;
  services::Services services;
  api::Pipeline rest;
  std::atomic<bool> ready{false};
  net::HttpServer server;
  bus::InProcessBus bus;
  realtime::Publisher publisher{bus};
  std::unique_ptr<realtime::Hub> hub;

  Impl(const Config& c, store::Store& s)
      : cfg(c),
        store(s),
        db_pool(static_cast<std::size_t>(c.db_threads)),
        tenancy(s, c),
        tokens(s, tenancy, c),
        users(s),
        outbox(s.chat(), chat::OutboxOptions{c.outbox_replay_after_ms}),
        chat(s, chat::GroupCommitOptions{c.send_batch_max, c.send_batch_window_us, c.send_committers}),
        jobs(s.database()),
        audit(s.database()),
        outbound_http(outbound_policy(c), "Parley-Webhooks/1"),
        webhooks(s.database(), audit, outbound_http, webhook_options(c)),
        before_send(s.database(), outbound_http),
        // Some sites answer only browser-like agents with their metadata; this one says what it is.
        preview_http(outbound_policy(c), "Mozilla/5.0 (compatible; Parley-LinkPreview/1)"),
        previews(s.database(), s.chat(), preview_http, preview_options(c)),
        search(s.database()),
        indexer(s.database(), search::IndexerOptions{c.search_index_delay_ms},
                [this](const std::string& app_id) {
                  auto app = tenancy.get_app(app_id);
                  return app ? (*app)->settings.search_language : std::string("simple");
                }),
        file_storage(make_file_storage(c)),
        files_pool(static_cast<std::size_t>(c.files_workers)),
        files(s.database(), *file_storage, files_options(c)),
        services{c,
                 s,
                 db_pool,
                 metrics,
                 tenancy,
                 tokens,
                 users,
                 chat,
                 jobs,
                 webhooks,
                 before_send,
                 search,
                 files,
                 files_pool,
                 auth::RateLimiter(),
                 auth::RateLimiter(),
                 {},
                 {},
                 {},
                 {},
                 {},
                 {}},
        rest(services, api::StaticFiles(api::find_web_dir(c.web_dir))),
        server(
            server_options(c), [this](net::Request& r) { return rest.handle(r); },
            [](int status, const std::string& /*code*/, const std::string& message) {
              return api::Pipeline::refused(status, message);
            }) {
    services.ready = [this] { return ready.load() && !server.draining(); };
    services.search_reindex = [this] { indexer.sweep_soon(); };
    files.set_can_read([this](const tenancy::App& app, const std::string& user_id, const std::string& channel_id) {
      auto app_ptr = tenancy.get_app(app.id);
      return app_ptr && chat.get_channel(chat::Caller{*app_ptr, user_id}, channel_id).ok();
    });
    if (auto st = files.init(); !st) throw std::runtime_error("files: " + st.error().message);
    realtime::HubOptions hub_opts;
    hub_opts.presence_grace_ms = c.presence_grace_ms;
    hub_opts.typing_ttl_ms = c.typing_ttl_ms;
    hub = std::make_unique<realtime::Hub>(
        server.executor(), bus, hub_opts, [this](const std::string& app, const std::string& user, TimeMs at) {
          boost::asio::post(db_pool, [this, app, user, at] { (void)store.set_last_seen(app, user, at); });
        });
    bus.subscribe([this](const bus::Envelope& e) {
      if (!e.replay) hub->deliver(e);  // sessions resume by seq; replays are for the durable consumers
    });
    bus.subscribe([this](const bus::Envelope& e) { webhooks.on_event(e); });
    bus.subscribe([this](const bus::Envelope& e) { previews.on_event(e); });
    bus.subscribe([this](const bus::Envelope& e) { indexer.on_event(e); });
    webhooks.set_directory(webhooks::Directory{
        [this](const std::string& app_id, const std::string& user_id) -> Result<bool> {
          PARLEY_ASSIGN_OR_RETURN(auto u, store.get_user(app_id, user_id));
          return u.bot;
        },
        [this](const std::string& app_id, const std::string& channel_id, const std::string& user_id) -> Result<bool> {
          PARLEY_ASSIGN_OR_RETURN(auto m, store.chat().get_member(app_id, channel_id, user_id));
          return m.has_value();
        }});
    previews.set_hooks(
        [this](const std::string& app_id) {
          auto app = tenancy.get_app(app_id);
          return app && (*app)->settings.link_previews;
        },
        [this](const store::MessageRecord& m, const std::string& previews_json) {
          return chat.attach_link_previews(m.app_id, m.channel_id, m.seq, m.edited_at, previews_json);
        });
    chat.set_event_sink(&publisher);
    // The messages with durable consumers, for the outbox: any of the app's events may go to a
    // webhook; a text with a URL may get link previews.
    outbox.set_filter([this](const tenancy::App& app, std::string_view text) {
      return webhooks.may_want(app.id) || (app.settings.link_previews && cfg.previews_max_per_message > 0 &&
                                           text.find("://") != std::string_view::npos);
    });
    chat.set_outbox(&outbox);
    chat.set_send_gate(&send_gate);
    services.online = [this](const std::string& app, const std::string& user) { return hub->online(app, user); };
    services.disconnect = [this](const std::string& app, const std::string& user, std::uint16_t code) {
      hub->close_user(app, user, code, code == net::ws_close::forbidden ? "user deactivated" : "tokens revoked");
    };
    net::WsOptions ws;
    ws.max_message_bytes = c.ws_max_message_bytes;
    ws.max_queue_bytes = c.ws_max_queue_bytes;
    ws.idle_timeout_ms = c.ws_heartbeat_ms;
    ws.write_coalesce_us = c.ws_coalesce_us;
    server.enable_websocket(ws, realtime::make_accept(services, *hub, api::error_response));
    metrics.set_gauge_source("parley_realtime_sessions", "Open realtime (WebSocket) sessions.",
                             [this] { return static_cast<double>(hub->sessions()); });
    metrics.set_gauge_source("parley_http_open_connections", "Open HTTP connections.",
                             [this] { return static_cast<double>(server.open_connections()); });
    metrics.set_gauge_source("parley_outbox_pending",
                             "Outbox rows of this node whose webhooks and link previews are not yet stored.",
                             [this] { return static_cast<double>(outbox.pending()); });
    metrics.set_gauge_source("parley_send_batches", "Message send batches committed (group commit) since start.",
                             [this] { return static_cast<double>(chat.send_stats().batches); });
    metrics.set_gauge_source("parley_send_batched_messages", "Message sends taken into batches since start.",
                             [this] { return static_cast<double>(chat.send_stats().items); });
    add_job_runner(c);
    server.on_shutdown([this] { ready.store(false); });
  }

  // The node's job runner and the queue's gauges (docs/jobs.md).
  void add_job_runner(const Config& c) {
    if (c.jobs_workers > 0) {
      jobs::RunnerOptions o;
      char host[256] = {};
      (void)gethostname(host, sizeof host - 1);
      o.owner = std::string(host) + ":" + std::to_string(getpid()) + ":" + crypto::random_id("", 6);
      o.workers = c.jobs_workers;
      o.prefetch = c.jobs_prefetch;
      o.poll_ms = c.jobs_poll_ms;
      o.lease_ms = c.jobs_lease_ms;
      o.grace_ms = c.shutdown_grace_ms;
      job_runner = std::make_unique<jobs::Runner>(jobs, o, &metrics);
      webhooks.register_jobs(*job_runner);
      if (c.previews_max_per_message > 0) previews.register_jobs(*job_runner, jobs);
      add_outbox_replay();
      add_files_cleanup();
      if (c.jobs_test_kinds) {
        jobs::add_test_kinds(*job_runner, (std::filesystem::path(c.data_dir) / "jobs-record.log").string());
      }
      services.jobs_enqueued = [this] { job_runner->wake(); };
    } else {
      services.jobs_enqueued = [] {};
    }
    auto gauge = [this](const char* name, const char* help, auto field) {
      metrics.set_gauge_source(name, help, [this, field] {
        return job_runner ? static_cast<double>(field(job_runner->last_stats())) : 0.0;
      });
    };
    gauge("parley_jobs_queued", "Jobs waiting in the queue (due or scheduled later), all nodes.",
          [](const jobs::QueueStats& s) { return s.queued; });
    gauge("parley_jobs_running", "Jobs held by a worker, all nodes.",
          [](const jobs::QueueStats& s) { return s.running; });
    gauge("parley_jobs_dead", "Dead letters: jobs out of attempts, kept until retried or deleted.",
          [](const jobs::QueueStats& s) { return s.dead; });
    gauge("parley_jobs_oldest_ready_age_seconds", "How long the longest-waiting due job has waited.",
          [](const jobs::QueueStats& s) {
            return s.oldest_ready_at ? static_cast<double>(std::max<TimeMs>(0, now_ms() - *s.oldest_ready_at)) / 1000.0
                                     : 0.0;
          });
  }

  // Every 10 s one node (the schedule fires once across them) replays the outbox rows no node
  // confirmed within --outbox-replay-after-ms (chat/outbox.hpp).
  void add_outbox_replay() {
    job_runner->handle("outbox.replay", [this](const jobs::Job&, const jobs::JobContext&) {
      auto n = chat.replay_outbox(now_ms(), 200);
      if (!n) return jobs::JobResult::retry(n.error().message);
      return jobs::JobResult::done();
    });
    if (auto existing = jobs.get_schedule("outbox.replay"); !existing && existing.error().code == Errc::not_found) {
      if (auto s = jobs.put_schedule("outbox.replay", "*/10 * * * * *", "outbox.replay", "{}", now_ms()); !s) {
        spdlog::error("outbox: scheduling the replay failed: {}", s.error().message);
      }
    }
  }

  // Hourly, one node removes the files nothing uses (docs/files.md).
  void add_files_cleanup() {
    job_runner->handle("files.cleanup", [this](const jobs::Job&, const jobs::JobContext&) {
      auto n = files.cleanup(now_ms(), 1000);
      if (!n) return jobs::JobResult::retry(n.error().message);
      if (*n > 0) spdlog::info("files: removed {} file(s) nothing uses", *n);
      return jobs::JobResult::done();
    });
    if (auto existing = jobs.get_schedule("files.cleanup"); !existing && existing.error().code == Errc::not_found) {
      if (auto s = jobs.put_schedule("files.cleanup", "0 17 * * * *", "files.cleanup", "{}", now_ms()); !s) {
        spdlog::error("files: scheduling the clean-up failed: {}", s.error().message);
      }
    }
  }

  static std::unique_ptr<files::Storage> make_file_storage(const Config& c) {
    if (c.files_storage == "local") {
      return files::make_local_storage(c.files_dir.empty() ? std::filesystem::path(c.data_dir) / "files"
                                                           : std::filesystem::path(c.files_dir));
    }
    if (c.files_storage != "s3") throw std::runtime_error("--files-storage must be local or s3");
    if (c.s3_endpoint.empty() || c.s3_bucket.empty()) {
      throw std::runtime_error("--files-storage s3 needs --s3-endpoint and --s3-bucket");
    }
    files::S3Options o;
    o.endpoint = c.s3_endpoint;
    o.region = c.s3_region;
    o.bucket = c.s3_bucket;
    o.access_key = c.s3_access_key;
    o.secret_key = c.s3_secret_key;
    o.path_style = c.s3_path_style;
    return files::make_s3_storage(std::move(o));
  }

  static files::FilesOptions files_options(const Config& c) {
    files::FilesOptions o;
    o.max_bytes = static_cast<std::uint64_t>(c.files_max_mb) << 20;
    o.url_ttl = std::chrono::seconds(c.files_url_ttl_s);
    o.orphan_ttl = std::chrono::seconds(c.files_orphan_ttl_s);
    o.work_dir = std::filesystem::path(c.data_dir) / "tmp";
    return o;
  }

  // Start-up fails with a clear message on a bad --outbound-allow or --webhooks-retry-schedule.
  static outbound::AddressPolicy outbound_policy(const Config& c) {
    std::vector<std::string> ranges;
    std::string item;
    for (char ch : c.outbound_allow + ",") {
      if (ch != ',') {
        if (ch != ' ') item += ch;
      } else if (!item.empty()) {
        ranges.push_back(std::move(item));
        item.clear();
      }
    }
    auto p = outbound::AddressPolicy::with_allowed(ranges);
    if (!p) throw std::runtime_error("--outbound-allow: " + p.error().message);
    return std::move(*p);
  }
  static webhooks::WebhookOptions webhook_options(const Config& c) {
    webhooks::WebhookOptions o;
    auto schedule = webhooks::parse_retry_schedule(c.webhooks_retry_schedule);
    if (!schedule) throw std::runtime_error("--webhooks-retry-schedule: " + schedule.error().message);
    o.retry_delays_ms = std::move(*schedule);
    o.disable_after = c.webhooks_disable_after;
    o.timeout_ms = c.webhooks_timeout_ms;
    o.max_endpoints = c.webhooks_max_endpoints;
    o.hold_events = c.test_hold_events;
    return o;
  }

  static previews::PreviewOptions preview_options(const Config& c) {
    previews::PreviewOptions o;
    o.timeout_ms = c.previews_timeout_ms;
    o.max_bytes = static_cast<std::size_t>(c.previews_max_kb) << 10;
    o.max_per_message = static_cast<std::size_t>(c.previews_max_per_message);
    o.ttl_ms = TimeMs{c.previews_ttl_s} * 1000;
    o.failure_ttl_ms = std::min<TimeMs>(o.ttl_ms, TimeMs{3600} * 1000);
    o.hold_events = c.test_hold_events;
    return o;
  }

  static net::ServerOptions server_options(const Config& c) {
    net::ServerOptions o;
    o.host = c.host;
    o.port = static_cast<std::uint16_t>(c.port);
    o.threads = c.threads > 0 ? c.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    o.max_connections = c.max_connections;
    o.max_body_bytes = c.max_body_bytes;
    o.max_header_bytes = c.max_header_bytes;
    o.header_timeout_ms = c.header_timeout_ms;
    o.body_timeout_ms = c.body_timeout_ms;
    o.idle_timeout_ms = c.idle_timeout_ms;
    o.shutdown_grace_ms = c.shutdown_grace_ms;
    // Uploads are spooled to disk as they arrive, with their own limit (docs/files.md).
    o.spool_dir = (std::filesystem::path(c.data_dir) / "tmp").string();
    std::filesystem::create_directories(o.spool_dir);
    const std::size_t upload_limit = (static_cast<std::size_t>(c.files_max_mb) << 20) + (64 << 10);  // + form overhead
    o.spool = [upload_limit](std::string_view method, std::string_view path) -> std::optional<std::size_t> {
      if (method == "POST" && path == "/v1/files") return upload_limit;
      if (method == "PUT" && path.starts_with("/v1/files/") && path.ends_with("/upload")) return upload_limit;
      return std::nullopt;
    };
    return o;
  }
};

Server::Server(const Config& cfg, store::Store& store) : impl_(std::make_unique<Impl>(cfg, store)) {}

Server::~Server() {
  impl_->before_send.stop();
  impl_->chat.stop_sends();
  impl_->webhooks.stop();
  impl_->previews.stop();
  impl_->outbox.stop();
  impl_->indexer.stop();
  if (impl_->job_runner) impl_->job_runner->stop();
  impl_->db_pool.join();
  impl_->files_pool.join();
}

tenancy::TenancyService& Server::tenancy() { return impl_->tenancy; }
auth::TokenService& Server::tokens() { return impl_->tokens; }
chat::ChatService& Server::chat() { return impl_->chat; }

std::uint16_t Server::listen() { return impl_->server.listen(); }
void Server::set_demo_app(const std::string& app_id) { impl_->services.demo_app_id = app_id; }

void Server::run() {
  impl_->ready.store(true);
  impl_->hub->start();
  if (impl_->job_runner) impl_->job_runner->start();
  impl_->webhooks.start(impl_->services.jobs_enqueued);
  impl_->previews.start(impl_->services.jobs_enqueued);
  impl_->before_send.start();
  impl_->outbox.start();
  impl_->indexer.start();
  impl_->server.run();
  impl_->before_send.stop();  // judges no more sends; the waiting ones fail with unavailable
  impl_->chat.stop_sends();
  impl_->webhooks.stop();                            // records the deliveries of the events published so far
  impl_->previews.stop();                            // queues the preview jobs of the messages so far
  impl_->outbox.stop();                              // deletes the outbox rows they confirmed
  impl_->indexer.stop();                             // what it did not index, its next start finds (search_progress)
  if (impl_->job_runner) impl_->job_runner->stop();  // finishes or gives back its running jobs
  impl_->db_pool.join();
  impl_->files_pool.join();
}

}  // namespace parley::server
