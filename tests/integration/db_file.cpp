#include "db_file.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <stdexcept>

#include "server_process.hpp"

namespace parley::test {

namespace {
struct Stmt {
  sqlite3_stmt* st = nullptr;
  ~Stmt() { sqlite3_finalize(st); }
};

void prepare(sqlite3* db, const std::string& sql, const std::vector<std::string>& params, Stmt& out) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &out.st, nullptr) != SQLITE_OK) {
    throw std::runtime_error("sqlite prepare '" + sql + "': " + sqlite3_errmsg(db));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(out.st, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                      SQLITE_TRANSIENT);
  }
}
// `?` placeholders as PostgreSQL's $1, $2, … (the tests' SQL has no '?' inside literals).
std::string numbered(const std::string& sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?')
      out += "$" + std::to_string(++n);
    else
      out.push_back(c);
  }
  return out;
}

struct PgResult {
  PGresult* r = nullptr;
  ~PgResult() { PQclear(r); }
};

void pg_run(pg_conn* c, const std::string& sql, const std::vector<std::string>& params, PgResult& out) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  out.r = PQexecParams(c, numbered(sql).c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                       nullptr, 0);
  auto st = PQresultStatus(out.r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error("postgres '" + sql + "': " + PQresultErrorMessage(out.r));
  }
}

}  // namespace

DbFile::DbFile(const std::filesystem::path& path) {
  if (auto url = on_postgres() ? pg_database_of(path.parent_path()) : std::nullopt) {
    pg_ = PQconnectdb(url->c_str());
    if (PQstatus(pg_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(pg_);
      PQfinish(pg_);
      pg_ = nullptr;
      throw std::runtime_error("cannot connect to " + *url + ": " + msg);
    }
    return;
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
}

DbFile::~DbFile() {
  if (pg_) PQfinish(pg_);
  sqlite3_close(db_);
}

void DbFile::exec(const std::string& sql, const std::vector<std::string>& params) {
  if (pg_) {
    PgResult r;
    pg_run(pg_, sql, params, r);
    pg_changes_ = std::atoll(PQcmdTuples(r.r));
    return;
  }
  Stmt st;
  prepare(db_, sql, params, st);
  int rc;
  while ((rc = sqlite3_step(st.st)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) throw std::runtime_error("sqlite '" + sql + "': " + sqlite3_errmsg(db_));
}

std::optional<std::string> DbFile::value(const std::string& sql, const std::vector<std::string>& params) {
  if (pg_) {
    PgResult r;
    pg_run(pg_, sql, params, r);
    if (PQntuples(r.r) == 0) return std::nullopt;
    const char* v = PQgetvalue(r.r, 0, 0);
    constexpr Oid kByteaOid = 17;
    if (PQftype(r.r, 0) != kByteaOid) return std::string(v, static_cast<std::size_t>(PQgetlength(r.r, 0, 0)));
    std::size_t n = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &n);
    std::string out(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
    return out;
  }
  Stmt st;
  prepare(db_, sql, params, st);
  int rc = sqlite3_step(st.st);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) throw std::runtime_error("sqlite '" + sql + "': " + sqlite3_errmsg(db_));
  auto p = static_cast<const char*>(sqlite3_column_blob(st.st, 0));
  return std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st.st, 0)));
}

std::int64_t DbFile::changes() const { return pg_ ? pg_changes_ : sqlite3_changes64(db_); }

std::string app_jwt_secret(const std::filesystem::path& db_path, const std::string& app_id) {
  DbFile db(db_path);
  auto key = db.value("SELECT jwt_secret FROM apps WHERE id = ?", {app_id});
  if (!key) throw std::runtime_error("no app " + app_id + " in " + db_path.string());
  return *key;
}

}  // namespace parley::test
