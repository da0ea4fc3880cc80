#pragma once
// The application layer both front ends (REST in api/, WebSocket in realtime/) stand on: the
// long-lived services a request or a realtime command may use. Built by the composition root
// (server/); thread-safe.
#include <cstdint>
#include <functional>
#include <string>

#include "auth/rate_limiter.hpp"
#include "auth/token_service.hpp"
#include "chat/chat_service.hpp"
#include "config/config.hpp"
#include "files/file_service.hpp"
#include "jobs/job_queue.hpp"
#include "metrics/metrics.hpp"
#include "search/search_service.hpp"
#include "store/store.hpp"
#include "tenancy/tenancy_service.hpp"
#include "users/user_service.hpp"
#include "webhooks/before_send.hpp"
#include "webhooks/webhook_service.hpp"

namespace boost::asio {
class thread_pool;
}

namespace parley::services {

/// Long-lived services shared by every request and every realtime session. Thread-safe.
struct Services {
  const Config& cfg;
  store::Store& store;
  boost::asio::thread_pool& db_pool;
  metrics::Metrics& metrics;
  tenancy::TenancyService& tenancy;
  auth::TokenService& tokens;
  users::UserService& users;
  chat::ChatService& chat;
  jobs::JobQueue& jobs;
  webhooks::WebhookService& webhooks;
  webhooks::BeforeSendHooks& before_send;
  search::SearchService& search;
  files::FileService& files;
  boost::asio::thread_pool& files_pool;  // hashing, sniffing, thumbnails, storage transfers
  auth::RateLimiter ip_limits;
  auth::RateLimiter user_limits;
  std::function<bool()> ready;  // false while starting or draining
  std::function<bool(const std::string& app_id, const std::string& user_id)> online;  // realtime presence
  /// Closes a user's realtime connections (code: 4001 tokens revoked, 4003 deactivated).
  std::function<void(const std::string& app_id, const std::string& user_id, std::uint16_t code)> disconnect;
  /// A job was enqueued on this node: its runner looks for due jobs now (no-op without one).
  std::function<void()> jobs_enqueued;
  /// An app's search index was dropped to be built again: the indexer looks at every channel now.
  std::function<void()> search_reindex;
  /// The demo app when the server runs with --demo and it exists (set before serving); else empty.
  std::string demo_app_id;
};

}  // namespace parley::services
