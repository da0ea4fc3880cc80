#include "store/sqlite/wal_write_vfs.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <new>
#include <string>

namespace parley::store::sqlite {

namespace {

constexpr int kFrameHeaderBytes = 24;
constexpr std::size_t kMaxPending = std::size_t{4} << 20;

struct File {
  sqlite3_file base;             // first: what SQLite sees
  sqlite3_file* real = nullptr;  // the default VFS's file object, stored right after this one
  bool wal = false;
  File* peer = nullptr;          // a WAL file's database file, a database file's WAL file (while open)
  std::string pending;           // WAL: the current run of adjacent writes, not yet in the file
  sqlite3_int64 pending_at = 0;  // the file offset of pending[0]
  bool commit_frame = false;     // the last write was a commit frame's header
};

std::atomic<std::uint64_t> g_wal_writes{0}, g_file_writes{0};

constexpr std::size_t kRealOffset = (sizeof(File) + 15) / 16 * 16;

File* as_file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
const sqlite3_io_methods* real_methods(File* f) { return f->real->pMethods; }

// The unix VFS writes at most 128 KiB - 1 bytes per call correctly (it masks larger sizes).
constexpr std::size_t kMaxWrite = 0x1ffff;

// Writes the pending run. On failure the run is dropped: the failure reaches SQLite through the
// operation that asked for the flush, and SQLite rolls the transaction whose frames they were
// back (it writes them again if it needs them) — unless `keep_on_failure` (see x_shm_barrier).
int flush(File* f, bool keep_on_failure = false) {
  for (std::size_t done = 0; done < f->pending.size();) {
    std::size_t n = std::min(kMaxWrite, f->pending.size() - done);
    int rc = real_methods(f)->xWrite(f->real, f->pending.data() + done, static_cast<int>(n),
                                     f->pending_at + static_cast<sqlite3_int64>(done));
    g_file_writes.fetch_add(1, std::memory_order_relaxed);
    if (rc != SQLITE_OK) {
      if (!keep_on_failure) {
        f->pending.clear();
        f->commit_frame = false;
      }
      return rc;
    }
    done += n;
  }
  f->pending.clear();
  return SQLITE_OK;
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = as_file(file);
  if (!f->wal) return real_methods(f)->xWrite(f->real, data, amount, offset);
  g_wal_writes.fetch_add(1, std::memory_order_relaxed);
  if (!f->pending.empty() && offset != f->pending_at + static_cast<sqlite3_int64>(f->pending.size())) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (f->pending.empty()) f->pending_at = offset;
  const auto* bytes = static_cast<const unsigned char*>(data);
  f->pending.append(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(amount));
  if (amount == kFrameHeaderBytes) {
    // Bytes 4-7 of a frame header: the database size after a commit, zero in other frames.
    f->commit_frame = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
    return SQLITE_OK;
  }
  if (f->commit_frame || f->pending.size() >= kMaxPending) {
    f->commit_frame = false;
    return flush(f);
  }
  return SQLITE_OK;
}

int x_close(sqlite3_file* file) {
  File* f = as_file(file);
  int rc = f->wal ? flush(f) : SQLITE_OK;
  if (f->peer) f->peer->peer = nullptr;
  int closed = real_methods(f)->xClose(f->real);
  f->~File();
  return rc != SQLITE_OK ? rc : closed;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xRead(f->real, out, amount, offset);
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) { return real_methods(as_file(file))->xLock(as_file(file)->real, level); }
int x_unlock(sqlite3_file* file, int level) { return real_methods(as_file(file))->xUnlock(as_file(file)->real, level); }
int x_check_reserved_lock(sqlite3_file* file, int* out) {
  return real_methods(as_file(file))->xCheckReservedLock(as_file(file)->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) { return real_methods(as_file(file))->xSectorSize(as_file(file)->real); }
int x_device_characteristics(sqlite3_file* file) {
  return real_methods(as_file(file))->xDeviceCharacteristics(as_file(file)->real);
}

int x_shm_map(sqlite3_file* file, int page, int page_size, int extend, void volatile** out) {
  File* f = as_file(file);
  if (real_methods(f)->iVersion < 2) return SQLITE_IOERR;
  return real_methods(f)->xShmMap(f->real, page, page_size, extend, out);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = as_file(file);
  if (real_methods(f)->iVersion < 2) return SQLITE_IOERR;
  return real_methods(f)->xShmLock(f->real, offset, n, flags);
}

// SQLite passes the barrier before it publishes a new WAL index header: the frames it publishes
// must be in the WAL file by then. The write of a commit frame has written them already, so
// nothing is pending here after a commit; frames still pending belong to a transaction that has
// not committed, and are kept when writing them fails: its commit writes them or fails.
void x_shm_barrier(sqlite3_file* file) {
  File* f = as_file(file);
  if (f->peer) {
    if (int rc = flush(f->peer, true); rc != SQLITE_OK) spdlog::warn("sqlite: writing WAL frames failed ({})", rc);
  }
  if (real_methods(f)->iVersion >= 2) real_methods(f)->xShmBarrier(f->real);
}

int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  File* f = as_file(file);
  if (real_methods(f)->iVersion < 2) return SQLITE_OK;
  return real_methods(f)->xShmUnmap(f->real, delete_flag);
}

int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = as_file(file);
  if (real_methods(f)->iVersion < 3) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return real_methods(f)->xFetch(f->real, offset, amount, out);
}

int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  File* f = as_file(file);
  if (real_methods(f)->iVersion < 3) return SQLITE_OK;
  return real_methods(f)->xUnfetch(f->real, offset, p);
}

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

