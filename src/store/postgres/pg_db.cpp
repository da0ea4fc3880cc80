#include "store/postgres/pg_db.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace parley::store::postgres {

namespace {

// Deadlines every connection gets unless its URL says otherwise.
constexpr const char* kConnectTimeoutSeconds = "5";
constexpr const char* kSessionOptions = "-c statement_timeout=30000";

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ignore_notice(void*, const char* message) { spdlog::debug("postgres: {}", trimmed(message)); }

}  // namespace

bool PgError::unavailable() const {
  if (connection_lost_ || retryable()) return true;
  // 08: connection exception; 53: insufficient resources (too many connections, disk full);
  // 57014: statement timeout; 57P01-57P03: shutdown or start-up; 55P03: lock timeout.
  return sqlstate_.starts_with("08") || sqlstate_.starts_with("53") || sqlstate_ == "57014" ||
         sqlstate_.starts_with("57P") || sqlstate_ == "55P03";
}

Error PgError::to_error() const {
  const PgError& e = *this;
  if (e.constraint()) return Error{Errc::conflict, "conflicts with existing data"};
  if (e.retryable()) return Error{Errc::unavailable, "database is busy; retry"};
  if (e.unavailable()) {
    spdlog::warn("postgres: {}", e.what());
    return Error{Errc::unavailable, "database unavailable; retry"};
  }
  if (e.sqlstate() == "22021" || e.sqlstate() == "22P05") {
    return Error{Errc::validation_failed, "text holds a character the database cannot store (NUL)"};
  }
  spdlog::error("postgres: {}", e.what());
  return Error{Errc::internal, "database error"};
}

// ---- Stmt ------------------------------------------------------------------------------------

Stmt::~Stmt() { PQclear(res_); }

void Stmt::set(int idx, std::optional<std::string> value, int format) {
  auto i = static_cast<std::size_t>(idx - 1);
  if (values_.size() <= i) {
    values_.resize(i + 1);
    formats_.resize(i + 1, 0);
  }
  values_[i] = std::move(value);
  formats_[i] = format;
}

Stmt& Stmt::bind(int idx, std::int64_t v) {
  set(idx, std::to_string(v), 0);
  return *this;
}

Stmt& Stmt::bind(int idx, std::string_view v) {
  // Text parameters travel NUL-terminated; PostgreSQL text cannot hold NUL anyway.
  if (v.find('\0') != std::string_view::npos) {
    throw PgError("22021", false, "a text parameter holds a NUL character");
  }
  set(idx, std::string(v), 0);
  return *this;
}

Stmt& Stmt::bind_bool(int idx, bool v) {
  set(idx, v ? "true" : "false", 0);
  return *this;
}

Stmt& Stmt::bind_blob(int idx, std::string_view v) {
  set(idx, std::string(v), 1);
  return *this;
}

Stmt& Stmt::bind_null(int idx) {
  set(idx, std::nullopt, 0);
  return *this;
}

Stmt& Stmt::bind_array(int idx, ArrayParam& a) {
  set(idx, a.take(), 1);
  return *this;
}

// ---- ArrayParam ------------------------------------------------------------------------------

namespace {
// The binary array header: ndim, has-nulls flag, element type OID, then per dimension its
// length and lower bound; all big-endian int32.
constexpr std::size_t kArrayHeader = 20;
constexpr std::uint32_t kTextOid = 25;
constexpr std::uint32_t kInt8Oid = 20;

void put_be32(char* at, std::uint32_t v) {
  at[0] = static_cast<char>(v >> 24);
  at[1] = static_cast<char>(v >> 16);
  at[2] = static_cast<char>(v >> 8);
  at[3] = static_cast<char>(v);
}
}  // namespace

ArrayParam::ArrayParam(Type type) : type_(type), out_(kArrayHeader, '\0') {}

char* ArrayParam::element(std::int32_t length, std::size_t bytes) {
  ++count_;
  std::size_t at = out_.size();
  out_.resize(at + 4 + bytes);
  char* p = out_.data() + at;
  put_be32(p, static_cast<std::uint32_t>(length));
  return p + 4;
}

ArrayParam& ArrayParam::add(std::string_view v) {
  if (v.find('\0') != std::string_view::npos) {
    throw PgError("22021", false, "a text parameter holds a NUL character");
  }
  std::copy(v.begin(), v.end(), element(static_cast<std::int32_t>(v.size()), v.size()));
  return *this;
}

ArrayParam& ArrayParam::add(std::int64_t v) {
  char* p = element(8, 8);
  auto u = static_cast<std::uint64_t>(v);
  put_be32(p, static_cast<std::uint32_t>(u >> 32));
  put_be32(p + 4, static_cast<std::uint32_t>(u));
  return *this;
}

