// The WAL write VFS (store/sqlite/wal_write_vfs.hpp): a commit's frames reach the WAL file in
// few writes, other connections and processes see every committed transaction, and a failed
// write fails its transaction without harming the database.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/crypto.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/wal_write_vfs.hpp"

namespace parley::store::sqlite {
namespace {

class WalWriteVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("parley-walvfs-" + std::to_string(::getpid()) + "-" + crypto::random_id("", 6));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    Connection(path_).exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void insert(Connection& c, std::int64_t from, int n, int bytes) {
    c.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < n; ++i) {
      auto st = c.prepare("INSERT INTO t(k, v) VALUES(?, randomblob(?))");
      st.bind(1, from + i).bind(2, bytes).run();
    }
    c.exec("COMMIT");
  }
  static std::int64_t count(Connection& c) {
    auto st = c.prepare("SELECT count(*) FROM t");
    st.step();
    return st.int64(0);
  }
  static std::string integrity(Connection& c) {
    auto st = c.prepare("PRAGMA integrity_check");
    st.step();
    return st.text(0);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(WalWriteVfsTest, ACommitsFramesGoOutInFewWritesAndAnotherConnectionSeesEachCommit) {
  Connection writer(path_), reader(path_);
  auto before = wal_write_stats();
  for (int n = 0; n < 20; ++n) {
    insert(writer, n * 40, 40, 300);  // ~4 pages of rows per commit, plus the table's inner pages
    EXPECT_EQ(count(reader), (n + 1) * 40);
  }
  auto after = wal_write_stats();
  std::uint64_t asked = after.wal_writes - before.wal_writes;
  std::uint64_t made = after.file_writes - before.file_writes;
  // SQLite asks for two writes per frame, at least 4 frames per commit; one write per commit.
  EXPECT_GE(asked, 20u * 8);
  EXPECT_LE(made, 20u + 2);  // + the WAL header written when the WAL (re)starts
  EXPECT_EQ(integrity(reader), "ok");
}

TEST_F(WalWriteVfsTest, ATransactionLargerThanThePageCacheAndTheBufferCommitsWhole) {
  Connection writer(path_), reader(path_);
  writer.exec("PRAGMA cache_size=20");  // 20 pages: the transaction spills frames before its commit
  insert(writer, 0, 3000, 2000);        // ~6 MB: past the VFS's 4 MiB buffer as well
  EXPECT_EQ(count(reader), 3000);
  insert(writer, 3000, 10, 100);
  EXPECT_EQ(count(reader), 3010);
  EXPECT_EQ(integrity(reader), "ok");
}

// A writer killed at any moment has every transaction whose COMMIT returned in the database.
TEST_F(WalWriteVfsTest, AKilledWriterLosesNoCommittedTransaction) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    Connection writer(path_);
    for (std::int64_t n = 0;; ++n) {
      insert(writer, n * 5, 5, 500);
      char done = 1;
      if (::write(fds[1], &done, 1) != 1) std::_Exit(3);
    }
  }
  ::close(fds[1]);
  int acknowledged = 0;
  char byte = 0;
  while (acknowledged < 300 && ::read(fds[0], &byte, 1) == 1) ++acknowledged;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  while (::read(fds[0], &byte, 1) == 1) ++acknowledged;  // commits reported before the kill
  ::close(fds[0]);
  ASSERT_GE(acknowledged, 300);
  Connection after(path_);
  EXPECT_GE(count(after), acknowledged * 5);
  EXPECT_EQ(count(after) % 5, 0);  // whole transactions only
  EXPECT_EQ(integrity(after), "ok");
}

// The file size limit makes the WAL write fail (EFBIG) in a child process: the COMMIT (or a
// statement before it, when the transaction spills) fails, nothing of the transaction is stored,
// and once the limit is lifted the same connection commits again.
TEST_F(WalWriteVfsTest, AFailedWalWriteFailsTheTransactionAndLeavesTheDatabaseIntact) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    Connection writer(path_);
    insert(writer, 0, 10, 100);
    rlimit original{};
    ::getrlimit(RLIMIT_FSIZE, &original);
    auto wal = std::filesystem::file_size(path_ + "-wal");
    rlimit low = original;
    low.rlim_cur = static_cast<rlim_t>(wal + 8192);
    if (::setrlimit(RLIMIT_FSIZE, &low) != 0) std::_Exit(10);
    bool failed = false;
    try {
      insert(writer, 100, 200, 1000);
    } catch (const SqliteError&) {
      failed = true;
      try {
        writer.exec("ROLLBACK");
      } catch (const SqliteError&) {  // NOLINT(bugprone-empty-catch): already rolled back
      }
    }
    if (!failed) std::_Exit(11);
    if (::setrlimit(RLIMIT_FSIZE, &original) != 0) std::_Exit(12);
    try {
      insert(writer, 1000, 3, 100);
    } catch (const SqliteError&) {
      std::_Exit(13);
    }
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "10: setrlimit, 11: the oversized commit succeeded, 12: restore, "
                                       "13: the commit after the failure failed";
  Connection after(path_);
  EXPECT_EQ(count(after), 13);
  auto st = after.prepare("SELECT count(*) FROM t WHERE k >= 100 AND k < 300");
  st.step();
  EXPECT_EQ(st.int64(0), 0);
  EXPECT_EQ(integrity(after), "ok");
}

}  // namespace
}  // namespace parley::store::sqlite
