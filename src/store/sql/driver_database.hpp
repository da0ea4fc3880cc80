#pragma once
// sql::Database (store/sql/database.hpp) over one database driver's pool: the adapters a
// backend's store instantiates once (sqlite_store.cpp, postgres_store.cpp, through
// store_impl.hpp). Include it only there.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "store/sql/database.hpp"
#include "store/sql/db.hpp"

namespace parley::store::sql {

template <class Db>
class DriverStatement final : public Statement {
 public:
  DriverStatement(typename Db::Connection& c, std::string_view sql) : st_(c.prepare(sql)) {}

  Statement& bind(int idx, std::int64_t v) override { return st_.bind(idx, v), *this; }
  Statement& bind(int idx, std::string_view v) override { return st_.bind(idx, v), *this; }
  Statement& bind_bool(int idx, bool v) override { return st_.bind_bool(idx, v), *this; }
  Statement& bind_blob(int idx, std::string_view v) override { return st_.bind_blob(idx, v), *this; }
  Statement& bind_null(int idx) override { return st_.bind_null(idx), *this; }
  using Statement::bind;

  bool step() override { return st_.step(); }
  void run() override { st_.run(); }

  bool is_null(int col) const override { return st_.is_null(col); }
  std::int64_t int64(int col) const override { return st_.int64(col); }
  bool boolean(int col) const override { return st_.boolean(col); }
  std::string text(int col) const override { return st_.text(col); }
  std::string blob(int col) const override { return st_.blob(col); }
  std::optional<std::int64_t> opt_int64(int col) const override { return st_.opt_int64(col); }
  std::optional<std::string> opt_text(int col) const override { return st_.opt_text(col); }

 private:
  typename Db::Stmt st_;
};

template <class Db>
class DriverConnection final : public Connection {
 public:
  explicit DriverConnection(typename Db::Connection& c) : c_(c) {}

  std::unique_ptr<Statement> prepare(std::string_view sql) override {
    return std::make_unique<DriverStatement<Db>>(c_, sql);
  }
  void exec(const std::string& sql) override { c_.exec(sql); }
  std::int64_t changes() const override { return c_.changes(); }

 private:
  void begin(bool write) override {
    tx_.emplace(c_, write ? Db::Transaction::Kind::write : Db::Transaction::Kind::read_snapshot);
  }
  void commit() override {
    tx_->commit();
    tx_.reset();
  }
  void rollback() noexcept override { tx_.reset(); }  // the driver's transaction rolls back

  typename Db::Connection& c_;
  std::optional<typename Db::Transaction> tx_;
};

template <class Db>
class DriverDatabase final : public Database {
 public:
  DriverDatabase(std::string driver, typename Db::Pool& pool) : driver_(std::move(driver)), pool_(pool) {}
  std::string driver() const override { return driver_; }

 private:
  Status run(Body& body) override {
    return sql::with_conn(pool_, [&](typename Db::Connection& c) -> Status {
      DriverConnection<Db> conn(c);
      body(conn);
      return ok_status();
    });
  }

  std::string driver_;
  typename Db::Pool& pool_;
};

}  // namespace parley::store::sql
