#pragma once
// A SQLite VFS over the system's default one that writes each transaction's WAL frames to the
// file in one system call instead of two per frame.
//
// SQLite writes a WAL frame as two writes: its 24-byte header, then the page. On this kernel each
// write costs its own pass through the filesystem for every page-cache page it touches, so a
// frame costs three such passes (the header's page, and the two pages a 4 KiB page straddles
// after the 32-byte file header) where one large write costs about one: in a profile of the send
// path those passes were a third of the committing thread's time.
//
// The VFS keeps the frames of the WAL file's current run of adjacent writes in memory and writes
// them out:
//  - right after the page of a commit frame (its header carries the database size; other frames
//    carry zero), inside that xWrite, so a failure fails the commit as before, and the frames are
//    in the file before SQLite publishes them to readers in the WAL index;
//  - before any other operation on the WAL file (read, sync, truncate, size, file control,
//    close), before a write that does not continue the run, and past 4 MiB;
//  - at the database file's shared-memory barrier, which SQLite passes before publishing a new
//    WAL index header (a second guard: nothing is pending there after a commit).
// The database file and every other file go straight through. Durability is unchanged: a commit
// returns after its frames reached the operating system, as without the VFS, and syncs happen
// when they happened before.
#include <cstdint>

namespace parley::store::sqlite {

/// The VFS's name; registered (not as the default) on first call. Thread-safe.
const char* wal_write_vfs();

/// What the VFS did since the process started (for tests and diagnostics).
struct WalWriteStats {
  std::uint64_t wal_writes = 0;   // writes SQLite asked for on WAL files
  std::uint64_t file_writes = 0;  // writes the VFS made to WAL files
};
WalWriteStats wal_write_stats();

}  // namespace parley::store::sqlite
