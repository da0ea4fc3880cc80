#include "store/sqlite/sqlite_checkpointer.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "store/sqlite/sqlite_db.hpp"

namespace parley::store::sqlite {

Checkpointer::Checkpointer(const std::string& path, int passive_frames, int restart_frames)
    : passive_frames_(std::max(1, passive_frames)),
      restart_frames_(std::max(passive_frames_, restart_frames)),
      finish_frames_(std::max(1, passive_frames_ / 4)),
      conn_(std::make_unique<Connection>(path)),
      db_fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)),
      thread_([this] { loop(); }) {}

Checkpointer::~Checkpointer() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (db_fd_ >= 0) ::close(db_fd_);
}

void Checkpointer::watch(Connection& c) {
  // Also replaces the automatic checkpoint, which is a WAL hook too.
  sqlite3_wal_hook(c.handle(), &Checkpointer::on_commit, this);
  c.exec("PRAGMA journal_size_limit=" + std::to_string(std::int64_t{restart_frames_} * 4096));
}

CheckpointStats Checkpointer::stats() const {
  return {background_.load(), on_commit_.load(), failed_.load(), longest_.load()};
}

// Pages written to the WAL since the last background checkpoint copied them (a WAL that
// started over counts from its beginning).
int Checkpointer::behind(int frames) const {
  int copied = copied_.load(std::memory_order_relaxed);
  return frames >= copied ? frames - copied : frames;
}

bool Checkpointer::due(int frames) const { return behind(frames) >= passive_frames_; }

int Checkpointer::checkpoint(sqlite3* db, const char* schema, bool background) {
  // One checkpoint at a time in this process.
  MutexLock one(checkpoint_mu_);
  return checkpoint_locked(db, schema, background);
}

int Checkpointer::checkpoint_locked(sqlite3* db, const char* schema, bool background) {
  int wal = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied);
  if (rc == SQLITE_OK) {
    (background ? background_ : on_commit_).fetch_add(1, std::memory_order_relaxed);
    copied_.store(copied, std::memory_order_relaxed);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
    // Busy: another process's checkpoint runs; a later commit tries again.
    auto level = (rc & 0xff) == SQLITE_BUSY ? spdlog::level::debug : spdlog::level::warn;
    spdlog::log(level, "sqlite: checkpoint failed: {}", sqlite3_errmsg(db));
  }
  return rc;
}

// Runs on the committing thread, right after its commit (outside the transaction).
int Checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  auto& me = *static_cast<Checkpointer*>(self);
  me.frames_.store(frames, std::memory_order_relaxed);
  if (frames > me.longest_.load(std::memory_order_relaxed)) me.longest_.store(frames, std::memory_order_relaxed);
  if (frames >= me.restart_frames_) {
    // The WAL is long: a commit finishes the copy so that the next writer starts it over. Its
    // checkpoint syncs the WAL and the database file, so it waits until the background thread
    // has left little behind (just after one of its checkpoints) and is not running: then the
    // syncs cover a few megabytes instead of everything since the last one (measured: a commit
    // that waited for a background checkpoint and then copied and synced the rest itself held
    // sends up for ~20 ms). Far past the limit, when the background thread cannot keep up, it
    // finishes regardless, so the WAL stays bounded.
    if (frames >= 2 * me.restart_frames_) {
      me.checkpoint(db, schema, false);
    } else if (me.behind(frames) <= me.finish_frames_) {
      if (me.checkpoint_mu_.try_lock()) {
        me.checkpoint_locked(db, schema, false);
        me.checkpoint_mu_.unlock();
      }
    } else if (!me.asked_.exchange(true)) {
      MutexLock lock(me.mu_);
      me.cv_.notify_one();
    }
  } else if (me.due(frames) && !me.asked_.exchange(true)) {
    MutexLock lock(me.mu_);  // so the wake-up cannot fall between the thread's check and its wait
    me.cv_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::loop() {
  for (;;) {
    {
      MutexLock lock(mu_);
      while (!stopping_ && !asked_.load()) lock.wait(cv_);
      if (stopping_) return;
    }
    int rc = checkpoint(conn_->handle(), nullptr, true);
    // A checkpoint that could not copy the whole WAL (commits went on meanwhile) leaves the
    // pages it copied unsynced; flush them now, off the commit path. (Measured: the commit that
    // finished the copy spent ~13 ms syncing everything the background checkpoints had copied
    // since the WAL last started over.)
    if (rc == SQLITE_OK && db_fd_ >= 0 && ::fdatasync(db_fd_) != 0) {
      spdlog::warn("sqlite: syncing the database file after a checkpoint failed");
    }
    asked_.store(false);
    // A commit during the checkpoint did not ask (asked_ was set): look at the WAL it left.
    if (rc == SQLITE_OK && due(frames_.load(std::memory_order_relaxed))) asked_.store(true);
  }
}

}  // namespace parley::store::sqlite
