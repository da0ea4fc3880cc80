// The audit log, tenancy's repository over the shared SQL layer (store/sql/database.hpp), on
// SQLite and, when PARLEY_TEST_PG_URL names a maintenance database, on PostgreSQL (a fresh
// database per test). Also the layer's own contract: transactions roll back unless committed,
// and a database failure comes back as an Error value.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/crypto.hpp"
#include "scratch_database.hpp"
#include "store/sql/database.hpp"
#include "store/store.hpp"
#include "tenancy/audit_log.hpp"

namespace parley::tenancy {
namespace {

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::ScratchDatabase>(GetParam(), "audit");
    if (!db_->available()) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
    url_ = db_->url();
    store_ = store::open_store(url_, 2);
    log_ = std::make_unique<AuditLog>(store_->database());
  }
  void TearDown() override {
    log_.reset();
    store_.reset();
    db_.reset();
  }

  static AuditEntry entry(TimeMs at, std::optional<std::string> app_id, std::string action = "app.update") {
    return {0, at, "admin", std::move(action), std::move(app_id), std::nullopt, "{}", std::nullopt};
  }

  std::int64_t count_rows() {
    auto n = store_->database().with_conn([](store::sql::Connection& c) -> Result<std::int64_t> {
      auto st = c.prepare("SELECT count(*) FROM audit_log");
      st->step();
      return st->int64(0);
    });
    return n ? *n : -1;
  }

  std::unique_ptr<test::ScratchDatabase> db_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogTest, PagesNewestFirstAndFiltersByApp) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log_->append(entry(i, std::string("app_a"))));
  ASSERT_TRUE(log_->append(entry(9, std::nullopt, "admin.key")));
  auto page1 = log_->list(std::string("app_a"), 0, 2);
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_GT(page1->at(0).id, page1->at(1).id);
  EXPECT_EQ(page1->at(0).at, 4);
  auto page2 = log_->list(std::string("app_a"), page1->at(1).id, 10);
  ASSERT_TRUE(page2);
  EXPECT_EQ(page2->size(), 3u);
  EXPECT_EQ(page2->back().at, 0);
  EXPECT_TRUE(log_->list(std::string("app_b"), 0, 10)->empty());
  auto all = log_->list(std::nullopt, 0, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ(all->front().action, "admin.key");
  EXPECT_FALSE(all->front().app_id.has_value());
}

TEST_P(AuditLogTest, KeepsEveryFieldAsWritten) {
  AuditEntry e{0,
               42,
               "cli",
               "key.rotate.confirm",
               std::string("app_a"),
               std::string("pk_1"),
               R"({"new_key":"pk_2"})",
               std::string("req-7")};
  ASSERT_TRUE(log_->append(e));
  auto got = log_->list(std::nullopt, 0, 1);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  const auto& g = got->front();
  EXPECT_GT(g.id, 0);
  EXPECT_EQ(g.at, 42);
  EXPECT_EQ(g.actor, "cli");
  EXPECT_EQ(g.action, "key.rotate.confirm");
  EXPECT_EQ(g.app_id, std::optional<std::string>("app_a"));
  EXPECT_EQ(g.target, std::optional<std::string>("pk_1"));
  EXPECT_EQ(g.details_json, R"({"new_key":"pk_2"})");
  EXPECT_EQ(g.request_id, std::optional<std::string>("req-7"));
}

TEST_P(AuditLogTest, ATransactionRollsBackUnlessCommitted) {
  auto& db = store_->database();
  EXPECT_EQ(db.driver(), GetParam());
  auto insert = [](store::sql::Connection& c, bool commit) -> Status {
    store::sql::Transaction tx(c);
    auto st = c.prepare("INSERT INTO audit_log(at, actor, action) VALUES($1, $2, $3)");
    st->bind(1, 1).bind(2, "test").bind(3, "tx").run();
    if (commit) tx.commit();
    return ok_status();
  };
  ASSERT_TRUE(db.with_conn([&](store::sql::Connection& c) { return insert(c, false); }));
  EXPECT_EQ(count_rows(), 0);
  ASSERT_TRUE(db.with_conn([&](store::sql::Connection& c) { return insert(c, true); }));
  EXPECT_EQ(count_rows(), 1);
}

TEST_P(AuditLogTest, ADatabaseFailureComesBackAsAnError) {
  auto& db = store_->database();
  // actor is NOT NULL: a constraint violation.
  Status broken = db.with_conn([](store::sql::Connection& c) -> Status {
    auto st = c.prepare("INSERT INTO audit_log(at, actor, action) VALUES($1, $2, $3)");
    st->bind(1, 1).bind_null(2).bind(3, "x").run();
    return ok_status();
  });
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Errc::conflict);
  // A statement the database rejects.
  Status bad_sql = db.with_conn([](store::sql::Connection& c) -> Status {
    c.prepare("SELECT no_such_column FROM audit_log")->run();
    return ok_status();
  });
  ASSERT_FALSE(bad_sql);
  EXPECT_EQ(count_rows(), 0);
  // The connection went back to the pool in a usable state.
  EXPECT_TRUE(log_->append(entry(1, std::nullopt)));
  EXPECT_EQ(count_rows(), 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, AuditLogTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace parley::tenancy