ArrayParam& ArrayParam::add_null() {
  nulls_ = true;
  element(-1, 0);
  return *this;
}

std::string ArrayParam::take() {
  std::string out = std::exchange(out_, std::string(kArrayHeader, '\0'));
  char* h = out.data();
  put_be32(h + 4, nulls_ ? 1 : 0);
  put_be32(h + 8, type_ == Type::text ? kTextOid : kInt8Oid);
  if (count_ == 0) {
    out.resize(12);  // an empty array has no dimensions
  } else {
    put_be32(h, 1);
    put_be32(h + 12, static_cast<std::uint32_t>(count_));
    put_be32(h + 16, 1);
  }
  count_ = 0;
  nulls_ = false;
  return out;
}

// ---- Stmt (parameters to libpq) -------------------------------------------------------------

namespace {
struct Params {
  std::vector<const char*> values;
  std::vector<int> lengths;
  explicit Params(const std::vector<std::optional<std::string>>& in) {
    for (const auto& v : in) {
      values.push_back(v ? v->c_str() : nullptr);
      lengths.push_back(v ? static_cast<int>(v->size()) : 0);
    }
  }
};
}  // namespace

void Stmt::execute() {
  Params p(values_);
  pg_result* res = PQexecPrepared(conn_.conn_, name_.c_str(), static_cast<int>(p.values.size()), p.values.data(),
                                  p.lengths.data(), formats_.data(), 0);
  auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) conn_.fail(res, "query");
  take(res);
}

void Stmt::send() {
  Params p(values_);
  if (!PQsendQueryPrepared(conn_.conn_, name_.c_str(), static_cast<int>(p.values.size()), p.values.data(),
                           p.lengths.data(), formats_.data(), 0)) {
    conn_.fail(nullptr, "send");
  }
}

void Stmt::take(pg_result* res) {
  PQclear(res_);
  res_ = res;
  rows_ = PQntuples(res_);
  row_ = -1;
  std::int64_t changed = 0;
  const char* n = PQcmdTuples(res_);
  std::from_chars(n, n + std::char_traits<char>::length(n), changed);
  conn_.changes_ = changed;
}

bool Stmt::step() {
  if (!res_) execute();
  if (row_ < rows_) ++row_;
  return row_ < rows_;
}

void Stmt::run() {
  if (!res_) execute();
  row_ = rows_;
}

const char* Stmt::cell(int col) const { return PQgetvalue(res_, row_, col); }

bool Stmt::is_null(int col) const { return PQgetisnull(res_, row_, col) != 0; }

std::int64_t Stmt::int64(int col) const {
  const char* p = cell(col);
  std::int64_t v = 0;
  std::from_chars(p, p + std::char_traits<char>::length(p), v);
  return v;
}

bool Stmt::boolean(int col) const { return cell(col)[0] == 't'; }

std::string Stmt::text(int col) const {
  return std::string(cell(col), static_cast<std::size_t>(PQgetlength(res_, row_, col)));
}

std::string Stmt::blob(int col) const {
  // bytea in text form: "\x" followed by two hex digits per byte.
  std::string_view hex(cell(col), static_cast<std::size_t>(PQgetlength(res_, row_, col)));
  if (!hex.starts_with("\\x")) throw PgError("", false, "unexpected bytea text form");
  std::string out;
  out.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < hex.size(); i += 2) {
    int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) throw PgError("", false, "unexpected bytea text form");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::int64_t> Stmt::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

// ---- Connection ------------------------------------------------------------------------------

Connection::Connection(const std::string& url) {
  // Later keywords win: the URL (expanded from dbname) overrides the defaults before it.
  const char* keys[] = {"connect_timeout", "application_name", "options", "dbname", nullptr};
  const char* values[] = {kConnectTimeoutSeconds, "parley", kSessionOptions, url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_) throw PgError("", true, "cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("08001", true, "cannot connect to PostgreSQL: " + msg);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

Connection::~Connection() { PQfinish(conn_); }

void Connection::fail(pg_result* res, std::string_view context) {
  std::string sqlstate;
  std::string msg;
  if (res) {
    if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) sqlstate = s;
    msg = trimmed(PQresultErrorMessage(res));
  }
  if (msg.empty()) msg = trimmed(PQerrorMessage(conn_));
  PQclear(res);
  bool lost = PQstatus(conn_) != CONNECTION_OK;
  throw PgError(sqlstate, lost, std::string(context) + ": " + msg);
}

void Connection::exec(const std::string& sql) {
  pg_result* res = PQexec(conn_, sql.c_str());
  auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(res, "exec");
  // COMMIT of a transaction that failed answers ROLLBACK instead of an error.
  bool rolled_back = sql == "COMMIT" && std::string_view(PQcmdStatus(res)) == "ROLLBACK";
  PQclear(res);
  if (rolled_back) throw PgError("40000", false, "commit: the transaction was rolled back");
}

Stmt Connection::prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    std::string name = "parley_" + std::to_string(++next_name_);
    std::string text(sql);
    pg_result* res = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) fail(res, "prepare");
    PQclear(res);
    it = cache_.emplace(std::move(text), std::move(name)).first;
  }
  return Stmt(*this, it->second);
}

