// ArrayParam (store/postgres/pg_db.hpp): text[] and bigint[] parameters in PostgreSQL's binary
// array format, read back by a real server when PARLEY_TEST_PG_URL names one (skipped
// otherwise). The send batch's unnest() statements take every row through these.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres/pg_db.hpp"

namespace parley::store::postgres {
namespace {

std::optional<std::string> pg_url() {
  const char* v = std::getenv("PARLEY_TEST_PG_URL");
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

TEST(PgArrayParam, TextAndBigintElementsComeBackAsSentInOrder) {
  auto url = pg_url();
  if (!url) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
  const std::vector<std::optional<std::string>> texts = {
      "plain", "", R"(quote " back\slash {brace}, comma)", "NULL", "ünïcødé 🎉", std::nullopt, std::string(5000, 'x')};
  const std::vector<std::optional<std::int64_t>> ints = {
      std::numeric_limits<std::int64_t>::min(), -1, 0, 1, std::nullopt, 1LL << 40,
      std::numeric_limits<std::int64_t>::max()};
  ArrayParam t(ArrayParam::Type::text), n(ArrayParam::Type::int8);
  for (const auto& v : texts) t.add(v);
  for (const auto& v : ints) n.add(v);
  EXPECT_EQ(t.size(), 7);

  Connection c(*url);
  auto st = c.prepare("SELECT t, n FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(t, n, i) ORDER BY i");
  st.bind_array(1, t).bind_array(2, n);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(st.step()) << "row " << i;
    EXPECT_EQ(st.opt_text(0), texts[i]) << "row " << i;
    EXPECT_EQ(st.opt_int64(1), ints[i]) << "row " << i;
  }
  EXPECT_FALSE(st.step());
}

TEST(PgArrayParam, AnArrayWithoutElementsIsEmpty) {
  auto url = pg_url();
  if (!url) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
  ArrayParam t(ArrayParam::Type::text), n(ArrayParam::Type::int8);
  Connection c(*url);
  auto st = c.prepare("SELECT cardinality($1::text[]), cardinality($2::bigint[]), $1::text[] = '{}'");
  st.bind_array(1, t).bind_array(2, n);
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.int64(0), 0);
  EXPECT_EQ(st.int64(1), 0);
  EXPECT_TRUE(st.boolean(2));
}

TEST(PgArrayParam, ABuilderIsReusableAfterBinding) {
  auto url = pg_url();
  if (!url) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
  ArrayParam t(ArrayParam::Type::text);
  Connection c(*url);
  t.add("first").add_null();
  auto st = c.prepare("SELECT array_to_string($1::text[], ',', '*')");
  st.bind_array(1, t);
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.text(0), "first,*");
  t.add("second");
  auto again = c.prepare("SELECT array_to_string($1::text[], ',', '*'), array_position($1::text[], NULL)");
  again.bind_array(1, t);
  ASSERT_TRUE(again.step());
  EXPECT_EQ(again.text(0), "second");
  EXPECT_TRUE(again.is_null(1));  // the NULL of the first use did not carry over
}

TEST(PgArrayParam, ATextElementWithANulCharacterIsRefusedLikeATextParameter) {
  ArrayParam t(ArrayParam::Type::text);
  try {
    t.add(std::string_view("a\0b", 3));
    FAIL() << "no PgError";
  } catch (const PgError& e) {
    EXPECT_EQ(e.sqlstate(), "22021");
  }
}

}  // namespace
}  // namespace parley::store::postgres
