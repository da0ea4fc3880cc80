#include "webhooks/webhook_store.hpp"

#include <algorithm>
#include <sstream>

#include "core/crypto.hpp"
#include "jobs/job_queue.hpp"
#include "store/sql/database.hpp"

namespace parley::webhooks {

using store::sql::Connection;
using store::sql::Statement;
using store::sql::Transaction;

namespace {

constexpr const char* kEndpointColumns =
    "id, app_id, url, description, event_types, secret, previous_secret, previous_secret_until, state, "
    "disabled_reason, failures_in_a_row, created_at, updated_at, bot_user_id, ordered";

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Endpoint read_endpoint(const Statement& st) {
  Endpoint e;
  e.id = st.text(0);
  e.app_id = st.text(1);
  e.url = st.text(2);
  e.description = st.text(3);
  e.event_types = split(st.text(4));
  e.secret = st.text(5);
  e.previous_secret = st.opt_text(6);
  e.previous_secret_until = st.opt_int64(7);
  e.enabled = st.text(8) == "enabled";
  e.disabled_reason = st.opt_text(9);
  e.failures_in_a_row = static_cast<int>(st.int64(10));
  e.created_at = st.int64(11);
  e.updated_at = st.int64(12);
  e.bot_user_id = st.opt_text(13);
  e.ordered = st.boolean(14);
  return e;
}

constexpr const char* kDeliveryColumns =
    "id, app_id, endpoint_id, message_id, event_type, payload, state, attempts, status_code, latency_ms, error, "
    "response_excerpt, created_at, updated_at";

DeliveryState parse_delivery_state(const std::string& s) {
  if (s == "succeeded") return DeliveryState::succeeded;
  if (s == "failed") return DeliveryState::failed;
  return DeliveryState::pending;
}

Delivery read_delivery(const Statement& st) {
  Delivery d;
  d.id = st.int64(0);
  d.app_id = st.text(1);
  d.endpoint_id = st.text(2);
  d.message_id = st.text(3);
  d.event_type = st.text(4);
  d.payload = st.text(5);
  d.state = parse_delivery_state(st.text(6));
  d.attempts = static_cast<int>(st.int64(7));
  if (auto v = st.opt_int64(8)) d.status_code = static_cast<int>(*v);
  d.latency_ms = st.opt_int64(9);
  d.error = st.opt_text(10);
  d.response_excerpt = st.opt_text(11);
  d.created_at = st.int64(12);
  d.updated_at = st.int64(13);
  return d;
}

Error no_endpoint(const std::string& id) { return not_found("webhook endpoint '" + id + "'"); }

}  // namespace

bool Endpoint::wants(std::string_view event_type) const {
  return std::any_of(event_types.begin(), event_types.end(),
                     [&](const std::string& t) { return t == "*" || t == event_type; });
}

std::vector<std::string> Endpoint::signing_secrets(TimeMs now) const {
  std::vector<std::string> out{secret};
  if (previous_secret && previous_secret_until && *previous_secret_until > now) out.push_back(*previous_secret);
  return out;
}

std::string_view state_name(DeliveryState s) {
  switch (s) {
    case DeliveryState::pending: return "pending";
    case DeliveryState::succeeded: return "succeeded";
    case DeliveryState::failed: return "failed";
  }
  return "pending";
}

Status WebhookStore::create(const Endpoint& e) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(std::string("INSERT INTO webhook_endpoints(") + kEndpointColumns +
                        ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)");
    st->bind(1, e.id).bind(2, e.app_id).bind(3, e.url).bind(4, e.description).bind(5, join(e.event_types));
    st->bind(6, e.secret).bind(7, e.previous_secret).bind(8, e.previous_secret_until);
    st->bind(9, e.enabled ? "enabled" : "disabled").bind(10, e.disabled_reason).bind(11, e.failures_in_a_row);
    st->bind(12, e.created_at).bind(13, e.updated_at).bind(14, e.bot_user_id).bind_bool(15, e.ordered).run();
    return ok_status();
  });
}

