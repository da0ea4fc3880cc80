// /v1/admin/jobs and /v1/admin/job-schedules: the durable job queue (docs/jobs.md). Super-admin
// key only: list by state, inspect, enqueue, retry, delete dead letters, queue stats, cron
// schedules.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/errors.hpp"
#include "api/params.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "core/json_reader.hpp"
#include "jobs/cron.hpp"
#include "services/on_db.hpp"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;

constexpr std::size_t kMaxKind = 100;
constexpr std::size_t kMaxUniqueKey = 200;
constexpr std::size_t kMaxPayloadBytes = 64 << 10;
constexpr std::size_t kMaxScheduleName = 100;
constexpr std::int64_t kMaxDelayMs = 366LL * 86'400'000;

json::value opt(const std::optional<std::string>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value opt_time(const std::optional<TimeMs>& v) { return v ? json::value(format_time(*v)) : json::value(nullptr); }

json::value payload_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

json::object to_json(const jobs::Job& j) {
  return {{"id", j.id},
          {"kind", j.kind},
          {"state", jobs::state_name(j.state)},
          {"app_id", opt(j.app_id)},
          {"payload", payload_json(j.payload)},
          {"unique_key", opt(j.unique_key)},
          {"order_key", opt(j.order_key)},
          {"run_at", format_time(j.run_at)},
          {"attempts", j.attempts},
          {"max_attempts", j.max_attempts},
          {"lease_owner", opt(j.lease_owner)},
          {"lease_until", opt_time(j.lease_until)},
          {"last_error", opt(j.last_error)},
          {"created_at", format_time(j.created_at)},
          {"started_at", opt_time(j.started_at)},
          {"updated_at", format_time(j.updated_at)}};
}

json::object to_json(const jobs::Schedule& s) {
  json::value last_job = s.last_job_id ? json::value(*s.last_job_id) : json::value(nullptr);
  return {{"name", s.name},
          {"cron", s.cron},
          {"kind", s.kind},
          {"payload", payload_json(s.payload)},
          {"next_run_at", format_time(s.next_run_at)},
          {"last_run_at", opt_time(s.last_run_at)},
          {"last_job_id", last_job},
          {"created_at", format_time(s.created_at)},
          {"updated_at", format_time(s.updated_at)}};
}

// A job kind: lowercase letters, digits and . _ - (e.g. webhook.deliver).
Status check_kind(const std::string& kind) {
  for (char ch : kind) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) return invalid("kind", "may hold only lowercase letters, digits and . _ -");
  }
  return ok_status();
}

Result<std::int64_t> job_id(const Ctx& c) {
  const std::string& raw = c.param("job_id");
  std::int64_t id = 0;
  for (char ch : raw) {
    if (ch < '0' || ch > '9' || raw.size() > 18) return Error{Errc::not_found, "no job " + raw};
    id = id * 10 + (ch - '0');
  }
  if (raw.empty() || id <= 0) return Error{Errc::not_found, "no job " + raw};
  return id;
}

Result<std::optional<jobs::JobState>> state_param(const Ctx& c) {
  auto raw = c.req.param("state");
  if (!raw) return std::optional<jobs::JobState>{};
  auto s = jobs::parse_state(*raw);
  if (!s) {
    return Error{Errc::invalid_request, "query parameter 'state' must be queued, running or dead"}.with("param",
                                                                                                        "state");
  }
  return std::optional<jobs::JobState>{*s};
}

std::optional<std::string> text_param(const Ctx& c, std::string_view name) {
  auto raw = c.req.param(name);
  if (!raw || raw->empty()) return std::nullopt;
  return std::string(*raw);
}

std::string audit_details(std::initializer_list<std::pair<std::string_view, json::value>> fields) {
  json::object o;
  for (const auto& [k, v] : fields) o[k] = v;
  return json::serialize(o);
}

R list_jobs(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto before, id_cursor(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto state, state_param(c));
  jobs::JobFilter f;
  f.state = state;
  f.kind = text_param(c, "kind");
  f.app_id = text_param(c, "app_id");
  f.limit = limit + 1;
  f.before_id = before;
  PARLEY_CO_ASSIGN_OR_RETURN(auto rows, co_await on_db(c.s, [&] { return c.s.jobs.list(f); }));
  co_return json_response(200, page_of(
                                   rows, limit, [](const auto& j) { return to_json(j); },
                                   [](const auto& j) { return std::to_string(j.id); }));
}