sqlite3_vfs* real_vfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int v_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = new (file) File();
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  f->real->pMethods = nullptr;
  sqlite3_vfs* real = real_vfs(vfs);
  int rc = real->xOpen(real, name, f->real, flags, out_flags);
  if (!f->real->pMethods) {  // nothing to close: SQLite will not call xClose either
    f->~File();
    file->pMethods = nullptr;
    return rc == SQLITE_OK ? SQLITE_CANTOPEN : rc;
  }
  f->base.pMethods = &kMethods;
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && name) {
    f->wal = true;
    f->pending.reserve(std::size_t{256} * 1024);
    sqlite3_file* db = sqlite3_database_file_object(name);
    if (db && db->pMethods == &kMethods) {
      f->peer = as_file(db);
      f->peer->peer = f;
    }
  }
  return rc;
}

int v_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}
int v_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}
int v_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}
void* v_dl_open(sqlite3_vfs* vfs, const char* name) { return real_vfs(vfs)->xDlOpen(real_vfs(vfs), name); }
void v_dl_error(sqlite3_vfs* vfs, int n, char* out) { real_vfs(vfs)->xDlError(real_vfs(vfs), n, out); }
void (*v_dl_sym(sqlite3_vfs* vfs, void* lib, const char* sym))(void) {
  return real_vfs(vfs)->xDlSym(real_vfs(vfs), lib, sym);
}
void v_dl_close(sqlite3_vfs* vfs, void* lib) { real_vfs(vfs)->xDlClose(real_vfs(vfs), lib); }
int v_randomness(sqlite3_vfs* vfs, int n, char* out) { return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out); }
int v_sleep(sqlite3_vfs* vfs, int us) { return real_vfs(vfs)->xSleep(real_vfs(vfs), us); }
int v_current_time(sqlite3_vfs* vfs, double* out) { return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out); }
int v_get_last_error(sqlite3_vfs* vfs, int n, char* out) { return real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out); }
int v_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
}

}  // namespace

WalWriteStats wal_write_stats() {
  return {g_wal_writes.load(std::memory_order_relaxed), g_file_writes.load(std::memory_order_relaxed)};
}

const char* wal_write_vfs() {
  static const char* const name = [] {
    static sqlite3_vfs vfs{};
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    vfs.iVersion = 2;  // up to xCurrentTimeInt64; the system-call overrides are not offered
    vfs.szOsFile = static_cast<int>(kRealOffset) + real->szOsFile;
    vfs.mxPathname = real->mxPathname;
    vfs.zName = "parley-wal-write";
    vfs.pAppData = real;
    vfs.xOpen = v_open;
    vfs.xDelete = v_delete;
    vfs.xAccess = v_access;
    vfs.xFullPathname = v_full_pathname;
    vfs.xDlOpen = v_dl_open;
    vfs.xDlError = v_dl_error;
    vfs.xDlSym = v_dl_sym;
    vfs.xDlClose = v_dl_close;
    vfs.xRandomness = v_randomness;
    vfs.xSleep = v_sleep;
    vfs.xCurrentTime = v_current_time;
    vfs.xGetLastError = v_get_last_error;
    vfs.xCurrentTimeInt64 = v_current_time_int64;
    if (int rc = sqlite3_vfs_register(&vfs, 0); rc != SQLITE_OK) {
      spdlog::warn("sqlite: cannot register the WAL write VFS ({}); using the default", rc);
      return static_cast<const char*>(nullptr);
    }
    return static_cast<const char*>(vfs.zName);
  }();
  return name;
}

}  // namespace parley::store::sqlite
