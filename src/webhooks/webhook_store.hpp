#pragma once
// Outgoing webhooks' repository (tables in webhooks/migrations/): an app's endpoints and the
// delivery log, over the shared SQL layer, queries written once for both databases. Every call
// is scoped to an app except the ones the delivery job makes by id (the job carries the app).
// Thread-safe; calls block on the database, so make them from a database or worker thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"

namespace parley::store::sql {
class Database;
}

namespace parley::webhooks {

struct Endpoint {
  std::string id;
  std::string app_id;
  std::string url;
  std::string description;
  std::vector<std::string> event_types;  // event names, or the one entry "*": all
  std::string secret;
  std::optional<std::string> previous_secret;  // signs too until previous_secret_until
  std::optional<TimeMs> previous_secret_until;
  bool enabled = true;
  std::optional<std::string> disabled_reason;
  int failures_in_a_row = 0;               // deliveries that failed for good since the last success
  std::optional<std::string> bot_user_id;  // acts for this bot: only the events of its channels
  bool ordered = false;                    // a channel's deliveries one at a time, in event order
  TimeMs created_at = 0;
  TimeMs updated_at = 0;

  bool wants(std::string_view event_type) const;
  /// The secrets that sign a message sent at `now`: the current one, and the previous one during
  /// its overlap window.
  std::vector<std::string> signing_secrets(TimeMs now) const;
};

enum class DeliveryState { pending, succeeded, failed };
std::string_view state_name(DeliveryState s);

struct Delivery {
  std::int64_t id = 0;
  std::string app_id;
  std::string endpoint_id;
  std::string message_id;  // webhook-id: the same on every attempt
  std::string event_type;
  std::string payload;
  DeliveryState state = DeliveryState::pending;
  int attempts = 0;
  std::optional<int> status_code;
  std::optional<std::int64_t> latency_ms;
  std::optional<std::string> error;
  std::optional<std::string> response_excerpt;
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
};

/// One delivery to write: for `endpoint_id`, of an event as its JSON payload.
struct NewDelivery {
  std::string endpoint_id;
  std::string event_type;
  std::string payload;
  std::optional<std::string> order_key = std::nullopt;   // ordered endpoints: endpoint and channel
  std::optional<std::string> message_id = std::nullopt;  // the webhook-id; absent: a random one
};

/// What one attempt came to.
struct Attempt {
  DeliveryState state = DeliveryState::pending;  // pending: another attempt follows
  std::optional<int> status_code;
  std::optional<std::int64_t> latency_ms;
  std::optional<std::string> error;
  std::optional<std::string> response_excerpt;
};

class WebhookStore {
 public:
  explicit WebhookStore(store::sql::Database& db) : db_(db) {}

  Status create(const Endpoint& e);
  Result<Endpoint> get(const std::string& app_id, const std::string& id);
  /// Oldest first.
  Result<std::vector<Endpoint>> list(const std::string& app_id);
  Result<std::int64_t> count(const std::string& app_id);
  /// Writes every field but id, app_id and created_at.
  Status update(const Endpoint& e);
  Status remove(const std::string& app_id, const std::string& id);
  /// Whether any app has an enabled endpoint.
  Result<bool> any_enabled();

  /// Writes the deliveries and, in the same transaction, one webhook.deliver job for each, so a
  /// recorded delivery is always attempted. Returns them with their ids.
  Result<std::vector<Delivery>> enqueue(const std::string& app_id, const std::vector<NewDelivery>& deliveries,
                                        int max_attempts, TimeMs now);
  Result<Delivery> delivery(std::int64_t id);
  /// One endpoint's deliveries, newest first, ids below `before_id` (0: from the newest).
  Result<std::vector<Delivery>> deliveries(const std::string& app_id, const std::string& endpoint_id,
                                           std::int64_t before_id, int limit);
  /// Records an attempt on the delivery and, when it ends the delivery, on its endpoint: success
  /// clears failures_in_a_row, failure adds one. Returns the endpoint's failures_in_a_row.
  Result<int> record(std::int64_t delivery_id, const Attempt& a, TimeMs now);

 private:
  store::sql::Database& db_;
};

}  // namespace parley::webhooks
