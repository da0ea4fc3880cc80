#include "store/sqlite/sqlite_checkpointer.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>

#include "store/sqlite/sqlite_db.hpp"

namespace parley::store::sqlite {

Checkpointer::Checkpointer(const std::string& path, int passive_frames, int restart_frames)
    : passive_frames_(std::max(1, passive_frames)),
      restart_frames_(std::max(passive_frames_, restart_frames)),
      conn_(std::make_unique<Connection>(path)),
      thread_([this] { loop(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
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
bool Checkpointer::due(int frames) const {
  int copied = copied_.load(std::memory_order_relaxed);
  return (frames >= copied ? frames - copied : frames) >= passive_frames_;
}

int Checkpointer::checkpoint(sqlite3* db, const char* schema, bool background) {
  // One checkpoint at a time in this process: a commit past restart_frames waits for the
  // background one to end rather than failing busy and leaving the WAL to grow.
  std::lock_guard one(checkpoint_mu_);
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
    me.checkpoint(db, schema, false);
  } else if (me.due(frames) && !me.asked_.exchange(true)) {
    std::lock_guard lock(me.mu_);  // so the wake-up cannot fall between the thread's check and its wait
    me.cv_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || asked_.load(); });
      if (stopping_) return;
    }
    int rc = checkpoint(conn_->handle(), nullptr, true);
    asked_.store(false);
    // A commit during the checkpoint did not ask (asked_ was set): look at the WAL it left.
    if (rc == SQLITE_OK && due(frames_.load(std::memory_order_relaxed))) asked_.store(true);
  }
}

}  // namespace parley::store::sqlite