R enqueue_job(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto kind = r.string("kind", true, 1, kMaxKind);
  auto payload = r.object("payload", false, kMaxPayloadBytes);
  auto app_id = r.string("app_id", false, 1, 100);
  auto unique_key = r.string("unique_key", false, 1, kMaxUniqueKey);
  auto order_key = r.string("order_key", false, 1, kMaxUniqueKey);
  auto run_at_text = r.string("run_at", false, 1, 64);
  auto delay_ms = r.integer("delay_ms", false, 0, kMaxDelayMs);
  auto max_attempts = r.integer("max_attempts", false, 1, jobs::kMaxAttemptsLimit);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_TRY(check_kind(*kind));
  jobs::NewJob job;
  job.kind = *kind;
  job.payload = json::serialize(payload.value_or(json::object{}));
  job.app_id = app_id;
  job.unique_key = unique_key;
  job.order_key = order_key;
  job.max_attempts = static_cast<int>(max_attempts.value_or(0));
  if (run_at_text && delay_ms) co_return invalid("run_at", "give run_at or delay_ms, not both");
  if (run_at_text) {
    auto t = parse_time(*run_at_text);
    if (!t) co_return invalid("run_at", "must be an RFC 3339 time");
    job.run_at = *t;
  } else if (delay_ms) {
    job.run_at = now_ms() + *delay_ms;
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto made, co_await on_db(c.s, [&]() -> Result<std::pair<jobs::Job, bool>> {
                               if (job.app_id) {
                                 if (auto app = c.s.store.get_app(*job.app_id); !app) {
                                   return violates("app_id", "no app '" + *job.app_id + "'");
                                 }
                               }
                               PARLEY_ASSIGN_OR_RETURN(auto e, c.s.jobs.enqueue(job));
                               if (!e.duplicate) {
                                 (void)c.s.tenancy.audit_action(c.actor(), "job.enqueue", job.app_id,
                                                                std::to_string(e.id),
                                                                audit_details({{"kind", json::value(job.kind)}}));
                               }
                               PARLEY_ASSIGN_OR_RETURN(auto j, c.s.jobs.get(e.id));
                               return std::pair{std::move(j), e.duplicate};
                             }));
  auto& [made_job, duplicate] = made;
  if (!duplicate && c.s.jobs_enqueued) c.s.jobs_enqueued();
  co_return json_response(duplicate ? 200 : 201, json::object{{"job", to_json(made_job)}, {"duplicate", duplicate}});
}

R get_job(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto id, job_id(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto j, co_await on_db(c.s, [&] { return c.s.jobs.get(id); }));
  co_return json_response(200, json::object{{"job", to_json(j)}});
}

R retry_job(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto id, job_id(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body(true));
  PARLEY_CO_TRY(ObjectReader(body).finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto j, co_await on_db(c.s, [&]() -> Result<jobs::Job> {
                               PARLEY_ASSIGN_OR_RETURN(auto job, c.s.jobs.retry(id, now_ms()));
                               (void)c.s.tenancy.audit_action(c.actor(), "job.retry", job.app_id, std::to_string(id),
                                                              audit_details({{"kind", json::value(job.kind)}}));
                               return job;
                             }));
  if (c.s.jobs_enqueued) c.s.jobs_enqueued();
  co_return json_response(200, json::object{{"job", to_json(j)}});
}

R delete_job(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto id, job_id(c));
  PARLEY_CO_TRY(co_await on_db(c.s, [&]() -> Status {
    PARLEY_ASSIGN_OR_RETURN(auto job, c.s.jobs.get(id));
    PARLEY_TRY(c.s.jobs.remove(id));
    return c.s.tenancy.audit_action(
        c.actor(), "job.delete", job.app_id, std::to_string(id),
        audit_details({{"kind", json::value(job.kind)}, {"state", json::value(jobs::state_name(job.state))}}));
  }));
  co_return no_content();
}

R purge_jobs(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto state, state_param(c));
  if (state != jobs::JobState::dead) {
    co_return Error{Errc::invalid_request, "only dead letters can be deleted in bulk: add ?state=dead"}.with("param",
                                                                                                             "state");
  }
  auto kind = text_param(c, "kind");
  PARLEY_CO_ASSIGN_OR_RETURN(auto n, co_await on_db(c.s, [&]() -> Result<std::int64_t> {
                               PARLEY_ASSIGN_OR_RETURN(auto deleted, c.s.jobs.purge_dead(kind));
                               (void)c.s.tenancy.audit_action(
                                   c.actor(), "job.purge_dead", std::nullopt, std::nullopt,
                                   audit_details({{"kind", kind ? json::value(*kind) : json::value(nullptr)},
                                                  {"deleted", json::value(deleted)}}));
                               return deleted;
                             }));
  co_return json_response(200, json::object{{"deleted", n}});
}