void Connection::ready() {
  // Reads whatever arrived while the connection sat idle, without waiting: a server that shut
  // down or restarted since sent its farewell and closed the socket, and the connection is reset
  // here rather than failing the caller's first statement.
  for (int i = 0; i < 4 && PQstatus(conn_) == CONNECTION_OK; ++i) {
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;     // nothing waiting
    if (!PQconsumeInput(conn_)) break;  // end of stream: the status is now bad
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    spdlog::info("postgres: connection lost; reconnecting");
    cache_.clear();  // prepared statements live in the server session that is gone
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw PgError("08001", true, "cannot reconnect to PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  }
  auto tx = PQtransactionStatus(conn_);
  if (tx == PQTRANS_INTRANS || tx == PQTRANS_INERROR) exec("ROLLBACK");
}

// ---- Pipeline --------------------------------------------------------------------------------

Pipeline::Pipeline(Connection& c) : c_(c) {
  if (!PQenterPipelineMode(c_.conn_)) c_.fail(nullptr, "pipeline");
}

Pipeline::~Pipeline() {
  drain();
  if (!PQexitPipelineMode(c_.conn_)) {
    // Only when results are still unread, which drain() rules out unless the connection broke;
    // a broken connection is reset when next leased.
    spdlog::debug("postgres: cannot leave pipeline mode: {}", trimmed(PQerrorMessage(c_.conn_)));
  }
}

void Pipeline::send(Stmt& st) { st.send(); }

void Pipeline::send(const char* sql) {
  if (!PQsendQueryParams(c_.conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0)) c_.fail(nullptr, "send");
}

void Pipeline::sync() {
  if (!PQpipelineSync(c_.conn_)) c_.fail(nullptr, "pipeline sync");
  synced_ = true;
}

// A statement's result, then the NULL that ends it. A failed statement throws; those after it
// (up to the sync) come back PGRES_PIPELINE_ABORTED, and drain() reads them.
pg_result* Pipeline::next(std::string_view context) {
  pg_result* res = PQgetResult(c_.conn_);
  if (!res) c_.fail(nullptr, context);  // the connection broke
  auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) c_.fail(res, context);
  if (pg_result* extra = PQgetResult(c_.conn_)) {
    PQclear(extra);
    PQclear(res);
    throw PgError("", false, std::string(context) + ": more than one result for a statement");
  }
  return res;
}

void Pipeline::receive(Stmt& st) { st.take(next("query")); }

void Pipeline::receive(const char* sql) {
  pg_result* res = next(sql);
  bool rolled_back = std::string_view(sql) == "COMMIT" && std::string_view(PQcmdStatus(res)) == "ROLLBACK";
  PQclear(res);
  if (rolled_back) throw PgError("40000", false, "commit: the transaction was rolled back");
}

// Reads results up to the sync point (or until the connection is gone), so the connection can
// leave pipeline mode.
void Pipeline::drain() {
  if (drained_) return;
  drained_ = true;
  if (!synced_) {
    // Statements were queued but never sent: send them with a sync, to be skipped or run
    // and discarded; the transaction is rolled back after anyway.
    if (!PQpipelineSync(c_.conn_)) return;
  }
  for (int nulls = 0; PQstatus(c_.conn_) == CONNECTION_OK;) {
    pg_result* res = PQgetResult(c_.conn_);
    if (!res) {
      if (++nulls > 1000) return;  // defensive: never spin on a confused connection
      continue;
    }
    bool sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
    PQclear(res);
    if (sync) return;
  }
}

// ---- Transaction -----------------------------------------------------------------------------

Transaction::Transaction(Connection& c, Kind kind) : c_(c) {
  c_.exec(kind == Kind::write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      c_.exec("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): the connection reports the original error
    }
  }
}

void Transaction::commit() {
  done_ = true;
  c_.exec("COMMIT");
}

}  // namespace parley::store::postgres
