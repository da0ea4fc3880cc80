// Search over a generated corpus, on either store: N messages (default 1,000,000) of corpus
// words (bench/corpus.hpp) in C channels (default 1,000) by 100 authors; the searching user is a
// member of M of them (default 200). Builds the index with the real indexer (catch_up, timed),
// reports the index size per message, then runs each query class through the real
// SearchService (in process: no HTTP) and prints p50/p99 latency and the mean total. Prints a
// summary and JSON lines; never fails on speed (exit 1 only when the index is incomplete).
//   usage: parley-search-bench [--store sqlite|postgres] [--pg-url URL] [--messages N]
//          [--channels C] [--member-of M] [--queries Q] [--limit L] [--data-dir DIR]
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "scratch_database.hpp"
#include "search/indexer.hpp"
#include "search/search_service.hpp"
#include "store/sql/database.hpp"
#include "store/store.hpp"

using namespace parley;
using Clock = std::chrono::steady_clock;
using store::sql::Connection;

namespace {

struct Options {
  std::string store = "sqlite";
  std::string pg_url;
  std::string data_dir;
  long messages = 1000000;
  int channels = 1000;
  int member_of = 200;
  int queries = 200;
  int limit = 20;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "parley-search-bench: %s (see the comment at the top of bench/search_bench.cpp)\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* v = std::getenv("PARLEY_TEST_PG_URL")) o.pg_url = v;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    auto number = [&](long lo, long hi) {
      std::string v = next();
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < lo || n > hi) usage(("bad value for " + a + ": " + v).c_str());
      return n;
    };
    if (a == "--store") {
      o.store = next();
      if (o.store != "sqlite" && o.store != "postgres") usage("--store is sqlite or postgres");
    } else if (a == "--pg-url") {
      o.pg_url = next();
    } else if (a == "--data-dir") {
      o.data_dir = next();
    } else if (a == "--messages") {
      o.messages = number(1, 100000000);
    } else if (a == "--channels") {
      o.channels = static_cast<int>(number(1, 1000000));
    } else if (a == "--member-of") {
      o.member_of = static_cast<int>(number(1, 1000000));
    } else if (a == "--queries") {
      o.queries = static_cast<int>(number(1, 1000000));
    } else if (a == "--limit") {
      o.limit = static_cast<int>(number(1, 50));
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (o.member_of > o.channels) usage("--member-of is at most --channels");
  return o;
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "parley-search-bench: %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

double since_ms(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Channels, members and messages written straight into the tables, many rows per statement.
void generate(store::sql::Database& db, const Options& o, const bench::Corpus& corpus) {
  constexpr int kRows = 200;
  constexpr std::int64_t kT0 = 1767225600000;  // 2026-01-01
  must(db.with_conn([&](Connection& c) -> Status {
    store::sql::Transaction tx(c);
    for (int ch = 0; ch < o.channels; ++ch) {
      auto id = "c" + std::to_string(ch);
      auto st = c.prepare(
          "INSERT INTO channels(app_id, id, type, name, name_lower, created_by, created_at, updated_at, "
          "activity_at, last_seq, member_count) VALUES('app_bench', $1, 'group', $2, $2, 'a0', $3, $3, $3, $4, "
          "$5)");
      st->bind(1, id).bind(2, "channel " + std::to_string(ch)).bind(3, kT0);
      st->bind(4, static_cast<std::int64_t>(o.messages / o.channels + (ch < o.messages % o.channels ? 1 : 0)));
      st->bind(5, static_cast<std::int64_t>(ch < o.member_of ? 2 : 1));
      st->run();
      auto add = [&](const std::string& user) {
        auto m = c.prepare(
            "INSERT INTO members(app_id, channel_id, user_id, role, joined_at) VALUES('app_bench', $1, $2, "
            "'member', $3)");
        m->bind(1, id).bind(2, user).bind(3, kT0).run();
      };
      add("a" + std::to_string(ch % 100));
      if (ch < o.member_of) add("searcher");
    }
    tx.commit();
    return ok_status();
  }),
       "channels");
  std::mt19937_64 rng(42);
  std::vector<std::int64_t> next_seq(static_cast<std::size_t>(o.channels), 1);
  std::string sql;
  for (long done = 0; done < o.messages;) {
    must(db.with_conn([&](Connection& c) -> Status {
      store::sql::Transaction tx(c);
      for (int stmt = 0; stmt < 50 && done < o.messages; ++stmt) {
        int rows = static_cast<int>(std::min<long>(kRows, o.messages - done));
        sql = "INSERT INTO messages(app_id, channel_id, seq, user_id, text, created_at) VALUES";
        for (int r = 0; r < rows; ++r) {
          int p = r * 5;
          sql += (r ? ", " : " ") + std::string("('app_bench', $") + std::to_string(p + 1) + ", $" +
                 std::to_string(p + 2) + ", $" + std::to_string(p + 3) + ", $" + std::to_string(p + 4) + ", $" +
                 std::to_string(p + 5) + ")";
        }
        auto st = c.prepare(sql);
        for (int r = 0; r < rows; ++r, ++done) {
          int p = r * 5;
          auto ch = static_cast<std::size_t>(done % o.channels);
          st->bind(p + 1, "c" + std::to_string(ch));
          st->bind(p + 2, next_seq[ch]++);
          st->bind(p + 3, "a" + std::to_string((done / o.channels) % 100));
          std::uniform_int_distribution<int> len(40, 160);
          st->bind(p + 4, corpus.message(rng, static_cast<std::size_t>(len(rng))));
          st->bind(p + 5, kT0 + done * 1000);
        }
        st->run();
      }
      tx.commit();
      return ok_status();
    }),
         "messages");
  }
}

std::int64_t scalar(store::sql::Database& db, const std::string& sql) {
  return must(db.with_conn([&](Connection& c) -> Result<std::int64_t> {
    auto st = c.prepare(sql);
    st->step();
    return st->int64(0);
  }),
              sql.c_str());
}

// Bytes the search tables take.
std::int64_t index_bytes(store::sql::Database& db, bool postgres) {
  if (postgres) {
    return scalar(db,
                  "SELECT (pg_total_relation_size('search_docs') + pg_total_relation_size('search_progress'))::bigint");
  }
  // dbstat counts the pages of each table and index, the FTS5 shadow tables included.
  return scalar(db,
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'search%' OR name LIKE "
                "'sqlite_autoindex_search%'");
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  Options o = parse(argc, argv);
  test::ScratchDatabase scratch(o.store, "searchbench", o.pg_url.empty() ? std::nullopt : std::optional(o.pg_url),
                                o.data_dir);
  if (!scratch.available()) usage("--store postgres needs --pg-url or PARLEY_TEST_PG_URL");
  auto st = store::open_store(scratch.url(), 4);
  store::AppRecord app{"app_bench", "Bench", "{}", "k", 1, 1};
  must(Result<Unit>(st->create_app(app, {"pk_bench", "app_bench", "h", 1, std::nullopt})), "app");
  auto& db = st->database();
  const bool postgres = o.store == "postgres";
  const bench::Corpus corpus;

  std::printf("parley-search-bench: %s, %ld messages in %d channels, the searcher in %d, %d queries per class\n",
              o.store.c_str(), o.messages, o.channels, o.member_of, o.queries);
  std::fflush(stdout);
  auto t0 = Clock::now();
  generate(db, o, corpus);
  const double gen_s = since_ms(t0) / 1000;

  search::Indexer indexer(db, search::IndexerOptions{}, [](const std::string&) { return std::string("simple"); });
  t0 = Clock::now();
  must(indexer.catch_up(), "indexing");
  const double index_s = since_ms(t0) / 1000;
  const auto docs = scalar(db, "SELECT count(*) FROM search_docs");
  if (postgres)
    must(db.with_conn([](Connection& c) -> Status {
      c.exec("ANALYZE");
      return ok_status();
    }),
         "analyze");
  const auto bytes = index_bytes(db, postgres);
  std::printf("  corpus               generated in %.1f s\n", gen_s);
  std::printf("  indexing             %lld messages in %.1f s: %.0f messages/s\n", static_cast<long long>(docs),
              index_s, static_cast<double>(docs) / index_s);
  std::printf("  index size           %.1f MiB, %.0f bytes per message\n", static_cast<double>(bytes) / 1048576.0,
              static_cast<double>(bytes) / static_cast<double>(std::max<std::int64_t>(1, docs)));
  std::printf(
      "{\"benchmark\":\"search-index\",\"store\":\"%s\",\"messages\":%ld,\"channels\":%d,\"indexed\":%lld,"
      "\"index_s\":%.2f,\"index_bytes\":%lld,\"bytes_per_message\":%.1f}\n",
      o.store.c_str(), o.messages, o.channels, static_cast<long long>(docs), index_s, static_cast<long long>(bytes),
      static_cast<double>(bytes) / static_cast<double>(std::max<std::int64_t>(1, docs)));

  search::SearchService service(db);
  std::mt19937_64 rng(7);
  auto pick = [&](std::size_t lo, std::size_t hi) {
    return corpus.word(std::uniform_int_distribution<std::size_t>(lo, hi)(rng));
  };
  struct Class {
    const char* name;
    std::function<void(search::MessageQuery&)> make;
  };
  std::vector<Class> classes = {
      {"common word", [&](auto& q) { q.query = *search::parse_query(pick(0, 9) + " "); }},
      {"common word, newest",
       [&](auto& q) {
         q.query = *search::parse_query(pick(0, 9) + " ");
         q.sort = search::Sort::newest;
       }},
      {"two common words", [&](auto& q) { q.query = *search::parse_query(pick(0, 19) + " " + pick(0, 19) + " "); }},
      {"mid word (rank 100-1000)", [&](auto& q) { q.query = *search::parse_query(pick(100, 1000) + " "); }},
      {"rare word (rank 10k-50k)", [&](auto& q) { q.query = *search::parse_query(pick(10000, 49999) + " "); }},
      {"prefix of 3 letters", [&](auto& q) { q.query = *search::parse_query(pick(50, 500).substr(0, 3)); }},
      {"phrase of two words",
       [&](auto& q) { q.query = *search::parse_query("\"" + pick(0, 5) + " " + pick(0, 5) + "\""); }},
      {"common word, from one author",
       [&](auto& q) {
         q.query = *search::parse_query(pick(0, 9) + " ");
         q.from_users = {"a" + std::to_string(std::uniform_int_distribution<int>(0, 99)(rng))};
       }},
      {"common word, one channel",
       [&](auto& q) {
         q.query = *search::parse_query(pick(0, 9) + " ");
         q.channel_ids = {"c" + std::to_string(std::uniform_int_distribution<int>(0, o.member_of - 1)(rng))};
       }},
      {"mid word, last 10% of time",
       [&](auto& q) {
         q.query = *search::parse_query(pick(100, 1000) + " ");
         q.after = 1767225600000 + static_cast<std::int64_t>(static_cast<double>(o.messages) * 0.9) * 1000;
       }},
  };
  for (const auto& cls : classes) {
    std::vector<double> ms;
    double hits = 0, totals = 0;
    for (int i = 0; i < o.queries; ++i) {
      search::MessageQuery q;
      q.app_id = "app_bench";
      q.user_id = "searcher";
      q.limit = o.limit;
      cls.make(q);
      auto start = Clock::now();
      auto r = must(service.messages(q), cls.name);
      ms.push_back(since_ms(start));
      hits += static_cast<double>(r.hits.size());
      totals += static_cast<double>(r.total);
    }
    double p50 = percentile(ms, 0.5), p99 = percentile(ms, 0.99);
    std::printf("  %-30s p50 %7.2f ms  p99 %7.2f ms   mean hits %5.1f, mean total %7.1f\n", cls.name, p50, p99,
                hits / o.queries, totals / o.queries);
    std::printf(
        "{\"benchmark\":\"search\",\"store\":\"%s\",\"messages\":%ld,\"class\":\"%s\",\"queries\":%d,\"p50_ms\":%.3f,"
        "\"p99_ms\":%.3f,\"mean_hits\":%.1f,\"mean_total\":%.1f}\n",
        o.store.c_str(), o.messages, cls.name, o.queries, p50, p99, hits / o.queries, totals / o.queries);
    std::fflush(stdout);
  }
  return docs == o.messages ? 0 : 1;
}