Result<Endpoint> WebhookStore::get(const std::string& app_id, const std::string& id) {
  return db_.with_conn([&](Connection& c) -> Result<Endpoint> {
    auto st =
        c.prepare(std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints WHERE app_id = $1 AND id = $2");
    st->bind(1, app_id).bind(2, id);
    if (!st->step()) return no_endpoint(id);
    return read_endpoint(*st);
  });
}

Result<std::vector<Endpoint>> WebhookStore::list(const std::string& app_id) {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<Endpoint>> {
    auto st = c.prepare(std::string("SELECT ") + kEndpointColumns +
                        " FROM webhook_endpoints WHERE app_id = $1 ORDER BY created_at, id");
    st->bind(1, app_id);
    std::vector<Endpoint> out;
    while (st->step()) out.push_back(read_endpoint(*st));
    return out;
  });
}

Result<std::int64_t> WebhookStore::count(const std::string& app_id) {
  return db_.with_conn([&](Connection& c) -> Result<std::int64_t> {
    auto st = c.prepare("SELECT COUNT(*) FROM webhook_endpoints WHERE app_id = $1");
    st->bind(1, app_id);
    st->step();
    return st->int64(0);
  });
}

Status WebhookStore::update(const Endpoint& e) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(
        "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, secret = $6, "
        "previous_secret = $7, previous_secret_until = $8, state = $9, disabled_reason = $10, "
        "failures_in_a_row = $11, updated_at = $12, ordered = $13 WHERE app_id = $1 AND id = $2");
    st->bind(1, e.app_id).bind(2, e.id).bind(3, e.url).bind(4, e.description).bind(5, join(e.event_types));
    st->bind(6, e.secret).bind(7, e.previous_secret).bind(8, e.previous_secret_until);
    st->bind(9, e.enabled ? "enabled" : "disabled").bind(10, e.disabled_reason).bind(11, e.failures_in_a_row);
    st->bind(12, e.updated_at).bind_bool(13, e.ordered).run();
    if (c.changes() == 0) return no_endpoint(e.id);
    return ok_status();
  });
}

Status WebhookStore::remove(const std::string& app_id, const std::string& id) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare("DELETE FROM webhook_endpoints WHERE app_id = $1 AND id = $2");
    st->bind(1, app_id).bind(2, id).run();
    if (c.changes() == 0) return no_endpoint(id);
    return ok_status();
  });
}

Result<bool> WebhookStore::any_enabled() {
  return db_.with_conn([&](Connection& c) -> Result<bool> {
    auto st = c.prepare("SELECT 1 FROM webhook_endpoints WHERE state = 'enabled' LIMIT 1");
    return st->step();
  });
}

Result<std::vector<Delivery>> WebhookStore::enqueue(const std::string& app_id,
                                                    const std::vector<NewDelivery>& deliveries, int max_attempts,
                                                    TimeMs now) {
  std::vector<Delivery> out;
  out.reserve(deliveries.size());
  for (const auto& nd : deliveries) {
    Delivery d;
    d.app_id = app_id;
    d.endpoint_id = nd.endpoint_id;
    d.message_id = nd.message_id ? *nd.message_id : crypto::random_id("msg_", 26);
    d.event_type = nd.event_type;
    d.payload = nd.payload;
    d.created_at = d.updated_at = now;
    out.push_back(std::move(d));
  }
  return db_.with_conn([&](Connection& c) -> Result<std::vector<Delivery>> {
    Transaction tx(c);
    // A few dozen rows per statement: one INSERT per delivery costs the database's writer
    // several times as much. Row counts are powers of two, so that few statement texts are cached.
    constexpr std::size_t kPerRow = 4;
    for (std::size_t at = 0; at < out.size();) {
      std::size_t n = 64;
      while (n > out.size() - at) n /= 2;
      std::string sql =
          "INSERT INTO webhook_deliveries(app_id, endpoint_id, message_id, event_type, payload, created_at, "
          "updated_at) VALUES ";
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t p = 3 + i * kPerRow;
        sql += (i ? ", ($1, $" : "($1, $") + std::to_string(p) + ", $" + std::to_string(p + 1) + ", $" +
               std::to_string(p + 2) + ", $" + std::to_string(p + 3) + ", $2, $2)";
      }
      sql += " RETURNING id, message_id";
      auto ins = c.prepare(sql);
      ins->bind(1, app_id).bind(2, now);
      for (std::size_t i = 0; i < n; ++i) {
        const Delivery& d = out[at + i];
        const int p = static_cast<int>(3 + i * kPerRow);
        ins->bind(p, d.endpoint_id).bind(p + 1, d.message_id).bind(p + 2, d.event_type).bind(p + 3, d.payload);
      }
      // RETURNING promises no order: each id finds its row by the message id (unique per row:
      // random, or derived from the endpoint and the message, once per batch).
      while (ins->step()) {
        const std::string message_id = ins->text(1);
        for (std::size_t i = at; i < at + n; ++i) {
          if (out[i].id == 0 && out[i].message_id == message_id) {
            out[i].id = ins->int64(0);
            break;
          }
        }
      }
      at += n;
    }
    std::vector<jobs::NewJob> queued;
    queued.reserve(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].id == 0) return Error{Errc::internal, "webhook delivery insert returned no id"};  // rolled back
      jobs::NewJob job;
      job.kind = "webhook.deliver";
      job.app_id = app_id;
      job.payload = "{\"delivery_id\":" + std::to_string(out[i].id) + "}";
      job.max_attempts = max_attempts;
      job.order_key = deliveries[i].order_key;
      queued.push_back(std::move(job));
    }
    jobs::JobQueue::enqueue_many_on(c, queued, now);
    tx.commit();
    return out;
  });
}

