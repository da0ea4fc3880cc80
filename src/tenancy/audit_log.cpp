#include "tenancy/audit_log.hpp"

#include "store/sql/database.hpp"

namespace parley::tenancy {

using store::sql::Connection;

Status AuditLog::append(const AuditEntry& e) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(
        "INSERT INTO audit_log(at, actor, action, app_id, target, details, request_id) "
        "VALUES($1, $2, $3, $4, $5, $6, $7)");
    st->bind(1, e.at).bind(2, e.actor).bind(3, e.action).bind(4, e.app_id).bind(5, e.target);
    st->bind(6, e.details_json).bind(7, e.request_id).run();
    return ok_status();
  });
}

Result<std::vector<AuditEntry>> AuditLog::list(const std::optional<std::string>& app_id, std::int64_t before_id,
                                               int limit) {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<AuditEntry>> {
    auto st = c.prepare(
        "SELECT id, at, actor, action, app_id, target, details, request_id FROM audit_log "
        "WHERE ($1::text IS NULL OR app_id = $1) AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3");
    st->bind(1, app_id).bind(2, before_id).bind(3, limit);
    std::vector<AuditEntry> out;
    while (st->step()) {
      out.push_back({st->int64(0), st->int64(1), st->text(2), st->text(3), st->opt_text(4), st->opt_text(5),
                     st->text(6), st->opt_text(7)});
    }
    return out;
  });
}

}  // namespace parley::tenancy