R job_stats(Ctx& c) {
  TimeMs now = now_ms();
  PARLEY_CO_ASSIGN_OR_RETURN(auto s, co_await on_db(c.s, [&] { return c.s.jobs.stats(now); }));
  json::object kinds;
  for (const auto& k : s.by_kind) {
    auto& entry = kinds[k.kind];
    if (!entry.is_object()) entry = json::object{{"queued", 0}, {"running", 0}, {"dead", 0}};
    entry.as_object()[jobs::state_name(k.state)] = k.count;
  }
  json::value oldest = s.oldest_ready_at ? json::value(format_time(*s.oldest_ready_at)) : json::value(nullptr);
  json::value age =
      s.oldest_ready_at ? json::value(std::max<TimeMs>(0, now - *s.oldest_ready_at)) : json::value(nullptr);
  co_return json_response(200, json::object{{"queued", s.queued},
                                            {"running", s.running},
                                            {"dead", s.dead},
                                            {"ready", s.ready},
                                            {"oldest_ready_at", oldest},
                                            {"oldest_ready_age_ms", age},
                                            {"kinds", std::move(kinds)}});
}

Status check_schedule_name(const std::string& name) {
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-';
    if (!ok) return Error{Errc::invalid_request, "a schedule name may hold only letters, digits and . _ -"};
  }
  if (name.empty() || name.size() > kMaxScheduleName) {
    return Error{Errc::invalid_request, "a schedule name has 1 to 100 characters"};
  }
  return ok_status();
}

R list_schedules(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto rows, co_await on_db(c.s, [&] { return c.s.jobs.list_schedules(); }));
  json::array items;
  for (const auto& s : rows) items.push_back(to_json(s));
  co_return json_response(200, json::object{{"items", std::move(items)}});
}

R get_schedule(Ctx& c) {
  const std::string& name = c.param("name");
  PARLEY_CO_ASSIGN_OR_RETURN(auto s, co_await on_db(c.s, [&] { return c.s.jobs.get_schedule(name); }));
  co_return json_response(200, json::object{{"schedule", to_json(s)}});
}

R put_schedule(Ctx& c) {
  const std::string& name = c.param("name");
  PARLEY_CO_TRY(check_schedule_name(name));
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto cron = r.string("cron", true, 1, 200);
  auto kind = r.string("kind", true, 1, kMaxKind);
  auto payload = r.object("payload", false, kMaxPayloadBytes);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_TRY(check_kind(*kind));
  PARLEY_CO_TRY(jobs::Cron::parse(*cron));
  std::string payload_text = json::serialize(payload.value_or(json::object{}));
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto s, co_await on_db(c.s, [&]() -> Result<jobs::Schedule> {
        PARLEY_ASSIGN_OR_RETURN(auto saved, c.s.jobs.put_schedule(name, *cron, *kind, payload_text, now_ms()));
        (void)c.s.tenancy.audit_action(c.actor(), "job_schedule.put", std::nullopt, name,
                                       audit_details({{"cron", json::value(*cron)}, {"kind", json::value(*kind)}}));
        return saved;
      }));
  co_return json_response(200, json::object{{"schedule", to_json(s)}});
}

R delete_schedule(Ctx& c) {
  const std::string& name = c.param("name");
  PARLEY_CO_TRY(co_await on_db(c.s, [&]() -> Status {
    PARLEY_TRY(c.s.jobs.delete_schedule(name));
    return c.s.tenancy.audit_action(c.actor(), "job_schedule.delete", std::nullopt, name);
  }));
  co_return no_content();
}

}  // namespace

void add_job_routes(Router& r) {
  r.add({"GET", "/v1/admin/jobs", Access::admin, true, list_jobs});
  r.add({"POST", "/v1/admin/jobs", Access::admin, true, enqueue_job});
  r.add({"DELETE", "/v1/admin/jobs", Access::admin, true, purge_jobs});
  r.add({"GET", "/v1/admin/jobs/stats", Access::admin, true, job_stats});
  r.add({"GET", "/v1/admin/jobs/{job_id}", Access::admin, true, get_job});
  r.add({"DELETE", "/v1/admin/jobs/{job_id}", Access::admin, true, delete_job});
  r.add({"POST", "/v1/admin/jobs/{job_id}/retry", Access::admin, true, retry_job});
  r.add({"GET", "/v1/admin/job-schedules", Access::admin, true, list_schedules});
  r.add({"GET", "/v1/admin/job-schedules/{name}", Access::admin, true, get_schedule});
  r.add({"PUT", "/v1/admin/job-schedules/{name}", Access::admin, true, put_schedule});
  r.add({"DELETE", "/v1/admin/job-schedules/{name}", Access::admin, true, delete_schedule});
}

}  // namespace parley::api
