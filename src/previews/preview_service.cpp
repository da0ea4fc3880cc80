#include "previews/preview_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

#include "jobs/job_queue.hpp"
#include "jobs/runner.hpp"
#include "outbound/http_client.hpp"
#include "store/chat_store.hpp"
#include "store/sql/database.hpp"
#include "store/sql/text.hpp"

namespace parley::previews {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxOembedBytes = 64 << 10;
constexpr int kPreviewAttempts = 3;

// "text/html; charset=ISO-8859-1" -> {"text/html", "ISO-8859-1"}.
std::pair<std::string, std::string> media_type(const std::string& content_type) {
  std::string type = store::sql::ascii_lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::string charset;
  const std::string lc = store::sql::ascii_lower(content_type);
  if (auto at = lc.find("charset="); at != std::string::npos) {
    charset = content_type.substr(at + 8);
    charset = charset.substr(0, charset.find_first_of("; "));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"')
      charset = charset.substr(1, charset.size() - 2);
  }
  return {type, charset};
}

// The URLs of a message's text and of its attached previews, from a message.new/updated frame.
struct FrameMessage {
  std::string channel_id;
  std::int64_t seq = 0;
  std::string edited_at;  // "" when never edited
  std::vector<std::string> urls;
  std::vector<std::string> previewed;
};

std::optional<FrameMessage> read_frame(const std::string& frame, std::size_t max_urls) {
  boost::system::error_code ec;
  auto v = json::parse(frame, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto* data = v.as_object().if_contains("data");
  if (!data || !data->is_object()) return std::nullopt;
  auto* msg = data->as_object().if_contains("message");
  if (!msg || !msg->is_object()) return std::nullopt;
  const auto& m = msg->as_object();
  auto* deleted = m.if_contains("deleted_at");
  if (deleted && !deleted->is_null()) return std::nullopt;
  auto* channel = m.if_contains("channel_id");
  auto* seq = m.if_contains("seq");
  auto* text = m.if_contains("text");
  if (!channel || !channel->is_string() || !seq || !seq->is_int64() || !text || !text->is_string()) return std::nullopt;
  FrameMessage out;
  out.channel_id = std::string(channel->as_string());
  out.seq = seq->as_int64();
  if (auto* e = m.if_contains("edited_at"); e && e->is_string()) out.edited_at = std::string(e->as_string());
  out.urls = find_urls(std::string_view(text->as_string()), max_urls);
  if (auto* lp = m.if_contains("link_previews"); lp && lp->is_array()) {
    for (const auto& p : lp->as_array()) {
      if (!p.is_object()) continue;
      if (auto* u = p.as_object().if_contains("url"); u && u->is_string()) out.previewed.emplace_back(u->as_string());
    }
  }
  return out;
}

bool same_set(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

PreviewService::PreviewService(store::sql::Database& db, store::ChatStore& chat, const outbound::HttpClient& http,
                               PreviewOptions opts)
    : db_(db), chat_(chat), http_(http), cache_(db), opts_(opts) {}

PreviewService::~PreviewService() { stop(); }

void PreviewService::set_hooks(Enabled enabled, Attach attach) {
  enabled_ = std::move(enabled);
  attach_ = std::move(attach);
}

void PreviewService::on_event(const bus::Envelope& e) {
  if (e.type != bus::EventType::message_new && e.type != bus::EventType::message_updated) return;
  // Most messages have no URL: they cost one substring search on the publishing thread. An
  // update whose previews must go (the URL was edited out) still has a URL in its previews.
  if (!e.frame || e.frame->find("://") == std::string::npos) return;
  {
    MutexLock lock(mu_);
    if (opts_.hold_events) {
      if (e.receipt) held_.push_back(e.receipt);
      return;
    }
    if (stopping_ || queue_.size() >= opts_.max_queued_events) {
      if (e.receipt) e.receipt->fail();  // its outbox row stays: the event is replayed
      if (!stopping_ && dropped_.fetch_add(1) % 1000 == 0)
        spdlog::error("previews: {} events dropped, the dispatcher is behind (max {} queued)", dropped_.load(),
                      opts_.max_queued_events);
      return;
    }
    queue_.push_back({e.app_id, e.frame, e.receipt});
  }
  cv_.notify_one();
}

void PreviewService::register_jobs(jobs::Runner& runner, jobs::JobQueue& queue) {
  runner.handle(kPreviewKind, [this](const jobs::Job& job, const jobs::JobContext&) { return run(job); });
  runner.handle(kPruneKind, [this](const jobs::Job&, const jobs::JobContext&) {
    auto n = cache_.prune(now_ms());
    if (!n) return jobs::JobResult::retry(n.error().message);
    if (*n > 0) spdlog::info("previews: {} expired cache entries deleted", *n);
    return jobs::JobResult::done();
  });
  // Created once (not replaced at each start: a node restarting more often than hourly would
  // otherwise keep pushing the prune out of reach).
  if (auto existing = queue.get_schedule("previews.prune"); !existing && existing.error().code == Errc::not_found) {
    if (auto s = queue.put_schedule("previews.prune", "@hourly", kPruneKind, "{}", now_ms()); !s) {
      spdlog::error("previews: scheduling the cache prune failed: {}", s.error().message);
    }
  }
}

void PreviewService::start(std::function<void()> enqueued) {
  enqueued_ = std::move(enqueued);
  dispatcher_ = std::thread([this] { dispatch_loop(); });
}

void PreviewService::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
}

void PreviewService::dispatch_loop() {
  for (;;) {
    std::vector<Event> batch;
    bool stopping = false;
    {
      MutexLock lock(mu_);
      if (queue_.empty() && !stopping_) lock.wait_for(cv_, std::chrono::seconds(1));
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      stopping = stopping_;
    }
    if (!batch.empty()) dispatch(batch);
    if (stopping) return;
  }
}

void PreviewService::dispatch(std::vector<Event>& batch) {
  const TimeMs now = now_ms();
  std::map<std::string, bool> enabled;  // per app, for this batch
  std::vector<jobs::NewJob> jobs;
  for (const auto& ev : batch) {
    auto m = read_frame(*ev.frame, opts_.max_per_message);
    // Nothing to do when the previews attached are those of the URLs in the text (this is also
    // the message.updated that announced them).
    if (!m || same_set(m->urls, m->previewed)) continue;
    auto [it, fresh] = enabled.try_emplace(ev.app_id, false);
    if (fresh) it->second = !enabled_ || enabled_(ev.app_id);
    if (!it->second) continue;
    jobs::NewJob j;
    j.kind = kPreviewKind;
    j.app_id = ev.app_id;
    j.payload = json::serialize(json::object{{"channel_id", m->channel_id}, {"seq", m->seq}});
    // One job per version of the text: an edit while the job of the old text runs gets its own.
    j.unique_key = ev.app_id + "/" + m->channel_id + "/" + std::to_string(m->seq) + "/" + m->edited_at;
    j.max_attempts = kPreviewAttempts;
    jobs.push_back(std::move(j));
  }
  if (jobs.empty()) return;
  Status st = db_.with_conn([&](store::sql::Connection& c) -> Status {
    store::sql::Transaction tx(c);
    for (const auto& j : jobs) jobs::JobQueue::enqueue_on(c, j, now);
    tx.commit();
    return ok_status();
  });
  if (!st) {
    // Events of an outbox row are replayed later; the others get no previews.
    spdlog::error("previews: queueing {} preview jobs failed: {}", jobs.size(), st.error().message);
    for (auto& ev : batch) {
      if (ev.receipt) ev.receipt->fail();
    }
    return;
  }
  if (enqueued_) enqueued_();
}

jobs::JobResult PreviewService::run(const jobs::Job& job) {
  if (!job.app_id) return jobs::JobResult::fail("a preview job without an app");
  boost::system::error_code ec;
  auto v = json::parse(job.payload, ec);
  if (ec || !v.is_object()) return jobs::JobResult::fail("payload is not a JSON object");
  const auto& p = v.as_object();
  auto* channel = p.if_contains("channel_id");
  auto* seq = p.if_contains("seq");
  if (!channel || !channel->is_string() || !seq || !seq->is_int64()) {
    return jobs::JobResult::fail("payload needs channel_id and seq");
  }
  if (enabled_ && !enabled_(*job.app_id)) return jobs::JobResult::done();
  auto m = chat_.get_message(*job.app_id, std::string(channel->as_string()), seq->as_int64());
  if (!m) {
    if (m.error().code == Errc::not_found) return jobs::JobResult::done();  // deleted with its channel
    return jobs::JobResult::retry(m.error().message);
  }
  if (m->deleted_at) return jobs::JobResult::done();
  const TimeMs now = now_ms();
  std::string previews_json = "[";  // the objects' JSON, comma-separated, as json::serialize writes an array
  for (const auto& url : find_urls(m->text, opts_.max_per_message)) {
    auto one = preview(*job.app_id, url, now);
    if (!one) return jobs::JobResult::retry(one.error().message);
    if (*one) previews_json += (previews_json.size() > 1 ? "," : "") + (*one)->to_json();
  }
  previews_json += "]";
  if (previews_json == m->link_previews_json) return jobs::JobResult::done();
  if (!attach_) return jobs::JobResult::fail("link previews are not wired to the chat service");
  if (auto st = attach_(*m, previews_json); !st) return jobs::JobResult::retry(st.error().message);
  return jobs::JobResult::done();
}

Result<std::optional<LinkPreview>> PreviewService::preview(const std::string& app_id, const std::string& url,
                                                           TimeMs now) {
  PARLEY_ASSIGN_OR_RETURN(auto cached, cache_.get(app_id, url, now));
  if (cached) {
    if (cached->preview_json.empty()) return std::optional<LinkPreview>{};
    return LinkPreview::from_json(cached->preview_json);
  }
  std::optional<LinkPreview> got = fetch(url);
  CachedPreview entry;
  entry.fetched_at = now;
  entry.expires_at = now + (got ? opts_.ttl_ms : opts_.failure_ttl_ms);
  if (got) entry.preview_json = got->to_json();
  PARLEY_TRY(cache_.put(app_id, url, entry));
  return got;
}

std::optional<LinkPreview> PreviewService::fetch(const std::string& url) const {
  outbound::Request req;
  req.url = url;
  req.headers = {{"Accept", "text/html,application/xhtml+xml;q=0.9,image/*;q=0.8,*/*;q=0.1"}};
  req.timeout = std::chrono::milliseconds(opts_.timeout_ms);
  req.connect_timeout = std::chrono::milliseconds(std::min(opts_.timeout_ms, 2000));
  req.max_response_bytes = opts_.max_bytes;
  req.max_redirects = opts_.max_redirects;
  auto r = http_.send(req);
  if (!r) {
    spdlog::debug("previews: {} not fetched: {}", url, r.error().message);
    return std::nullopt;
  }
  if (r->status < 200 || r->status >= 300) {
    spdlog::debug("previews: {} answered {}", url, r->status);
    return std::nullopt;
  }
  const auto [type, charset] = media_type(r->header("content-type"));
  const std::string& page_url = r->final_url.empty() ? url : r->final_url;
  PageMeta meta;
  if (type.starts_with("image/") && type != "image/svg+xml") {
    meta.image_url = page_url;  // a link straight to an image previews as that image
  } else if (type == "text/html" || type == "application/xhtml+xml" || (type.empty() && r->body.starts_with("<"))) {
    meta = parse_page(r->body, page_url, charset);
    if (meta.oembed_url && (!meta.title || !meta.image_url)) {
      outbound::Request o = req;
      o.url = *meta.oembed_url;
      o.headers = {{"Accept", "application/json"}};
      o.max_response_bytes = kMaxOembedBytes;
      if (auto oe = http_.send(o); oe && oe->status >= 200 && oe->status < 300 && !oe->truncated) {
        merge_oembed(meta, oe->body);
      }
    }
  } else {
    return std::nullopt;
  }
  LinkPreview p = to_preview(url, meta);
  if (!p.any()) return std::nullopt;
  return p;
}

}  // namespace parley::previews
