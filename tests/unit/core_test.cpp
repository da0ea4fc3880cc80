#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/crypto.hpp"
#include "core/json_reader.hpp"
#include "core/time.hpp"
#include "store/migrations.hpp"
#include "tenancy/settings.hpp"

namespace parley {
namespace {

TEST(Base64, RoundTripsEveryLengthInBothAlphabets) {
  std::string data;
  for (int n = 0; n < 40; ++n) {
    EXPECT_EQ(crypto::base64url_decode(crypto::base64url_encode(data)), data);
    EXPECT_EQ(crypto::base64_decode(crypto::base64_encode(data)), data);
    data.push_back(static_cast<char>(n * 37 + 250));
  }
}

TEST(Base64, MatchesKnownVectorsAndRejectsGarbage) {
  EXPECT_EQ(crypto::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(crypto::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(crypto::base64_decode("YWxpY2U6c2VjcmV0"), "alice:secret");
  EXPECT_FALSE(crypto::base64_decode("a$b").has_value());
  EXPECT_FALSE(crypto::base64url_decode("A").has_value());
}

TEST(Crypto, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(crypto::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, RandomIdsHaveTheirPrefixLengthAndDiffer) {
  auto a = crypto::random_id("app_", 20);
  auto b = crypto::random_id("app_", 20);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_TRUE(a.starts_with("app_"));
  EXPECT_NE(a, b);
  EXPECT_TRUE(crypto::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(crypto::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(crypto::constant_time_equal("abc", "abcd"));
}

TEST(Time, FormatsAndParsesRfc3339WithMilliseconds) {
  TimeMs t = 1795255966123;
  EXPECT_EQ(format_time(t), "2026-11-21T10:12:46.123Z");
  EXPECT_EQ(parse_time("2026-11-21T10:12:46.123Z"), t);
  EXPECT_EQ(parse_time("2026-11-21T10:12:46Z"), t - 123);
  EXPECT_FALSE(parse_time("yesterday").has_value());
}

TEST(JsonBody, RejectsInvalidJsonAndNonObjects) {
  EXPECT_EQ(parse_json_object("{").error().code, Errc::invalid_json);
  EXPECT_EQ(parse_json_object("[1]").error().code, Errc::invalid_json);
  EXPECT_EQ(parse_json_object("").error().code, Errc::invalid_json);
  EXPECT_TRUE(parse_json_object("", true).ok());
}

TEST(ObjectReader, ReportsMissingWrongTypeAndUnknownFieldsAs400) {
  auto obj = boost::json::parse(R"({"name": 5, "extra": true})").as_object();
  ObjectReader r(obj);
  r.string("name", true, 1, 10);
  auto st = r.finish();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::invalid_request);
  EXPECT_EQ(st.error().details.at(0).second, "name");

  auto missing = boost::json::parse(R"({})").as_object();
  ObjectReader r2(missing);
  r2.string("name", true, 1, 10);
  EXPECT_EQ(r2.finish().error().code, Errc::invalid_request);

  auto unknown = boost::json::parse(R"({"name":"x","nmae":"y"})").as_object();
  ObjectReader r3(unknown);
  r3.string("name", true, 1, 10);
  auto st3 = r3.finish();
  ASSERT_FALSE(st3);
  EXPECT_EQ(st3.error().details.at(0).second, "nmae");
}

TEST(ObjectReader, ReportsRuleViolationsAs422) {
  auto obj = boost::json::parse(R"({"name": "much too long", "n": 500})").as_object();
  ObjectReader r(obj);
  r.string("name", true, 1, 5);
  EXPECT_EQ(r.finish().error().code, Errc::validation_failed);
  ObjectReader r2(obj);
  r2.string("name", true, 1, 50);
  EXPECT_FALSE(r2.integer("n", true, 1, 100).has_value());
  EXPECT_EQ(r2.finish().error().code, Errc::validation_failed);
}

TEST(ExternalIds, AllowOnlyTheDocumentedCharacters) {
  EXPECT_TRUE(valid_external_id("alice.b-c_d@x"));
  EXPECT_FALSE(valid_external_id(""));
  EXPECT_FALSE(valid_external_id("a b"));
  EXPECT_FALSE(valid_external_id("a/b"));
  EXPECT_FALSE(valid_external_id(std::string(65, 'a')));
}

TEST(Settings, MergeValidatesKeysAndRanges) {
  auto ok = tenancy::merge_settings(R"({"retention_days":3})",
                                    boost::json::parse(R"({"max_message_bytes":500})").as_object());
  ASSERT_TRUE(ok);
  auto parsed = tenancy::parse_settings(*ok);
  EXPECT_EQ(parsed.max_message_bytes, 500);
  EXPECT_EQ(parsed.retention_days, 3);
  EXPECT_EQ(tenancy::merge_settings("{}", boost::json::parse(R"({"bogus":1})").as_object()).error().code,
            Errc::invalid_request);
  EXPECT_EQ(tenancy::merge_settings("{}", boost::json::parse(R"({"max_message_bytes":0})").as_object()).error().code,
            Errc::validation_failed);
  auto removed = tenancy::merge_settings(*ok, boost::json::parse(R"({"retention_days":null})").as_object());
  EXPECT_EQ(tenancy::parse_settings(*removed).retention_days, 0);
}

TEST(Migrations, ParseNamesAndDetectChangedAndUnknownScripts) {
  auto known = store::load_migrations({{"V002__second_step.sql", "B"}, {"V001__baseline.sql", "A"}});
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known[0].version, 1);
  EXPECT_EQ(known[1].description, "second step");

  std::vector<store::AppliedMigration> applied = {{1, "baseline", known[0].checksum, 1, 1}};
  auto status = store::compare_migrations(known, applied);
  EXPECT_EQ(status[0].state, store::MigrationState::applied);
  EXPECT_EQ(status[1].state, store::MigrationState::pending);
  EXPECT_NO_THROW(store::validate_applied(known, applied));

  applied[0].checksum = "tampered";
  EXPECT_THROW(store::validate_applied(known, applied), std::runtime_error);
  applied = {{1, "baseline", known[0].checksum, 1, 1}, {9, "future", "x", 1, 1}};
  EXPECT_THROW(store::validate_applied(known, applied), std::runtime_error);
  EXPECT_THROW(store::load_migrations({{"baseline.sql", ""}}), std::runtime_error);
}

TEST(Migrations, EmbeddedSqliteScriptsLoad) {
  auto all = store::load_migrations(store::sqlite_migrations());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].version, 1);
}

// Every module's migrations are embedded for both databases: the same versions, in one sequence
// without gaps, with the same descriptions.
TEST(Migrations, EveryVersionExistsForBothDatabasesInOneSequence) {
  auto sqlite = store::load_migrations(store::sqlite_migrations());
  auto postgres = store::load_migrations(store::postgres_migrations());
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(sqlite[i].file, postgres[i].file);
    EXPECT_EQ(sqlite[i].description, postgres[i].description);
  }
}

TEST(Migrations, TwoModulesCannotClaimTheSameVersion) {
  EXPECT_THROW(store::load_migrations({{"V007__jobs.sql", "SELECT 1"}, {"V007__files.sql", "SELECT 1"}}),
               std::runtime_error);
}

}  // namespace
}  // namespace parley
