#pragma once
// Keeps the WAL short without making every commit wait for a checkpoint. The connections it
// watches have SQLite's automatic checkpoint off and report the WAL's length after each commit
// (a WAL hook: a few atomics, and a wake-up when a threshold is crossed):
//  - past `passive_frames` pages not yet copied back, its own thread and connection run a
//    PASSIVE checkpoint: the WAL is synced and its pages copied into the database file while
//    commits go on. Under steady writes it never quite finishes (new frames keep arriving), and
//    SQLite starts the WAL over only after a checkpoint copied all of it, so on its own the WAL
//    would grow without bound. SQLite syncs the database file only when a checkpoint copied
//    the whole WAL, so after each of its checkpoints the thread syncs the file itself: the
//    pages copied back do not pile up for the one commit that finishes the copy to flush;
//  - past `restart_frames` pages, a committing connection itself checkpoints right after its
//    commit (as SQLite's automatic checkpoint does), at a moment when the background thread is
//    idle and has left at most a quarter of `passive_frames` uncopied, so that the syncs are
//    short; with every page copied, the next writer starts the WAL over. Past twice
//    `restart_frames` (the background thread cannot keep up) the commit checkpoints anyway. The
//    WAL file is cut back to `restart_frames` pages when it starts over (journal_size_limit), so
//    it stays bounded unless a reader holds an old snapshot open.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/thread_annotations.hpp"

struct sqlite3;

namespace parley::store::sqlite {

class Connection;

struct CheckpointStats {
  std::uint64_t background = 0;  // checkpoints run by the checkpointer's thread
  std::uint64_t on_commit = 0;   // checkpoints run by a committing connection past restart_frames
  std::uint64_t failed = 0;      // checkpoints that returned an error (busy, I/O); tried again later
  int longest_wal_frames = 0;    // the longest WAL any commit reported
};

class Checkpointer {
 public:
  Checkpointer(const std::string& path, int passive_frames, int restart_frames);
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer();

  /// Turns `c`'s automatic checkpoint off and reports its commits here instead.
  void watch(Connection& c);
  CheckpointStats stats() const;
  int restart_frames() const { return restart_frames_; }

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  /// A PASSIVE checkpoint on `db`; records the outcome and returns SQLite's code.
  int checkpoint(sqlite3* db, const char* schema, bool background) EXCLUDES(checkpoint_mu_);
  int checkpoint_locked(sqlite3* db, const char* schema, bool background) REQUIRES(checkpoint_mu_);
  /// Pages written to the WAL that no checkpoint has copied back yet.
  int behind(int frames) const;
  bool due(int frames) const;
  void loop();

  const int passive_frames_;
  const int restart_frames_;
  const int finish_frames_;           // a commit past restart_frames_ finishes the copy when this few are left
  std::unique_ptr<Connection> conn_;  // used by the thread only
  int db_fd_ = -1;                    // the database file, for the thread's own syncs (see loop)
  std::atomic<int> frames_{0};        // WAL length at the last commit of any watched connection
  std::atomic<int> copied_{0};        // frames of the WAL already copied back (PASSIVE)
  std::atomic<bool> asked_{false};    // a wake-up is on its way; cleared by the thread
  std::atomic<std::uint64_t> background_{0}, on_commit_{0}, failed_{0};
  std::atomic<int> longest_{0};
  Mutex checkpoint_mu_;  // held while a checkpoint runs
  Mutex mu_;
  std::condition_variable cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after every other member exists
};

}  // namespace parley::store::sqlite
