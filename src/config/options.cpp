#include "config/options.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <functional>
#include <stdexcept>

namespace parley {

namespace {

struct Def {
  std::string name;
  std::string help;
  std::function<std::string(const Config&)> show;
  std::function<void(Config&, const std::string&)> set;  // throws std::invalid_argument
};

template <class T>
T parse_integer(const std::string& s, long long min, long long max) {
  std::size_t pos = 0;
  long long v = std::stoll(s, &pos);
  if (pos != s.size()) throw std::invalid_argument("not an integer");
  if (v < min || v > max) {
    throw std::invalid_argument("must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<T>(v);
}

template <class T>
Def integer(std::string name, T Config::*field, long long min, long long max, std::string help) {
  return {std::move(name), std::move(help), [field](const Config& c) { return std::to_string(c.*field); },
          [field, min, max](Config& c, const std::string& s) { c.*field = parse_integer<T>(s, min, max); }};
}

Def real(std::string name, double Config::*field, double min, double max, std::string help) {
  return {std::move(name), std::move(help),
          [field](const Config& c) {
            std::string s = std::to_string(c.*field);
            s.erase(s.find_last_not_of('0') + 1);
            if (s.back() == '.') s.pop_back();
            return s;
          },
          [field, min, max](Config& c, const std::string& s) {
            std::size_t pos = 0;
            double v = std::stod(s, &pos);
            if (pos != s.size()) throw std::invalid_argument("not a number");
            if (!(v >= min && v <= max)) throw std::invalid_argument("out of range");
            c.*field = v;
          }};
}

Def text(std::string name, std::string Config::*field, std::string help) {
  return {std::move(name), std::move(help), [field](const Config& c) { return c.*field; },
          [field](Config& c, const std::string& s) { c.*field = s; }};
}

Def flag(std::string name, bool Config::*field, std::string help) {
  return {std::move(name), std::move(help), [field](const Config& c) { return c.*field ? "true" : "false"; },
          [field](Config& c, const std::string& s) {
            if (s == "true" || s == "1" || s == "yes" || s == "on")
              c.*field = true;
            else if (s == "false" || s == "0" || s == "no" || s == "off")
              c.*field = false;
            else
              throw std::invalid_argument("expected true or false");
          }};
}

const std::vector<Def>& defs() {
  static const std::vector<Def> all = {
      text("data-dir", &Config::data_dir, "Folder for the embedded database and demo credentials"),
      text("database-url", &Config::database_url,
           "Database URL: sqlite:<path> or postgres://user@host:port/db; empty means sqlite:<data-dir>/parley.db"),
      text("host", &Config::host, "Address to listen on"),
      integer("port", &Config::port, 0, 65535, "TCP port to listen on (0 picks a free port)"),
      integer("threads", &Config::threads, 0, 256, "Network threads; 0 means one per CPU core"),
      integer("db-threads", &Config::db_threads, 1, 256, "Threads that run database work"),
      integer("send-batch-max", &Config::send_batch_max, 1, 10000,
              "Message sends committed together in one transaction at most (group commit)"),
      integer("send-batch-window-us", &Config::send_batch_window_us, 0, 100000,
              "Microseconds a send batch waits for more sends; 0 takes only those queued while the last commit ran"),
      integer("send-committers", &Config::send_committers, 1, 64,
              "Send batches committed side by side, each for its own share of channels (PostgreSQL; SQLite has "
              "one writer)"),
      integer("max-connections", &Config::max_connections, 1, 10000000, "Open connections allowed at once"),
      integer("max-body-bytes", &Config::max_body_bytes, 1, 1LL << 32, "Largest request body accepted (413 above)"),
      integer("max-header-bytes", &Config::max_header_bytes, 512, 1 << 20, "Largest request head accepted (431 above)"),
      integer("header-timeout-ms", &Config::header_timeout_ms, 100, 3600000,
              "Time allowed for a whole request head to arrive"),
      integer("body-timeout-ms", &Config::body_timeout_ms, 100, 3600000,
              "Time allowed for a whole request body to arrive"),
      integer("idle-timeout-ms", &Config::idle_timeout_ms, 100, 3600000,
              "A keep-alive connection with no request is closed after this"),
      integer("shutdown-grace-ms", &Config::shutdown_grace_ms, 0, 3600000,
              "On SIGTERM/SIGINT, in-flight requests get this long to finish"),
      text("cors-origins", &Config::cors_origins, "Comma-separated allowed CORS origins, or *; empty: CORS off"),
      text("web-dir", &Config::web_dir,
           "Folder of the built web app served at /; empty: ./web/app/dist (or the source tree's) if present; off: "
           "none"),
      text("admin-key", &Config::admin_key,
           "Super-admin key; empty: one is generated on first start, printed once, stored hashed"),
      text("log-level", &Config::log_level, "trace, debug, info, warn, error or off"),
      flag("access-log", &Config::access_log, "Log one line per HTTP request"),
      flag("demo", &Config::demo, "Create the demo app and users on first start of an empty database"),
      flag("auto-migrate", &Config::auto_migrate, "Apply pending schema migrations when serving"),
      integer("access-token-ttl", &Config::access_token_ttl, 10, 86400LL * 7, "Access token lifetime, seconds"),
      integer("refresh-token-ttl", &Config::refresh_token_ttl, 60, 86400LL * 3650, "Refresh token lifetime, seconds"),
      integer("rotate-confirm-ttl", &Config::rotate_confirm_ttl, 10, 86400,
              "How long a key-rotation confirm token stays valid, seconds"),
      real("rate-limit-ip-per-sec", &Config::rate_limit_ip_per_sec, 0.01, 1e9, "Requests per second per client IP"),
      integer("rate-limit-ip-burst", &Config::rate_limit_ip_burst, 1, 1000000000, "Burst allowance per client IP"),
      real("rate-limit-user-per-sec", &Config::rate_limit_user_per_sec, 0.01, 1e9, "Requests per second per user"),
      integer("rate-limit-user-burst", &Config::rate_limit_user_burst, 1, 1000000000, "Burst allowance per user"),
      integer("ws-max-message-bytes", &Config::ws_max_message_bytes, 256, 16 << 20,
              "Largest WebSocket message a client may send (closed with 1009 above)"),
      integer("ws-max-queue-bytes", &Config::ws_max_queue_bytes, 4096, 1LL << 32,
              "Outbound bytes queued for one WebSocket before it is cut off as a slow consumer"),
      integer("ws-coalesce-us", &Config::ws_coalesce_us, 0, 100000,
              "Events for one WebSocket within this many microseconds go out in one write (0: each at once)"),
      integer("ws-heartbeat-ms", &Config::ws_heartbeat_ms, 1000, 3600000,
              "A WebSocket silent this long is closed; the server pings at half of it"),
      integer("ws-auth-timeout-ms", &Config::ws_auth_timeout_ms, 100, 600000,
              "Time a WebSocket connected without a token has to send its auth frame"),
      real("ws-rate-per-sec", &Config::ws_rate_per_sec, 0.01, 1e9, "WebSocket commands per second per connection"),
      integer("ws-rate-burst", &Config::ws_rate_burst, 1, 1000000000, "Burst allowance of WebSocket commands"),
      integer("presence-grace-ms", &Config::presence_grace_ms, 0, 600000,
              "A user goes offline this long after their last connection closed"),
      integer("typing-ttl-ms", &Config::typing_ttl_ms, 500, 600000,
              "Typing stops by itself this long after the last typing.start"),
      integer("resume-max-messages", &Config::resume_max_messages, 1, 100000,
              "Messages a resume replays per channel before telling the client to page over REST"),
      integer("jobs-workers", &Config::jobs_workers, 0, 256,
              "Threads running background jobs on this node; 0: this node runs none (it still enqueues)"),
      integer("jobs-prefetch", &Config::jobs_prefetch, 1, 10000,
              "Jobs a node claims at once and holds, waiting or running, at most"),
      integer("jobs-poll-ms", &Config::jobs_poll_ms, 10, 60000, "How often an idle node looks for due jobs"),
      integer("jobs-lease-ms", &Config::jobs_lease_ms, 1000, 3600000,
              "A claimed job goes back to the queue this long after its node stopped renewing the claim"),
      flag("jobs-test-kinds", &Config::jobs_test_kinds,
           "Register the job kinds test.noop and test.record (for tests and benchmarks only)"),
      integer("outbox-replay-after-ms", &Config::outbox_replay_after_ms, 0, 86400000,
              "Messages whose webhooks and link previews were not confirmed this long after their commit (their "
              "node died) are handed to them again"),
      integer("search-index-delay-ms", &Config::search_index_delay_ms, 0, 3600000,
              "After a send, the search indexer waits this long to index the messages sent meanwhile together "
              "(a message is searchable this long, plus a pass, after its send)"),
      flag("test-hold-events", &Config::test_hold_events,
           "Webhooks and link previews keep every event and act on none, so that a test can kill the process "
           "before they confirm (tests only)"),
      text("outbound-allow", &Config::outbound_allow,
           "Comma-separated IP ranges (CIDR) outgoing webhooks and link previews may reach although private or "
           "loopback"),
      text("webhooks-retry-schedule", &Config::webhooks_retry_schedule,
           "Delays before each retry of a failed webhook delivery (ms, s, m, h); attempts: one more than listed"),
      integer("webhooks-disable-after", &Config::webhooks_disable_after, 1, 1000000,
              "Deliveries in a row that failed for good before an endpoint is disabled"),
      integer("webhooks-timeout-ms", &Config::webhooks_timeout_ms, 100, 120000,
              "Time a webhook endpoint has to answer one delivery"),
      integer("webhooks-max-endpoints", &Config::webhooks_max_endpoints, 1, 10000, "Webhook endpoints per app at most"),
      integer("previews-timeout-ms", &Config::previews_timeout_ms, 100, 60000,
              "Time a page has to answer a link preview fetch, redirects included"),
      integer("previews-max-kb", &Config::previews_max_kb, 16, 16384, "Kilobytes of a page read for its link preview"),
      integer("previews-max-per-message", &Config::previews_max_per_message, 0, 10,
              "URLs of a message that get a link preview, the first ones (0: no previews)"),
      integer("previews-ttl-s", &Config::previews_ttl_s, 1, 31536000,
              "Seconds a link preview is kept before its page is fetched again"),
      text("files-storage", &Config::files_storage, "Where file bytes are stored: local (a folder) or s3"),
      text("files-dir", &Config::files_dir, "The local file store's folder (default: <data-dir>/files)"),
      integer("files-max-mb", &Config::files_max_mb, 1, 102400, "Largest file upload, MiB"),
      integer("files-url-ttl-s", &Config::files_url_ttl_s, 10, 604800, "Seconds a signed file URL stays valid"),
      integer("files-orphan-ttl-s", &Config::files_orphan_ttl_s, 60, 31536000,
              "Seconds after which an uploaded file that no message references is removed"),
      integer("files-workers", &Config::files_workers, 1, 64,
              "Threads that hash, sniff and make thumbnails of uploaded files"),
      text("public-url", &Config::public_url,
           "Base URL of this server as clients reach it (https://chat.example.com); default: from the request's Host"),
      text("s3-endpoint", &Config::s3_endpoint, "S3-compatible endpoint URL (files-storage s3)"),
      text("s3-region", &Config::s3_region, "S3 region"),
      text("s3-bucket", &Config::s3_bucket, "S3 bucket (must exist)"),
      text("s3-access-key", &Config::s3_access_key, "S3 access key id"),
      text("s3-secret-key", &Config::s3_secret_key, "S3 secret access key"),
      flag("s3-path-style", &Config::s3_path_style,
           "Path-style S3 URLs (endpoint/bucket/key); false: virtual-host style (bucket.endpoint/key)"),
      integer("page-default", &Config::page_default, 1, 10000, "Page size when a list request gives no limit"),
      integer("page-max", &Config::page_max, 1, 10000, "Largest page size a list request may ask for"),
  };
  return all;
}

std::string env_name(const std::string& name) {
  std::string env = "PARLEY_";
  for (char c : name) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return env;
}

std::string key_name(const std::string& name) {
  std::string key = name;
  for (char& c : key) c = c == '-' ? '_' : c;
  return key;
}

std::optional<std::string> toml_value(const toml::table& tbl, const std::string& key) {
  const toml::node* node = tbl.get(key);
  if (!node) return std::nullopt;
  if (auto s = node->value<std::string>(); s && node->is_string()) return *s;
  if (node->is_integer()) return std::to_string(*node->value<long long>());
  if (node->is_floating_point()) return std::to_string(*node->value<double>());
  if (node->is_boolean()) return *node->value<bool>() ? "true" : "false";
  throw std::runtime_error("config file: '" + key + "' has an unsupported type");
}

}  // namespace

void ConfigLoader::register_flags(CLI::App& cmd) {
  cmd.add_option("--config", config_path_, "TOML config file (env PARLEY_CONFIG)");
  Config defaults;
  for (const auto& d : defs()) {
    std::string help = d.help + " [env " + env_name(d.name) + ", default '" + d.show(defaults) + "']";
    flags_[d.name] = cmd.add_option("--" + d.name, given_[d.name], help);
  }
}

Config ConfigLoader::resolve() const {
  Config cfg;
  std::string path = config_path_;
  if (path.empty()) {
    if (const char* e = std::getenv("PARLEY_CONFIG")) path = e;
  }
  toml::table file;
  if (!path.empty()) {
    try {
      file = toml::parse_file(path);
    } catch (const toml::parse_error& err) {
      throw std::runtime_error("config file " + path + ": " + std::string(err.description()));
    }
    std::set<std::string> known;
    for (const auto& d : defs()) known.insert(key_name(d.name));
    for (const auto& [k, v] : file) {
      if (!known.contains(std::string(k.str()))) {
        throw std::runtime_error("config file " + path + ": unknown option '" + std::string(k.str()) + "'");
      }
    }
    cfg.config_file = path;
  }
  for (const auto& d : defs()) {
    std::optional<std::string> value;
    std::string source;
    auto flag_it = flags_.find(d.name);
    if (flag_it != flags_.end() && flag_it->second->count() > 0) {
      value = given_.at(d.name);
      source = "flag --" + d.name;
    } else if (const char* e = std::getenv(env_name(d.name).c_str())) {
      value = e;
      source = "environment variable " + env_name(d.name);
    } else if (auto t = toml_value(file, key_name(d.name))) {
      value = t;
      source = "config file key " + key_name(d.name);
    }
    if (!value) continue;
    try {
      d.set(cfg, *value);
    } catch (const std::exception& ex) {
      throw std::runtime_error(source + ": invalid value '" + *value + "': " + ex.what());
    }
  }
  if (cfg.page_default > cfg.page_max) throw std::runtime_error("page-default must not exceed page-max");
  return cfg;
}

std::vector<OptionInfo> ConfigLoader::describe() {
  Config defaults;
  std::vector<OptionInfo> out;
  for (const auto& d : defs()) {
    out.push_back({d.name, env_name(d.name), key_name(d.name), d.show(defaults), d.help});
  }
  return out;
}

}  // namespace parley