Result<Delivery> WebhookStore::delivery(std::int64_t id) {
  return db_.with_conn([&](Connection& c) -> Result<Delivery> {
    auto st = c.prepare(std::string("SELECT ") + kDeliveryColumns + " FROM webhook_deliveries WHERE id = $1");
    st->bind(1, id);
    if (!st->step()) return not_found("webhook delivery " + std::to_string(id));
    return read_delivery(*st);
  });
}

Result<std::vector<Delivery>> WebhookStore::deliveries(const std::string& app_id, const std::string& endpoint_id,
                                                       std::int64_t before_id, int limit) {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<Delivery>> {
    auto st = c.prepare(std::string("SELECT ") + kDeliveryColumns +
                        " FROM webhook_deliveries WHERE app_id = $1 AND endpoint_id = $2 "
                        "AND ($3::bigint = 0 OR id < $3) ORDER BY id DESC LIMIT $4");
    st->bind(1, app_id).bind(2, endpoint_id).bind(3, before_id).bind(4, limit);
    std::vector<Delivery> out;
    while (st->step()) out.push_back(read_delivery(*st));
    return out;
  });
}

Result<int> WebhookStore::record(std::int64_t delivery_id, const Attempt& a, TimeMs now) {
  return db_.with_conn([&](Connection& c) -> Result<int> {
    Transaction tx(c);
    auto st = c.prepare(
        "UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1, status_code = $3, latency_ms = $4, "
        "error = $5, response_excerpt = $6, updated_at = $7 WHERE id = $1 RETURNING endpoint_id");
    st->bind(1, delivery_id).bind(2, state_name(a.state));
    if (a.status_code) {
      st->bind(3, *a.status_code);
    } else {
      st->bind_null(3);
    }
    st->bind(4, a.latency_ms).bind(5, a.error).bind(6, a.response_excerpt).bind(7, now);
    if (!st->step()) return not_found("webhook delivery " + std::to_string(delivery_id));
    const std::string endpoint_id = st->text(0);
    while (st->step()) {
    }
    int failures = 0;
    if (a.state != DeliveryState::pending) {
      auto ep = c.prepare(
          "UPDATE webhook_endpoints SET failures_in_a_row = CASE WHEN $2 THEN 0 ELSE failures_in_a_row + 1 END "
          "WHERE id = $1 RETURNING failures_in_a_row");
      ep->bind(1, endpoint_id).bind_bool(2, a.state == DeliveryState::succeeded);
      if (ep->step()) failures = static_cast<int>(ep->int64(0));
      while (ep->step()) {
      }
    }
    tx.commit();
    return failures;
  });
}

}  // namespace parley::webhooks
