#include <gtest/gtest.h>

#include <filesystem>

#include "core/crypto.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"

namespace parley::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("parley-store-" + std::to_string(::getpid()) + "-" + crypto::random_id("", 6));
    url_ = "sqlite:" + (dir_ / "t.db").string();
    ASSERT_EQ(open_migrator(url_)->apply(), static_cast<int>(sqlite_migrations().size()));
    store_ = open_store(url_, 2);
    for (const char* id : {"app_a", "app_b"}) {
      AppRecord app{id, id, "{}", "k", 1, 1};
      ApiKeyRecord key{std::string("pk_") + id, id, "h", 1, std::nullopt};
      ASSERT_TRUE(store_->create_app(app, key));
    }
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, MigrationsApplyOnceAndReportApplied) {
  auto m = open_migrator(url_);
  EXPECT_EQ(m->apply(), 0);
  for (const auto& s : m->status()) EXPECT_EQ(s.state, MigrationState::applied);
}

TEST_F(SqliteStoreTest, UpsertCreatesThenPatchesOnlyGivenFields) {
  UserPatch p;
  p.name = "Alice";
  auto u = store_->upsert_user("app_a", "alice", p, 10);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->name, "Alice");
  UserPatch q;
  q.image_url = "https://x/y.png";
  auto v = store_->upsert_user("app_a", "alice", q, 20);
  EXPECT_EQ(v->name, "Alice");
  EXPECT_EQ(v->image_url, "https://x/y.png");
  EXPECT_EQ(v->created_at, 10);
}

TEST_F(SqliteStoreTest, UsersAreScopedToTheirApp) {
  ASSERT_TRUE(store_->upsert_user("app_a", "alice", {}, 1));
  ASSERT_TRUE(store_->upsert_user("app_b", "bob", {}, 1));
  EXPECT_EQ(store_->get_user("app_b", "alice").error().code, Errc::not_found);
  auto listed = store_->list_users("app_b", "", "", 10, false);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).id, "bob");
  EXPECT_EQ(store_->revoke_user_tokens("app_b", "alice", 5).error().code, Errc::not_found);
}

TEST_F(SqliteStoreTest, SearchMatchesPrefixesOfIdOrNameAndEscapesWildcards) {
  UserPatch named;
  named.name = "Zed Zebra";
  ASSERT_TRUE(store_->upsert_user("app_a", "u1", named, 1));
  ASSERT_TRUE(store_->upsert_user("app_a", "a_b", {}, 1));
  ASSERT_TRUE(store_->upsert_user("app_a", "axb", {}, 1));
  EXPECT_EQ(store_->list_users("app_a", "zed", "", 10, false)->size(), 1u);
  auto underscore = store_->list_users("app_a", "a_", "", 10, false);
  ASSERT_EQ(underscore->size(), 1u);
  EXPECT_EQ(underscore->at(0).id, "a_b");
}

TEST_F(SqliteStoreTest, RefreshTokensRotateOnceAndReuseRevokesTheSession) {
  ASSERT_TRUE(store_->upsert_user("app_a", "alice", {}, 1));
  SessionRecord s{"ses_1", "app_a", "alice", 1, 1LL << 50, std::nullopt};
  ASSERT_TRUE(store_->create_session(s, {"h1", "ses_1", 1, std::nullopt}));
  auto first = store_->rotate_refresh("h1", {"h2", "", 2, std::nullopt}, 2);
  EXPECT_EQ(first->outcome, RefreshOutcome::rotated);
  auto replay = store_->rotate_refresh("h1", {"h3", "", 3, std::nullopt}, 3);
  EXPECT_EQ(replay->outcome, RefreshOutcome::reused);
  auto after = store_->rotate_refresh("h2", {"h4", "", 4, std::nullopt}, 4);
  EXPECT_TRUE(after->session->revoked_at.has_value());
  EXPECT_EQ(store_->rotate_refresh("nope", {"h5", "", 5, std::nullopt}, 5)->outcome, RefreshOutcome::unknown);
}

TEST_F(SqliteStoreTest, ConfirmedRotationRevokesTheOldKeyAndCannotRepeat) {
  KeyRotation r{"th", "app_a", "pk_app_a", 1, 100, std::nullopt};
  ASSERT_TRUE(store_->insert_rotation(r));
  ApiKeyRecord fresh{"pk_new", "app_a", "h2", 2, std::nullopt};
  ASSERT_TRUE(store_->confirm_rotation("th", fresh, 5));
  EXPECT_TRUE(store_->get_key("pk_app_a")->revoked_at.has_value());
  EXPECT_FALSE(store_->get_key("pk_new")->revoked_at.has_value());
  EXPECT_EQ(store_->confirm_rotation("th", {"pk_other", "app_a", "h3", 3, std::nullopt}, 6).error().code, Errc::gone);
}

TEST_F(SqliteStoreTest, DeletingAnAppDeletesItsKeysAndUsers) {
  ASSERT_TRUE(store_->upsert_user("app_a", "alice", {}, 1));
  ASSERT_TRUE(store_->delete_app("app_a"));
  EXPECT_EQ(store_->get_key("pk_app_a").error().code, Errc::not_found);
  EXPECT_EQ(store_->get_user("app_a", "alice").error().code, Errc::not_found);
  EXPECT_EQ(store_->delete_app("app_a").error().code, Errc::not_found);
}

}  // namespace
}  // namespace parley::store
