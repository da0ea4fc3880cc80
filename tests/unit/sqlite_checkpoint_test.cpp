// The SQLite checkpointer: commits never run a checkpoint until the WAL is long, and the WAL
// stays bounded under steady writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/crypto.hpp"
#include "store/sqlite/sqlite_checkpointer.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace parley::store::sqlite {
namespace {

class SqliteCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("parley-ckpt-" + std::to_string(::getpid()) + "-" + crypto::random_id("", 6));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    Connection(path_).exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // One transaction that dirties a few pages spread over the table, as a send batch does.
  static void write_batch(Connection& c, int n) {
    c.exec("BEGIN IMMEDIATE");
    for (int j = 0; j < 4; ++j) {
      auto st = c.prepare("INSERT OR REPLACE INTO t(k, v) VALUES(?, zeroblob(600))");
      st.bind(1, static_cast<std::int64_t>((n * 7919 + j * 104729) % 5000)).run();
    }
    c.exec("COMMIT");
  }

  std::uintmax_t wal_bytes() const {
    std::error_code ec;
    auto n = std::filesystem::file_size(path_ + "-wal", ec);
    return ec ? 0 : n;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteCheckpointTest, TheWalStaysBoundedUnderSteadyWrites) {
  constexpr int kPassive = 50, kRestart = 400;
  Checkpointer cp(path_, kPassive, kRestart);
  {
    Connection writer(path_);
    cp.watch(writer);
    std::uintmax_t largest = 0;
    for (int n = 0; n < 4000; ++n) {
      write_batch(writer, n);
      largest = std::max(largest, wal_bytes());
    }
    auto s = cp.stats();
    EXPECT_GT(s.background + s.on_commit, 0u);
    // A commit past kRestart copies the rest itself once the background thread has left little
    // behind; past 2 * kRestart it does so regardless, so one transaction's pages at most come
    // on top of that.
    EXPECT_LT(s.longest_wal_frames, 2 * kRestart + 20);
    EXPECT_LE(largest, std::uintmax_t{2 * kRestart + 20} * (4096 + 24) + 32);
    // Everything written is there for another connection, and the file is sound.
    Connection reader(path_);
    auto st = reader.prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_GT(st.int64(0), 0);
    auto check = reader.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
  }
}

TEST_F(SqliteCheckpointTest, ACommitBelowTheThresholdsRunsNoCheckpoint) {
  Checkpointer cp(path_, 1000, 2000);
  Connection writer(path_);
  cp.watch(writer);
  for (int n = 0; n < 20; ++n) write_batch(writer, n);
  auto s = cp.stats();
  EXPECT_EQ(s.background + s.on_commit, 0u);
  EXPECT_GT(s.longest_wal_frames, 0);
  EXPECT_GT(wal_bytes(), 0u);  // nothing copied back, nothing started over
}

}  // namespace
}  // namespace parley::store::sqlite
