#pragma once
// Parley's configuration: every option with its default. Values come from flags, then
// PARLEY_* environment variables, then the optional TOML config file, then the default, in
// that precedence (see options.cpp for the table). A Config is immutable after start-up.
#include <cstddef>
#include <cstdint>
#include <string>

namespace parley {

struct Config {
  // Where things live.
  std::string config_file;          // optional TOML file
  std::string data_dir = "./data";  // SQLite database, demo credentials
  std::string database_url;         // empty: sqlite:<data_dir>/parley.db

  // Network.
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;               // network threads; 0 = one per core
  int db_threads = 4;            // threads running database work
  int send_batch_max = 256;      // sends committed in one transaction at most (group commit)
  int send_batch_window_us = 0;  // a batch waits this long for more sends; 0: only what is queued
  int send_committers = 1;       // send batches committed side by side, each for its share of channels
  int max_connections = 10000;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int header_timeout_ms = 10000;  // whole request head must arrive within this
  int body_timeout_ms = 30000;    // whole body must arrive within this
  int idle_timeout_ms = 60000;    // keep-alive connection with no request
  int shutdown_grace_ms = 10000;  // in-flight requests get this long on SIGTERM
  std::string cors_origins;       // comma-separated, "*" for any; empty: CORS off
  std::string web_dir;            // built web app served at /; empty: ./web/app/dist if present

  // Operators and logs.
  std::string admin_key;  // empty: generated on first start, stored hashed
  std::string log_level = "info";
  bool access_log = true;
  bool demo = true;          // create the demo app on first start of an empty database
  bool auto_migrate = true;  // serve applies pending migrations at start

  // Auth.
  int access_token_ttl = 900;          // seconds
  int refresh_token_ttl = 30 * 86400;  // seconds
  int rotate_confirm_ttl = 900;        // seconds a key-rotation confirm token stays valid

  // Rate limits (token buckets).
  double rate_limit_ip_per_sec = 200;
  int rate_limit_ip_burst = 400;
  double rate_limit_user_per_sec = 50;
  int rate_limit_user_burst = 100;

  // Realtime (WebSocket at /v1/ws).
  std::size_t ws_max_message_bytes = 64 << 10;  // largest frame a client may send
  std::size_t ws_max_queue_bytes = 1 << 20;     // outbound bytes queued per connection before cut-off
  int ws_coalesce_us = 1000;                    // events for one connection within this window: one write
  int ws_heartbeat_ms = 30000;                  // silent connection closed after this; pings at half
  int ws_auth_timeout_ms = 10000;               // time to authenticate with a first frame
  double ws_rate_per_sec = 20;                  // commands per second per connection
  int ws_rate_burst = 50;
  int presence_grace_ms = 5000;   // offline only after this long without a connection
  int typing_ttl_ms = 5000;       // typing stops by itself after this without a refresh
  int resume_max_messages = 500;  // per channel; beyond it the client pages over REST

  // Jobs (the durable job queue in the database; docs/jobs.md).
  int jobs_workers = 2;                // threads running job handlers on this node; 0: this node runs no jobs
  int jobs_prefetch = 64;              // jobs claimed at once and held (waiting or running) per node at most
  int jobs_poll_ms = 250;              // an idle node looks for due jobs this often
  int jobs_lease_ms = 30000;           // a claimed job returns to the queue this long after its node stops renewing
  bool jobs_test_kinds = false;        // registers the test.noop and test.record kinds (tests, benchmarks)
  int outbox_replay_after_ms = 60000;  // unconfirmed outbox rows this old are replayed (chat/outbox.hpp)
  bool test_hold_events = false;       // tests only: webhooks and previews keep events, dispatch none
  int search_index_delay_ms = 100;     // the search indexer gathers sends this long before a pass

  // Outgoing webhooks (docs/webhooks.md) and outgoing HTTP.
  std::string outbound_allow;  // CIDR ranges allowed although private/loopback; empty: public addresses only
  std::string webhooks_retry_schedule = "5s,30s,2m,10m,30m,1h,3h,6h";
  int webhooks_disable_after = 20;  // deliveries in a row failed for good disable an endpoint
  int webhooks_timeout_ms = 10000;
  int webhooks_max_endpoints = 20;

  // Link previews (docs/link-previews.md); each app turns them off with its link_previews setting.
  int previews_timeout_ms = 5000;    // per page fetch, redirects included
  int previews_max_kb = 1024;        // of a page read at most
  int previews_max_per_message = 3;  // URLs previewed per message
  int previews_ttl_s = 86400;        // a preview is fetched again after this

  // Files (docs/files.md).
  std::string files_storage = "local";  // local or s3
  std::string files_dir;                // local store's folder; empty: <data_dir>/files
  int files_max_mb = 100;               // largest upload
  int files_url_ttl_s = 3600;           // signed download URLs live this long
  int files_orphan_ttl_s = 86400;       // files no message references are removed after this
  int files_workers = 2;                // threads hashing, sniffing and making thumbnails
  std::string public_url;               // base of the URLs handed out; empty: from the request's Host
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  std::string s3_bucket;
  std::string s3_access_key;
  std::string s3_secret_key;
  bool s3_path_style = true;

  // Paging.
  int page_default = 50;
  int page_max = 200;

  /// The database URL with the embedded default filled in.
  std::string effective_database_url() const;
};

}  // namespace parley
